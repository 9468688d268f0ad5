"""Every message the exchange raises to a person goes through gettext.

Walks our source with ``ast`` and fails for each ``raise X(...)`` of a
user-facing exception whose message is a plain string or an f-string instead
of ``_("...")`` / ``gettext(...)`` (optionally ``% {...}``). Internal errors
(ValueError, RuntimeError, LedgerImbalance, ...) are out of scope.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

USER_FACING = {
    "BusinessRuleViolation",
    "Conflict",
    "InvalidTransition",
    "MoneyError",
    "BrokerUnavailable",
    "InputRefused",
    "ValidationError",
    "PermissionDenied",
    "NotFound",
}
GETTEXT = {
    "_",
    "gettext",
    "gettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
}
SKIP_DIRS = {".venv", "tests", "migrations", "bench", "scripts", "node_modules", ".git"}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _untranslated(node: ast.expr) -> bool:
    """A plain string literal or f-string (also one formatted with % or .format)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _untranslated(node.left) or _untranslated(node.right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        return _untranslated(node.func.value)
    return False


def _sources() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if SKIP_DIRS & set(rel.parts):
            continue
        found.append(path)
    return sorted(found)


def _bad_lines(source: str, filename: str) -> list[tuple[int, str]]:
    bad = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        call = node.exc
        if _name(call.func) not in USER_FACING:
            continue
        args = list(call.args)
        args += [k.value for k in call.keywords if k.arg in {"detail", "message", "msg"}]
        if any(_untranslated(arg) for arg in args):
            bad.append((node.lineno, _name(call.func)))
    return bad


def untranslated_raises(paths: list[Path]) -> list[str]:
    bad = []
    for path in paths:
        for lineno, name in _bad_lines(path.read_text(encoding="utf-8"), str(path)):
            bad.append(f"{path.relative_to(ROOT)}:{lineno}: {name}")
    return bad


def test_raised_messages_go_through_gettext():
    bad = untranslated_raises(_sources())
    assert not bad, "messages raised to people without gettext:\n" + "\n".join(bad)


def test_checker_catches_plain_and_fstrings():
    sample = (
        "def f(x):\n"
        "    raise Conflict('plain')\n"
        "def g(x):\n"
        "    raise BusinessRuleViolation(f'fmt {x}', field='x')\n"
        "def h(x):\n"
        "    raise Conflict(_('ok %(x)s') % {'x': x})\n"
        "def i(x):\n"
        "    raise ValueError('internal')\n"
        "def j(x):\n"
        "    raise InvalidTransition(model_label='m', current='a', target='b', detail=f'{x}')\n"
    )
    assert [line for line, _name in _bad_lines(sample, "sample.py")] == [2, 4, 10]
