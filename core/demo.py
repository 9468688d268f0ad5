"""What the apps' demo seeders share (see `manage.py seed_demo`).

Each app's `demo.py` writes its own tables, set-based: rows are built in
Python from one seeded random source and written in bulk (COPY on
PostgreSQL, executemany on SQLite) with ids chosen here, so rows of
different apps can point at each other before any of them is written, and
the same seed on the same day gives the same rows. What a seeder writes is
what the services would have written for the same story: the audit sweep
and the hash chain check it afterwards.
"""

import contextlib
import datetime as dt
import functools
import io
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection

DEMO_OPERATOR = ("operator", "operator-demo-2024")
DEMO_MERCHANT_OWNER = ("merchant", "merchant-demo-2024")
# Important-grade data needs a second, different operator to approve it.
DEMO_SECOND_OPERATOR = ("operator2", "operator2-demo-2024")

# The report's figures (2024 work report of the provincial data bureau): scale 1.
REPORT = {
    "merchants": 433,
    "listed_products": 3859,
    "weather_products": 834,
    "weather_volume_bytes": 2_150_400_000_000_000,  # 2,150.4 TB (decimal terabytes)
    "provincial_entries": 4096,
    "city_entries": 24836,
    "turnover_fen": 1_200_000_000_00,  # 累计交易额突破12亿元
    "changsha_scenarios": 16,
}
# The trade history covers this many months before today.
HISTORY_MONTHS = 18
# One business day of the benchmark data set: accepted orders ready to clear, per unit of scale.
DAY_ORDERS_PER_SCALE = 10_000


def scaled(figure: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(figure * scale))


class Progress:
    """One progress bar per stage: label, bar, done/total, rate and elapsed time (stderr)."""

    WIDTH = 24

    def __init__(
        self,
        label: str,
        total: int,
        *,
        stream=None,
        quiet: bool = False,
        started: float | None = None,
    ):
        self.label = label
        self.total = max(int(total), 0)
        self.done = 0
        self.started = time.monotonic() if started is None else started
        self.shown = 0.0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self._draw()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.shown >= 0.25:
            self.shown = now
            self._draw()

    def finish(self) -> float:
        self.done = max(self.done, self.total)
        self._draw(final=True)
        return time.monotonic() - self.started

    def _draw(self, final: bool = False) -> None:
        if self.quiet:
            return
        if not final and not getattr(self.stream, "isatty", lambda: False)():
            return  # a log file gets the finished line only
        elapsed = time.monotonic() - self.started
        share = self.done / self.total if self.total else 1.0
        filled = int(self.WIDTH * min(share, 1.0))
        rate = self.done / elapsed if elapsed > 0 else 0.0
        line = (
            f"\r  {self.label:<26} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{self.done:>9,}/{self.total:<9,} {rate:>9,.0f}/s {elapsed:6.1f} s"
        )
        if not getattr(self.stream, "isatty", lambda: False)():
            line = line.lstrip("\r")
        self.stream.write(line + ("\n" if final else ""))
        self.stream.flush()


def _local_today() -> dt.date:
    # Imported late: the seeding context is built before Django's settings
    # matter to anything else in this module.
    from django.utils import timezone

    return timezone.localdate()


@dataclass
class DemoContext:
    """What the seeders share: scale, random source, the day the history ends, ids made."""

    rng: random.Random
    scale: float = 1.0
    seed: int = 2024
    today: dt.date = field(default_factory=lambda: _local_today())
    trading: str = "history"  # "history", "day" (benchmark day) or "none"
    write: Callable[[str], object] = print
    quiet: bool = False
    made: dict = field(default_factory=dict)
    _next_ids: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    # --- randomness and time -------------------------------------------------------------

    def rng_for(self, name: str) -> random.Random:
        """A random source of its own per stage, so one stage's draws never shift another's."""
        return random.Random(f"{self.seed}:{name}")

    def local(self, day: dt.date, seconds: float = 0.0) -> dt.datetime:
        """An aware datetime `seconds` after local midnight of `day` (Asia/Shanghai)."""
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
        return midnight + dt.timedelta(seconds=seconds)

    # --- ids and bulk writes -------------------------------------------------------------

    def ids(self, model, count: int) -> range:
        """The next `count` primary keys of `model`'s table, reserved for this seeding."""
        table = model._meta.db_table
        if table not in self._next_ids:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
                self._next_ids[table] = cursor.fetchone()[0] + 1
        first = self._next_ids[table]
        self._next_ids[table] = first + count
        return range(first, first + count)

    def stage(self, label: str, total: int, *, started: float | None = None) -> Progress:
        return Progress(label, total, quiet=self.quiet, started=started)

    def insert(self, model, columns: list[str], rows, *, progress: Progress | None = None) -> int:
        """Write rows (tuples in `columns` order, ids included) into `model`'s table."""
        return bulk_insert(model, columns, rows, progress=progress)

    def finish_ids(self) -> None:
        """Move the tables' id sequences past the ids chosen here (PostgreSQL)."""
        if connection.vendor != "postgresql":
            return
        from django.apps import apps

        models = [m for m in apps.get_models() if m._meta.db_table in self._next_ids and m._meta.pk]
        statements = connection.ops.sequence_reset_sql(no_style(), models)
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _copy_escape(value: str) -> str:
    # Most strings hold none of COPY's special characters: four scans beat four copies.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _copy_json(value) -> str:
    return _copy_escape(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _copy_text(value) -> str:
    """Any value in COPY's text format: the slow path for types _COPY_FORMATS does not list."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dict | list):
        return _copy_json(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return _copy_escape(str(value))


# The formatter of each common type, looked up by exact type: at 100 times the scale
# COPY formats some 60 million values, and a chain of isinstance checks per value
# was a large part of the seeding. Subclasses (TextChoices members) take _copy_text.
_COPY_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _copy_escape,
    int: str,
    bool: lambda value: "t" if value else "f",
    type(None): lambda _value: r"\N",
    dt.datetime: dt.datetime.isoformat,
    dt.date: dt.date.isoformat,
    dict: _copy_json,
    list: _copy_json,
}


def copy_line(row) -> str:
    """One row in COPY's text format, with its newline."""
    formats = _COPY_FORMATS
    return "\t".join([formats.get(type(v), _copy_text)(v) for v in row]) + "\n"


def _lite_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


BLOCK_ROWS = 20_000


def bulk_insert(model, columns: list[str], rows, *, progress: Progress | None = None) -> int:
    """COPY (PostgreSQL) or executemany (SQLite) `rows` into the table; returns the count."""
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statement = f"COPY {table} ({quoted}) FROM STDIN"

            line = copy_line

            def copy_rows(sql, _params, _many, _context):
                nonlocal written
                with cursor.cursor.copy(sql) as copy:
                    block = io.StringIO()
                    pending = 0
                    for row in rows:
                        block.write(line(row))
                        pending += 1
                        if pending == BLOCK_ROWS:
                            copy.write(block.getvalue())
                            block = io.StringIO()
                            written += pending
                            if progress:
                                progress.advance(pending)
                            pending = 0
                    if pending:
                        copy.write(block.getvalue())
                        written += pending
                        if progress:
                            progress.advance(pending)

            # Through the connection's execute wrappers, like every other statement, so
            # query logging and the table-ownership test see the COPY too.
            cursor._execute_with_wrappers(statement, None, False, copy_rows)
        else:
            marks = ", ".join(["%s"] * len(columns))
            statement = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608
            batch = []
            for row in rows:
                batch.append([_lite_value(v) for v in row])
                if len(batch) == BLOCK_ROWS:
                    cursor.executemany(statement, batch)
                    written += len(batch)
                    if progress:
                        progress.advance(len(batch))
                    batch = []
            if batch:
                cursor.executemany(statement, batch)
                written += len(batch)
                if progress:
                    progress.advance(len(batch))
    return written


def copy_lines(model, columns: list[str], lines, *, progress: Progress | None = None) -> int:
    """COPY lines already in COPY's text format (newline included) into the table
    (PostgreSQL only); returns the count."""
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    statement = f"COPY {table} ({quoted}) FROM STDIN"
    written = 0
    with connection.cursor() as cursor:

        def copy_rows(sql, _params, _many, _context):
            nonlocal written
            with cursor.cursor.copy(sql) as copy:
                block: list[str] = []
                for line in lines:
                    block.append(line)
                    if len(block) == BLOCK_ROWS:
                        copy.write("".join(block))
                        written += len(block)
                        if progress:
                            progress.advance(len(block))
                        block = []
                if block:
                    copy.write("".join(block))
                    written += len(block)
                    if progress:
                        progress.advance(len(block))

        cursor._execute_with_wrappers(statement, None, False, copy_rows)
    return written


class BulkLoad:
    """The secondary indexes and foreign keys of the bulk-written tables, set aside and rebuilt.

    PostgreSQL only. Every row COPY writes into a table updates each of its
    indexes (products have 32, three of them trigram GIN) and queues one check
    per foreign key, run row by row at commit: at 100 times the scale that is
    most of the seeding. Built once over the loaded table instead, an index is
    a sort, and a foreign key one anti-join. The primary keys stay (the seeders
    look rows up by id), and so do unique constraints a foreign key depends on
    and check constraints; everything else is dropped inside the seeding's
    transaction and recreated under its own name and definition before the
    transaction ends, so a duplicate or a dangling reference fails the seeding
    as it would have at commit.

    A rebuild can run in the background: a thread sends its statements on the
    same connection (the same transaction) while the seeding goes on building
    rows in Python, so the database's core builds indexes while ours makes
    orders. Any statement of the seeding waits for the rebuild to finish first
    (`wait_before`, an execute wrapper), so the two never share the connection.
    """

    # For the index builds and the foreign keys' anti-joins (transaction-local).
    MAINTENANCE_WORK_MEM = "1GB"
    WORK_MEM = "256MB"

    def __init__(self, models):
        self.models = list(models)
        self.tables = sorted({m._meta.db_table for m in self.models})
        self.indexes: list[tuple[str, str]] = []  # (table, CREATE INDEX ...)
        self.constraints: list[tuple[str, str, str]] = []  # (table, name, definition)
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._background: tuple[str, int, float] | None = None  # label, statements, started
        self._stopping = False

    def set_aside(self) -> None:
        """Drop the tables' foreign keys, unique constraints and indexes, remembering them."""
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{self.MAINTENANCE_WORK_MEM}'")
            cursor.execute(f"SET LOCAL work_mem = '{self.WORK_MEM}'")
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
                " FROM pg_constraint c"
                " WHERE c.conrelid = ANY(%s::regclass[]) AND (c.contype = 'f' OR"
                " (c.contype = 'u' AND NOT EXISTS (SELECT 1 FROM pg_constraint f"
                "  WHERE f.contype = 'f' AND f.conindid = c.conindid)))"
                " ORDER BY c.contype DESC, 1, 2",
                [self.tables],
            )
            # Unique constraints first ('u' > 'f'), foreign keys after them.
            self.constraints = cursor.fetchall()
            for table, name, _definition in self.constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cursor.execute(
                "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text,"
                " pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
                " ORDER BY 1, 2",
                [self.tables],
            )
            rows = cursor.fetchall()
            self.indexes = [(table, definition) for table, _name, definition in rows]
            for _table, name, _definition in rows:
                cursor.execute(f"DROP INDEX {name}")

    def _statements(self, models) -> list[str]:
        tables = sorted({m._meta.db_table for m in models} & set(self.tables))
        if not tables:
            return []
        statements = [definition for table, definition in self.indexes if table in tables]
        # Statistics for the anti-joins below and for what the rest of the seeding reads.
        statements.append(f"ANALYZE {', '.join(tables)}")
        statements += [
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            for table, name, definition in self.constraints
            if table in tables
        ]
        return statements

    def restore(self, context: "DemoContext", models, *, background: bool = False) -> None:
        """Build the indexes of `models`' tables, analyze them, add their constraints back."""
        self.wait(context)
        statements = self._statements(models)
        if not statements:
            return
        if background:
            self._background = ("indexes, keys (background)", len(statements), time.monotonic())
            # The driver's connection, taken here: Django's connections belong to threads.
            driver = connection.connection
            self._thread = threading.Thread(
                target=self._run, args=(driver, statements), name="demo-indexes", daemon=True
            )
            self._thread.start()
            return
        progress = context.stage("indexes and keys", len(statements))
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                progress.advance()
        progress.finish()

    def _run(self, driver, statements: list[str]) -> None:
        # psycopg connections may be shared by threads, one statement at a time; the main
        # thread sends none until this is done (running()).
        try:
            with driver.cursor() as cursor:
                for statement in statements:
                    if self._stopping:
                        return
                    cursor.execute(statement)
        except BaseException as failure:  # re-raised in the main thread (wait)
            self._failure = failure

    def wait(self, context: "DemoContext") -> None:
        """Let a background rebuild finish; its failure is the seeding's."""
        if self._thread is None:
            return
        self._thread.join()
        self._thread = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        if self._background:
            label, count, started = self._background
            self._background = None
            progress = context.stage(label, count, started=started)
            progress.done = count
            progress.finish()

    @contextlib.contextmanager
    def running(self, context: "DemoContext"):
        """The seeding's span: each of its statements first waits for a background rebuild,
        and none is left running when the span ends (a failure stops it early)."""

        def wait_first(execute, sql, params, many, execute_context):
            if self._thread is not None:
                self.wait(context)
            return execute(sql, params, many, execute_context)

        with connection.execute_wrapper(wait_first):
            try:
                yield self
            except BaseException:
                self._stopping = True
                if self._thread is not None:
                    self._thread.join()
                self._thread, self._failure = None, None
                raise
            self.wait(context)

    def analyze_the_rest(self) -> None:
        """ANALYZE every other table (after the commit): restore() analyzed the loaded ones."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind IN ('r', 'p')"
                " AND c.relnamespace = current_schema()::regnamespace"
                " AND c.oid <> ALL(%s::regclass[]) ORDER BY 1",
                [self.tables],
            )
            others = [table for (table,) in cursor.fetchall()]
            if others:
                cursor.execute(f"ANALYZE {', '.join(others)}")


def _constant(value: object) -> object:
    return value


def _required(label: str, name: str) -> object:
    raise KeyError(f"{label}.{name} needs a value")


def event_columns() -> list[str]:
    return ["id", "subject_id", "actor_id", "from_status", "to_status", "reason", "created_at"]


class Table:
    """Rows of one model as tuples in its column order, unspecified fields at their defaults.

    Columns the model gains later are filled with their defaults, so a seeder
    keeps working when another app adds a field; a required field without a
    default that a seeder leaves out fails loudly.
    """

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self._names = [f.attname for f in self.fields]
        self._defaults: dict[str, Callable[[], object]] = {}
        for f in self.fields:
            if f.has_default():
                default = f.default
                self._defaults[f.attname] = (
                    default if callable(default) else functools.partial(_constant, default)
                )
            elif f.null:
                self._defaults[f.attname] = lambda: None
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                continue
            elif f.blank and f.get_internal_type() in (
                "CharField",
                "TextField",
                "SlugField",
                "EmailField",
            ):
                self._defaults[f.attname] = lambda: ""
        # (attname, default) per column; a required column left out raises KeyError.
        label = model._meta.label
        self._plan = [
            (name, self._defaults.get(name) or functools.partial(_required, label, name))
            for name in self._names
        ]
        self.rows: list[Sequence] = []

    def row(self, **values) -> tuple:
        return tuple(
            [values[name] if name in values else default() for name, default in self._plan]
        )

    def add(self, **values) -> None:
        self.rows.append(
            tuple([values[name] if name in values else default() for name, default in self._plan])
        )

    def write(self, context: "DemoContext", label: str | None = None) -> int:
        progress = context.stage(label, len(self.rows)) if label else None
        count = bulk_insert(self.model, self.columns, self.rows, progress=progress)
        if progress:
            progress.finish()
        self.rows = []
        return count
