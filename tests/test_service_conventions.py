"""The house rules for services, read off the code so that new services follow them.

Every public function of an app's services that takes the person acting takes
it as a typed `actor`, keyword-only (guards such as `require_operator(actor)`,
which read as sentences, take it first and positionally).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE_FILES = sorted(
    path
    for pattern in ("*/services.py", "*/services/*.py")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)
GUARD_PREFIXES = ("require_",)
GUARD_INFIXES = ("_may_",)


def _public_functions(path: Path):
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield node


def test_the_services_are_found():
    assert len(SERVICE_FILES) > 20


@pytest.mark.parametrize("path", SERVICE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_service_types_its_actor_and_takes_it_by_keyword(path):
    problems = []
    for function in _public_functions(path):
        arguments = function.args
        keyword_only = {a.arg for a in arguments.kwonlyargs}
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if argument.arg != "actor":
                continue
            if argument.annotation is None:
                problems.append(f"{function.name}: actor has no type")
            guard = function.name.startswith(GUARD_PREFIXES) or any(
                infix in function.name for infix in GUARD_INFIXES
            )
            if "actor" not in keyword_only and not guard:
                problems.append(f"{function.name}: actor is not keyword-only")
    assert not problems, problems
