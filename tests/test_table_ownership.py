"""Each table has one owning app: only that app's code writes it.

The demo seeder writes every app's tables (through the services, or set-based as the
services would: grants, listings, orders, refunds, clearing, payouts, audits). Every INSERT,
UPDATE, DELETE and COPY it sends is traced back to the first frame of our code outside
core (core's helpers write on behalf of their caller), and that frame's app
must own the table. An app that needs another's rows changed calls the owning
app's service, as settlements calls marketplace's orders_clear.
"""

import io
import re
import traceback
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
# Django's own user and token tables are written through accounts.
OWNER_ALIASES = {"auth": "accounts", "authtoken": "accounts"}
WRITE = re.compile(r'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+"?(\w+)"?', re.IGNORECASE)


def _owners() -> dict[str, str]:
    owners = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.app_label
        owners[model._meta.db_table] = OWNER_ALIASES.get(label, label)
    return owners


def _writing_app() -> tuple[str, str] | None:
    """The app whose code sent the statement, and where; None for tests and libraries."""
    for frame in reversed(traceback.extract_stack()):
        path = Path(frame.filename)
        if path == HERE or not path.is_relative_to(ROOT) or ".venv" in path.parts:
            continue
        relative = path.relative_to(ROOT)
        app = relative.parts[0]
        if app == "core" or app == "config":
            continue
        if app == "tests":
            return None
        return app, f"{relative}:{frame.lineno}"
    return None


@pytest.mark.django_db
def test_only_the_owning_app_writes_a_table():
    owners = _owners()
    trespasses: dict[tuple[str, str], set[str]] = {}
    writes = 0

    def check(execute, sql, params, many, context):
        nonlocal writes
        tables = {name for name in WRITE.findall(sql) if name in owners}
        if tables:
            writer = _writing_app()
            if writer is not None:
                writes += 1
                app, where = writer
                for table in tables:
                    if owners[table] != app:
                        trespasses.setdefault((app, table), set()).add(where)
        return execute(sql, params, many, context)

    # when the whole exchange is seeded through the services
    with connection.execute_wrapper(check):
        call_command("seed_demo", scale=0.01, quiet=True, stdout=io.StringIO())
    # then every write came from the app that owns its table
    assert writes > 100, "the seeder should have written through every app"
    assert not trespasses, "\n".join(
        f"{app} writes {table} at {', '.join(sorted(where))}"
        for (app, table), where in sorted(trespasses.items())
    )
