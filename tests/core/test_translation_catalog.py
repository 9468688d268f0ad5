"""The translation catalogs: every message of ours in Chinese and English, none fuzzy,
none colliding with Django's own words, and the admin in Chinese by default."""

import gettext
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.apps import apps

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import catalog

LANGUAGES = ["zh_Hans", "en"]
#: What `make messages` leaves out of extraction, read from the Makefile itself.
MESSAGES_IGNORE = re.search(
    r"^MESSAGES_IGNORE := (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE
).group(1)
#: Directories not copied when the catalog is regenerated in a scratch folder.
NOT_SOURCE = {".venv", "var", "node_modules", ".git", "__pycache__", ".pytest_cache", "tests"}


def po_path(language: str) -> Path:
    return ROOT / "locale" / language / "LC_MESSAGES" / "django.po"


def describe(problems) -> str:
    return "\n".join(
        f"  {why}: {msgid!r}" + (f" [context {ctx!r}]" if ctx else "")
        for ctx, msgid, why in problems
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_in_the_catalog_is_translated_and_not_fuzzy(language):
    # given the committed catalog
    # when its entries are read
    problems = catalog.untranslated(po_path(language))
    # then none is empty or fuzzy
    assert not problems, (
        f"{len(problems)} entries of locale/{language} lack a translation "
        f"(fill them in, remove the fuzzy flag):\n{describe(problems)}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_message(language):
    # given the committed catalog, read as gettext reads it
    with po_path(language).open("rb") as handle:
        parsed = read_po(handle, locale=language)
    # when Babel's checks (python-format placeholders) run over every entry
    errors = [(m.id, [str(e) for e in errs]) for m, errs in parsed.check()]
    # then a translation never drops, adds or renames a %(name)s
    assert not errors, errors


@pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgmerge")),
    reason="needs GNU gettext (xgettext, msgmerge) to extract messages; apt-get install gettext",
)
def test_catalog_holds_every_message_of_the_code_and_templates(tmp_path):
    # given a copy of the source with the committed catalogs
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in NOT_SOURCE])
    # when the messages are extracted afresh, as `make messages` does
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    extract = ["makemessages", "-l", "zh_Hans", "--no-obsolete", *MESSAGES_IGNORE.split()]
    subprocess.run(  # noqa: S603 (manage.py of the copy, run by this interpreter)
        [sys.executable, "manage.py", *extract],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    # then every message found is translated in the committed catalog
    problems = catalog.untranslated(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert not problems, (
        f"{len(problems)} messages of the code have no Chinese translation: run `make messages` "
        f"and translate them in locale/zh_Hans/LC_MESSAGES/django.po:\n{describe(problems)}"
    )


def _installed_zh_hans_catalogs() -> list[Path]:
    """Django's own catalog and every installed app's, outside this project."""
    django_dir = Path(importlib.util.find_spec("django").origin).parent
    roots = [django_dir / "conf"] + [
        Path(config.path)
        for config in apps.get_app_configs()
        if ROOT not in Path(config.path).parents
    ]
    return [
        path
        for root in roots
        for path in (root / "locale" / "zh_Hans" / "LC_MESSAGES").glob("*.po")
    ]


def test_our_words_shared_with_django_carry_a_context_or_mean_the_same():
    # given the messages Django and the installed apps translate themselves
    theirs: dict[str, set[str]] = {}
    for path in _installed_zh_hans_catalogs():
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and not message.context and isinstance(message.id, str):
                    theirs.setdefault(message.id, set()).add(message.string)
    assert "Order" in theirs, "Django's admin catalog was not found"
    # when ours are compared with them
    with po_path("zh_Hans").open("rb") as handle:
        ours = read_po(handle, locale="zh_Hans")
    collisions = [
        (m.id, m.string, sorted(theirs[m.id]))
        for m in ours
        if m.id and not m.context and m.id in theirs and m.string not in theirs[m.id]
    ]
    # then a shared word without a context translates as Django translates it: ours
    # would otherwise replace Django's meaning on Django's own pages
    assert not collisions, (
        f"give these a context (pgettext_lazy / {{% translate ... context ... %}}): {collisions}"
    )


def test_the_compiled_catalog_needs_no_gettext_and_keeps_contexts(tmp_path):
    # given a copy of the Chinese catalog
    copy = tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(po_path("zh_Hans"), copy)
    # when it is compiled by the project's own compiler (Babel, no msgfmt)
    catalog.compile_catalogs([copy], force=True)
    # then Python's gettext reads it, with and without a context
    with copy.with_suffix(".mo").open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    assert translations.gettext("Changsha") == "长沙市"
    assert translations.pgettext("the order a ledger line belongs to", "Order") == "订单"


@pytest.mark.django_db
def test_the_admin_speaks_chinese_by_default_and_english_when_asked(client):
    # given the login page of the admin
    # when it is asked for with no language, in Chinese and in English
    default = client.get("/admin/login/").content.decode()
    chinese = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    english = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    # then the exchange's own header follows the language, Chinese first
    assert "数据交易所交易后台" in default
    assert "数据交易所交易后台" in chinese
    assert "Data exchange trading backend" in english
