#!/usr/bin/env python3
"""The exchange's translation catalogs (locale/<lang>/LC_MESSAGES/*.po).

    python scripts/catalog.py compile     # .po -> .mo where the .mo is missing or older
    python scripts/catalog.py missing     # list entries without a translation, or fuzzy
    python scripts/catalog.py tidy        # after makemessages: drop the churning header date

Compiling needs only Babel (pinned in requirements.lock), not GNU gettext, so
a bare machine shows the admin in Chinese after `make run`. Extracting messages
(`make messages`) does need gettext's xgettext and msgmerge, as Django's
makemessages always has.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def po_files() -> list[Path]:
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def shown(path: Path) -> Path:
    """A path as the project's user reads it: relative to the project when inside it."""
    return path.relative_to(LOCALE_DIR.parent) if LOCALE_DIR.parent in path.parents else path


def read_catalog(po_path: Path):
    # The language is the folder's name (locale/zh_Hans/LC_MESSAGES/django.po).
    language = po_path.parent.parent.name if po_path.parent.name == "LC_MESSAGES" else None
    with po_path.open("rb") as handle:
        return read_po(handle, locale=language)


def untranslated(po_path: Path) -> list[tuple[str | None, str, str]]:
    """(context, msgid, "empty" or "fuzzy") for every entry lacking a usable translation."""
    problems = []
    for message in read_catalog(po_path):
        if not message.id:
            continue  # the header
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        if message.fuzzy:
            problems.append((message.context, msgid, "fuzzy"))
        elif not all(strings):
            problems.append((message.context, msgid, "empty"))
    return problems


def compile_catalogs(paths: list[Path], *, force: bool = False) -> None:
    for po_path in paths:
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalog = read_catalog(po_path)
        tmp_path = mo_path.with_suffix(".mo.tmp")
        with tmp_path.open("wb") as handle:
            # Fuzzy entries stay out: a guessed translation is worse than English.
            write_mo(handle, catalog, use_fuzzy=False)
        tmp_path.replace(mo_path)
        translated = sum(1 for m in catalog if m.id and m.string and not m.fuzzy)
        print(f"compiled {shown(mo_path)} ({translated} messages)")


def tidy(paths: list[Path]) -> None:
    """Remove POT-Creation-Date, which msgmerge rewrites on every run.

    Without it, two people regenerating the catalog on different branches do
    not collide on the header line.
    """
    for po_path in paths:
        text = po_path.read_text(encoding="utf-8")
        tidied = re.sub(r'^"POT-Creation-Date: [^"]*\\n"\n', "", text, flags=re.MULTILINE)
        if tidied != text:
            po_path.write_text(tidied, encoding="utf-8")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "missing"
    paths = [Path(arg).resolve() for arg in argv[2:] if not arg.startswith("--")] or po_files()
    if command == "compile":
        compile_catalogs(paths, force="--force" in argv)
    elif command == "tidy":
        tidy(paths)
    elif command == "missing":
        total = 0
        for po_path in paths:
            for context, msgid, why in untranslated(po_path):
                total += 1
                where = f" [context: {context}]" if context else ""
                print(f"{shown(po_path)}: {why}: {msgid!r}{where}")
        print(f"{total} entries to translate" if total else "every entry is translated")
        return 1 if total else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
