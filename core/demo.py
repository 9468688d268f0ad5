"""What the apps' demo seeders share (see `manage.py seed_demo`).

Each app's `demo.py` writes its own tables, set-based: rows are built in
Python from one seeded random source and written in bulk (COPY on
PostgreSQL, executemany on SQLite) with ids chosen here, so rows of
different apps can point at each other before any of them is written, and
the same seed on the same day gives the same rows. What a seeder writes is
what the services would have written for the same story: the audit sweep
and the hash chain check it afterwards.
"""

import datetime as dt
import functools
import io
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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

    def __init__(self, label: str, total: int, *, stream=None, quiet: bool = False):
        self.label = label
        self.total = max(int(total), 0)
        self.done = 0
        self.started = time.monotonic()
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

    def stage(self, label: str, total: int) -> Progress:
        return Progress(label, total, quiet=self.quiet)

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


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    elif isinstance(value, int):
        return str(value)
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


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

            def copy_rows(sql, _params, _many, _context):
                nonlocal written
                with cursor.cursor.copy(sql) as copy:
                    block = io.StringIO()
                    pending = 0
                    for row in rows:
                        block.write("\t".join(_copy_text(v) for v in row))
                        block.write("\n")
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


def _constant(value: object) -> object:
    return value


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
        self.rows: list[Sequence] = []

    def row(self, **values) -> tuple:
        out = []
        for name in self._names:
            if name in values:
                out.append(values[name])
            elif name in self._defaults:
                out.append(self._defaults[name]())
            else:
                raise KeyError(f"{self.model._meta.label}.{name} needs a value")
        return tuple(out)

    def add(self, **values) -> None:
        self.rows.append(self.row(**values))

    def write(self, context: "DemoContext", label: str | None = None) -> int:
        progress = context.stage(label, len(self.rows)) if label else None
        count = bulk_insert(self.model, self.columns, self.rows, progress=progress)
        if progress:
            progress.finish()
        self.rows = []
        return count
