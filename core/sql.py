"""Pieces for the statements the exchange writes in SQL itself (hot paths, set moves, audits)."""

import datetime as dt

from django.db import connection
from django.utils import timezone


def quoted_table(model) -> str:
    """The model's table as an identifier for written SQL.

    Table names come from the models, never from input; every value in such
    a statement is a query parameter.
    """
    return connection.ops.quote_name(model._meta.db_table)


def analyze(*tables: str) -> None:
    """ANALYZE these tables (PostgreSQL; elsewhere nothing).

    For the jobs that move a large share of a table at once (a cleared day),
    so the next plans see the rows as they now are. ANALYZE samples a fixed
    number of rows: about a second on a million-row table.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def aware_utc(value: dt.datetime) -> dt.datetime:
    """A time read by written SQL, aware: SQLite gives naive UTC, PostgreSQL aware times."""
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)
