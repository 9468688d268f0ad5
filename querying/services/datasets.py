"""Data sets: declaring a schema and loading a CSV or Parquet file into it.

The file is streamed into the data set's own schema with COPY, over the query
role's connection, in one transaction: a failed load leaves no rows, and a
retry starts from an empty table. Progress (bytes and rows) is written to the
Dataset row as the load goes, so the admin and the API show it; the rows
themselves are never read back through the exchange's own connection.
"""

import csv
import io
import logging
import os
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import errors, sql

from accounts.models import User
from core.exceptions import BusinessRuleViolation
from core.transitions import lock_one, transition
from products.choices import DeliveryMode
from products.models import Product
from querying.choices import (
    DATASET_TRANSITIONS,
    NUMERIC_TYPES,
    PG_TYPES,
    ColumnType,
    DatasetStatus,
    SourceFormat,
)
from querying.datastore import data_connection, require_postgres
from querying.models import Dataset
from querying.services.common import (
    check_identifier,
    require_provider_or_operator,
    to_decimal,
)

logger = logging.getLogger(__name__)

MAX_COLUMNS = 100
TABLE = "data"
# Bytes handed to COPY per write, and how often progress is saved: large enough
# that the row update costs nothing next to the load, small enough to move.
CHUNK_BYTES = 1 << 20
PROGRESS_EVERY_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 100_000
UNIT_KEY = "data_one_row_per_unit"


def check_columns(columns, unit_column) -> list[dict]:
    """The declared schema, normalised: names, types, bounds of numeric columns."""
    if not isinstance(columns, list) or not 1 <= len(columns) <= MAX_COLUMNS:
        raise BusinessRuleViolation(
            _("a list of 1 to %(max)d columns") % {"max": MAX_COLUMNS}, field="columns"
        )
    seen: set[str] = set()
    clean: list[dict] = []
    for index, column in enumerate(columns):
        where = f"columns[{index}]"
        if not isinstance(column, dict):
            raise BusinessRuleViolation(_("give each column as an object"), field=where)
        name = check_identifier(column.get("name"), field=f"{where}.name")
        if name in seen:
            raise BusinessRuleViolation(
                _("column '%(name)s' is declared twice") % {"name": name}, field=f"{where}.name"
            )
        seen.add(name)
        kind = column.get("type")
        if kind not in ColumnType.values:
            raise BusinessRuleViolation(
                _("one of: %(types)s") % {"types": ", ".join(ColumnType.values)},
                field=f"{where}.type",
            )
        entry: dict = {"name": name, "type": kind}
        if kind in NUMERIC_TYPES and name != unit_column:
            lower = to_decimal(column.get("lower"), field=f"{where}.lower")
            upper = to_decimal(column.get("upper"), field=f"{where}.upper")
            if lower >= upper:
                raise BusinessRuleViolation(
                    _("the upper bound must be above the lower bound"), field=f"{where}.upper"
                )
            if kind == ColumnType.INTEGER and (
                lower != lower.to_integral() or upper != upper.to_integral()
            ):
                raise BusinessRuleViolation(
                    _("a whole-number column has whole-number bounds"), field=f"{where}.lower"
                )
            entry["lower"] = str(lower)
            entry["upper"] = str(upper)
        elif ("lower" in column or "upper" in column) and name != unit_column:
            raise BusinessRuleViolation(
                _("only number columns have bounds"), field=f"{where}.lower"
            )
        clean.append(entry)
    if unit_column not in seen:
        raise BusinessRuleViolation(
            _("name one of the declared columns as the privacy unit"), field="unit_column"
        )
    unit = next(c for c in clean if c["name"] == unit_column)
    if unit["type"] not in (ColumnType.STRING, ColumnType.INTEGER):
        raise BusinessRuleViolation(
            _("the privacy unit column identifies a person or entity: text or a whole number"),
            field="unit_column",
        )
    return clean


def dataset_declare(
    *,
    actor: User | None,
    product: Product,
    columns,
    unit_column,
    version: int | None = None,
    budget_epsilon=None,
) -> Dataset:
    """Declare the data set of a product version: its columns, unit and bounds.

    Only a privacy-computing product's provider (or an operator) declares it,
    once per version; nothing is loaded yet.
    """
    require_postgres()
    require_provider_or_operator(actor, product.provider_id)
    if product.delivery_mode != DeliveryMode.PRIVACY_COMPUTING:
        raise BusinessRuleViolation(
            _("only privacy-computing products have a query data set"), field="product"
        )
    version = product.version if version is None else version
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not 1 <= version <= product.version
    ):
        raise BusinessRuleViolation(
            _("a version of the product, 1 to %(latest)d") % {"latest": product.version},
            field="version",
        )
    if not isinstance(unit_column, str):
        raise BusinessRuleViolation(_("name the privacy unit column"), field="unit_column")
    clean = check_columns(columns, unit_column)
    budget = (
        Decimal(settings.QUERY_BUDGET_EPSILON)
        if budget_epsilon is None
        else to_decimal(budget_epsilon, field="budget_epsilon", minimum=Decimal("0.000001"))
    )
    if Dataset.objects.filter(product=product, version=version).exists():
        raise BusinessRuleViolation(
            _("this product version already has a data set"), field="version", code="exists"
        )
    dataset = Dataset.objects.create(
        product=product,
        version=version,
        schema_name=f"qd_p{product.pk}_v{version}",
        columns=clean,
        unit_column=unit_column,
        budget_epsilon=budget,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    dataset.events.create(
        actor=actor if getattr(actor, "pk", None) else None,
        from_status="",
        to_status=DatasetStatus.DECLARED,
        reason="declared",
    )
    return dataset


def upload_dir() -> Path:
    """Uploads wait here for the loader, which deletes each file once it is loaded."""
    return Path(settings.QUERY_UPLOAD_DIR)


@transaction.atomic
def dataset_load_start(
    *, actor: User | None, dataset: Dataset, path: Path, source_format: str, queue: bool = True
) -> Dataset:
    """Move the data set to loading and queue the load of the file at `path`.

    `queue=False` leaves the load to the caller (the query_load command loads in its own process).
    """
    require_postgres()
    require_provider_or_operator(actor, dataset.product.provider_id)
    if source_format not in SourceFormat.values:
        raise BusinessRuleViolation(
            _("one of: %(formats)s") % {"formats": ", ".join(SourceFormat.values)},
            field="format",
        )
    dataset = lock_one(Dataset, dataset.pk)
    if dataset.status == DatasetStatus.LOADING:
        raise BusinessRuleViolation(
            _("a load of this data set is already running"), field="file", code="loading"
        )
    transition(
        dataset,
        to=DatasetStatus.LOADING,
        actor=actor,
        reason=f"loading a {source_format} file of {path.stat().st_size} bytes",
        transitions=DATASET_TRANSITIONS,
        changes={
            "source_format": source_format,
            "bytes_total": path.stat().st_size,
            "bytes_read": 0,
            "rows_loaded": 0,
            "load_error": "",
        },
    )
    if queue:
        from querying.tasks import dataset_load_task

        dataset_id, file_path = dataset.pk, str(path)
        transaction.on_commit(lambda: dataset_load_task.delay(dataset_id, file_path))
    return dataset


ProgressReport = Callable[[int, int], None]


def _progress(
    dataset_id: int, *, bytes_read: int, rows: int, report: ProgressReport | None
) -> None:
    Dataset.objects.filter(pk=dataset_id, status=DatasetStatus.LOADING).update(
        bytes_read=bytes_read, rows_loaded=rows, updated_at=timezone.now()
    )
    if report is not None:
        report(bytes_read, rows)


def _create_table(cur, dataset: Dataset) -> None:
    schema = sql.Identifier(dataset.schema_name)
    table = sql.Identifier(dataset.schema_name, TABLE)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c["name"]), sql.SQL(PG_TYPES[c["type"]]))
        for c in dataset.columns
    )
    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
    # Nobody but the owner (the query role) reaches the schema, whatever a
    # deployment's defaults grant to PUBLIC.
    cur.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, columns))


def _csv_header(path: Path) -> tuple[list[str], int]:
    """The header's column names and its length in bytes (where the data starts)."""
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BusinessRuleViolation(_("the file is not UTF-8 text"), field="file") from None
    names = next(csv.reader([text]), [])
    return [n.strip() for n in names], len(first)


def _check_names(found: Iterable[str], dataset: Dataset) -> list[str]:
    found = list(found)
    declared = [c["name"] for c in dataset.columns]
    missing = [n for n in declared if n not in found]
    extra = [n for n in found if n not in declared]
    if missing or extra:
        raise BusinessRuleViolation(
            _(
                "the file's columns differ from the declared ones "
                "(missing: %(missing)s; extra: %(extra)s)"
            )
            % {"missing": ", ".join(missing) or "-", "extra": ", ".join(extra) or "-"},
            field="file",
            code="columns",
        )
    return found


def _copy_csv(cur, dataset: Dataset, path: Path, report: ProgressReport | None) -> int:
    names, header_bytes = _csv_header(path)
    names = _check_names(names, dataset)
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(dataset.schema_name, TABLE),
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
    )
    done, rows, next_report = header_bytes, 0, PROGRESS_EVERY_BYTES
    with path.open("rb") as handle, cur.copy(statement) as copy:
        handle.seek(header_bytes)
        while chunk := handle.read(CHUNK_BYTES):
            copy.write(chunk)
            done += len(chunk)
            rows += chunk.count(b"\n")
            if done >= next_report:
                _progress(dataset.pk, bytes_read=done, rows=rows, report=report)
                next_report += PROGRESS_EVERY_BYTES
    return cur.rowcount


def _copy_parquet(cur, dataset: Dataset, path: Path, report: ProgressReport | None) -> int:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own error kinds for a bad file
        raise BusinessRuleViolation(
            _("the file is not Parquet: %(error)s") % {"error": exc}, field="file"
        ) from None
    names = [c["name"] for c in dataset.columns]
    _check_names(parquet.schema_arrow.names, dataset)
    total_rows = parquet.metadata.num_rows or 1
    size = path.stat().st_size
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(dataset.schema_name, TABLE),
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
    )
    rows = 0
    options = pacsv.WriteOptions(include_header=False)
    with cur.copy(statement) as copy:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=names):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, write_options=options)
            copy.write(buffer.getvalue())
            rows += batch.num_rows
            _progress(dataset.pk, bytes_read=size * rows // total_rows, rows=rows, report=report)
    return cur.rowcount


def _key_on_unit(conn, cur, dataset: Dataset) -> bool:
    """Make the unit column the table's primary key when every row has a unit of its own.

    The database then holds the data set to one row per unit, so a run needs no
    per-unit sampling (engine.one_row_per_unit). A repeated or missing unit is
    allowed data: the key is left off, and runs sample one row per unit.
    """
    try:
        with conn.transaction():  # a savepoint: a refused key leaves the loaded rows
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                    sql.Identifier(dataset.schema_name, TABLE),
                    sql.Identifier(UNIT_KEY),
                    sql.Identifier(dataset.unit_column),
                )
            )
    except (errors.UniqueViolation, errors.NotNullViolation):
        return False
    return True


def dataset_load_run(
    *, dataset_id: int, path: str, report: ProgressReport | None = None
) -> Dataset:
    """Load the file into the data set's schema; loaded or failed, the file is deleted.

    Idempotent by status: a data set that is not loading (already loaded, or
    failed and not restarted) is left alone.
    """
    dataset = Dataset.objects.select_related("product").get(pk=dataset_id)
    file_path = Path(path)
    try:
        if dataset.status != DatasetStatus.LOADING:
            return dataset
        error = ""
        rows = 0
        try:
            with data_connection(read_only=False) as conn:
                with conn.cursor() as cur:
                    _create_table(cur, dataset)
                    if dataset.source_format == SourceFormat.PARQUET:
                        rows = _copy_parquet(cur, dataset, file_path, report)
                    else:
                        rows = _copy_csv(cur, dataset, file_path, report)
                    _key_on_unit(conn, cur, dataset)
                    cur.execute(
                        sql.SQL("ANALYZE {}").format(sql.Identifier(dataset.schema_name, TABLE))
                    )
                conn.commit()
        except BusinessRuleViolation as exc:
            error = exc.message
        except Exception as exc:  # the database's word on a bad row is the provider's to read
            logger.info("load of data set %s failed: %s", dataset_id, exc)
            error = (
                str(exc).strip().splitlines()[0][:2000] if str(exc).strip() else type(exc).__name__
            )
        with transaction.atomic():
            dataset = lock_one(Dataset, dataset_id)
            if error:
                transition(
                    dataset,
                    to=DatasetStatus.FAILED,
                    actor=None,
                    reason=error,
                    transitions=DATASET_TRANSITIONS,
                    changes={"load_error": error},
                )
            else:
                transition(
                    dataset,
                    to=DatasetStatus.LOADED,
                    actor=None,
                    reason=f"{rows} rows loaded",
                    transitions=DATASET_TRANSITIONS,
                    changes={
                        "rows_loaded": rows,
                        "bytes_read": dataset.bytes_total,
                        "loaded_at": timezone.now(),
                    },
                )
        return dataset
    finally:
        # The raw file must not outlive its load: it is data the exchange never shows.
        if file_path.exists() and file_path.is_relative_to(upload_dir()):
            os.unlink(file_path)


def dataset_load_file(
    *, actor: User | None, dataset: Dataset, source, source_format: str
) -> Dataset:
    """Store an uploaded file (a file-like object) under the upload folder and start its load."""
    require_postgres()
    require_provider_or_operator(actor, dataset.product.provider_id)
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"dataset-{dataset.pk}-{timezone.now():%Y%m%d%H%M%S%f}.{source_format}"
    with target.open("wb") as out:
        for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
            out.write(chunk)
    try:
        return dataset_load_start(
            actor=actor, dataset=dataset, path=target, source_format=source_format
        )
    except Exception:
        target.unlink(missing_ok=True)
        raise
