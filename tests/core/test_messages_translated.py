"""Every message the exchange shows a person goes through gettext.

Walks our source with ``ast`` and fails for

- each ``raise X(...)`` of a user-facing exception whose message is a plain
  string or an f-string instead of ``_("...")`` / ``gettext(...)`` (optionally
  ``% {...}``); internal errors (ValueError, RuntimeError, LedgerImbalance, ...)
  are out of scope;
- raw English reaching a person by another way: the message of
  ``messages.success/error/...``, ``message_user`` and ``add_error``, a
  ``ValidationError`` built anywhere, an admin ``short_description`` or the
  ``description`` of ``@admin.display``/``@admin.action``, a ``verbose_name``,
  ``help_text``, ``label``, ``empty_label`` or an operator page's ``title``.

A value is followed through the names it is held in: a module constant, a
class attribute or a local variable assigned a raw English string (or a dict or
list of them, read by subscript) counts as that string. English is a run of two
Latin letters; punctuation and Chinese fixed text pass.
"""

from __future__ import annotations

import ast
import re
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


ENGLISH = re.compile(r"[A-Za-z]{2,}")

# Calls whose message argument a person reads: name -> index of that argument.
MESSAGE_CALLS = {
    "success": 1,
    "error": 1,
    "warning": 1,
    "info": 1,
    "debug": 1,
    "add_message": 2,
    "message_user": 1,
    "add_error": 1,
    # an order page's move: Move("cancel", title, reason_label=...)
    "Move": 1,
    # DRF's refusal, its message given by keyword
    "permission_denied": 99,
    # user-facing exceptions built anywhere, their message held in a name or not
    **{name: 0 for name in USER_FACING},
}
# `messages.error(request, ...)`: only these receivers are Django's messages framework
MESSAGE_RECEIVERS = {"messages"}
# Keywords a person reads wherever they are given (fields, forms, admin displays).
READ_KEYWORDS = {"verbose_name", "verbose_name_plural", "help_text", "label", "empty_label",
                 "short_description", "done_message", "reason_label", "amount_label",
                 "note_label"}  # fmt: skip
# Keywords a person reads on these calls only.
READ_KEYWORDS_OF = {"description": {"display", "action"}, "title": {"OperatorPage"}}
# Attributes and class attributes a person reads.
READ_ATTRIBUTES = {
    "short_description",
    "verbose_name",
    "verbose_name_plural",
    "help_text",
    "message",
}  # fmt: skip  (`message` of a DRF permission or a form)


def _english(node: ast.expr | None, values: dict[str, list[ast.expr]], depth: int = 0) -> bool:
    """Whether the expression is (or holds, through names) raw English text."""
    if node is None or depth > 5:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(ENGLISH.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_english(part, values, depth + 1) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _english(node.left, values, depth + 1) or (
            isinstance(node.op, ast.Add) and _english(node.right, values, depth + 1)
        )
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
            return _english(node.func.value, values, depth + 1)
        return False  # gettext, str(exc), a helper: judged where its text is written
    if isinstance(node, ast.IfExp):
        return _english(node.body, values, depth + 1) or _english(node.orelse, values, depth + 1)
    if isinstance(node, ast.Name):
        return any(_english(value, values, depth + 1) for value in values.get(node.id, []))
    if isinstance(node, ast.Attribute) and _name(node.value) in ("self", "cls"):
        # a class attribute read through the instance: `self.message = self.owner_message`
        return any(_english(value, values, depth + 1) for value in values.get(node.attr, []))
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return any(
            _english(item, values, depth + 1)
            for held in values.get(node.value.id, [])
            for item in _items(held)
        )
    return False


def _items(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.Dict):
        return [v for v in node.values if v is not None]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return list(node.elts)
    return []


def _assigned(tree: ast.AST) -> dict[str, list[ast.expr]]:
    """Every value each plain name is assigned anywhere in the module (constants, locals)."""
    values: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                values.setdefault(target.id, []).append(value)
    return values


def _english_lines(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, what) for each raw English string that reaches a person other than by raise.

    The API's serializers are left their `help_text` and `label`: those document the
    schema for integrators, which is written in English like the rest of the schema.
    Their error messages are still checked.
    """
    tree = ast.parse(source, filename=filename)
    schema_docs = "api" in Path(filename).parts or Path(filename).name == "api.py"
    values = _assigned(tree)
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            index = MESSAGE_CALLS.get(name)
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            is_messages = name in {"success", "error", "warning", "info", "debug", "add_message"}
            if is_messages and (receiver is None or _name(receiver) not in MESSAGE_RECEIVERS):
                index = None
            if index is not None:
                args = list(node.args)
                message = args[index] if len(args) > index else None
                given = next(
                    (k.value for k in node.keywords if k.arg in {"message", "msg", "detail"}), None
                )
                if _english(message, values) or _english(given, values):
                    bad.append((node.lineno, name))
            for keyword in node.keywords:
                readers = READ_KEYWORDS_OF.get(keyword.arg or "")
                read = (keyword.arg in READ_KEYWORDS and not schema_docs) or (
                    readers is not None and name in readers
                )
                if read and _english(keyword.value, values):
                    bad.append((node.lineno, f"{name}({keyword.arg}=...)"))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                attribute = (
                    target.attr if isinstance(target, ast.Attribute)
                    else target.id if isinstance(target, ast.Name) else ""
                )  # fmt: skip
                if attribute in READ_ATTRIBUTES and _english(node.value, values):
                    bad.append((node.lineno, attribute))
    return bad


def untranslated_english(paths: list[Path]) -> list[str]:
    bad = []
    for path in paths:
        for lineno, what in _english_lines(path.read_text(encoding="utf-8"), str(path)):
            bad.append(f"{path.relative_to(ROOT)}:{lineno}: {what}")
    return bad


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


def test_english_reaching_people_goes_through_gettext():
    bad = untranslated_english(_sources())
    assert not bad, "raw English shown to people without gettext:\n" + "\n".join(bad)


def test_checker_follows_names_and_constants_to_the_user():
    sample = (
        "DONE = 'All done.'\n"  # 1
        "LABELS = {'a': 'Alpha'}\n"  # 2
        "OK = _('Fine.')\n"  # 3
        "def f(self, request, exc):\n"  # 4
        "    messages.success(request, DONE)\n"  # 5: a constant
        "    messages.error(request, OK)\n"  # 6: translated
        "    note = f'Failed: {exc}'\n"  # 7
        "    self.message_user(request, note)\n"  # 8: a local f-string
        "    self.message_user(request, f'{exc}: {exc}')\n"  # 9: no words of ours
        "    errors.append(ValidationError(LABELS['a']))\n"  # 10: a dict of constants
        "    field = forms.CharField(label='Name', help_text=_('Yours.'))\n"  # 11: label
        "    logger.error('internal %s', exc)\n"  # 12: a log, not a person
        "    form.add_error('field', DONE)\n"  # 13
        "    show.short_description = 'Show it'\n"  # 14
        "    return OperatorPage(slug='x', title='Run it')\n"  # 15
        "@admin.display(description='Amount')\n"  # 16
        "def g(obj):\n"
        "    return '长沙'\n"
        "class P:\n"
        "    owner_message = 'Owners only.'\n"
        "    def has_permission(self):\n"
        "        self.message = self.owner_message\n"  # 22: through the class attribute
    )
    assert sorted(line for line, _what in _english_lines(sample, "sample.py")) == [
        5, 8, 10, 11, 13, 14, 15, 16, 22
    ]  # fmt: skip
