"""The differential-privacy engine: SmartNoise SQL over the query role's connection.

A template becomes one aggregate SELECT that SmartNoise rewrites (clamping each
column to its declared bounds, one row per privacy unit) and answers with
OpenDP's noise; a plain COUNT(DISTINCT unit) per group, run beside it, decides
which groups hold at least k units. The engine's quirks shape the SQL we write:
unquoted identifiers only (declared names are checked for that), no '' inside
string literals (parameters holding a quote are refused), and dates compared
through CAST('YYYY-MM-DD' AS date).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from querying.choices import ENGINE_TYPES, NUMERIC_TYPES, SQL_OPS, ColumnType

TABLE = "data"


def one_row_per_unit(conn, dataset) -> bool:
    """Whether the database holds the data set to one row per unit: the unit column is its key.

    The loader makes it the key when the file allows (services.datasets); a
    data set loaded with a repeated or missing unit, or before that, has none.
    """
    with conn.cursor() as cur:
        cur.execute(
            "SELECT a.attname FROM pg_constraint c"
            " JOIN pg_class t ON t.oid = c.conrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (c.conkey)"
            " WHERE n.nspname = %s AND t.relname = %s AND c.contype = 'p'",
            [dataset.schema_name, TABLE],
        )
        key = [name for (name,) in cur.fetchall()]
    return key == [dataset.unit_column]


def metadata(dataset, *, censor_dims: bool, one_row_per_unit: bool = False) -> dict:
    """SmartNoise's description of the table: types, bounds, the unit column.

    Each unit contributes at most one row (max_ids). SmartNoise enforces that by
    keeping one random row per unit, which sorts the whole table by unit; where
    the database already guarantees it (`one_row_per_unit`), SmartNoise is told
    so (sample_max_ids off) and the sort is skipped. Clamping, the sensitivity
    and so the noise are the same either way.
    """
    table: dict = {
        "max_ids": 1,
        "sample_max_ids": not one_row_per_unit,
        "rows": max(1, dataset.rows_loaded),
        "censor_dims": censor_dims,
    }
    for column in dataset.columns:
        entry: dict = {"type": ENGINE_TYPES[column["type"]]}
        if column["name"] == dataset.unit_column:
            entry["private_id"] = True
        elif column["type"] in NUMERIC_TYPES:
            entry["lower"] = float(column["lower"])
            entry["upper"] = float(column["upper"])
        table[column["name"]] = entry
    return {"exchange": {dataset.schema_name: {TABLE: table}}}


def literal(kind: str, value) -> str:
    """A checked parameter value as SQL text (values are checked by templates.check_parameters)."""
    if kind == ColumnType.DATE:
        return f"CAST('{value}' AS date)"
    if kind == ColumnType.STRING:
        return f"'{value}'"
    if kind == ColumnType.BOOLEAN:
        return "TRUE" if value else "FALSE"
    return str(value)


def aggregate_alias(aggregate: dict) -> str:
    if aggregate["function"] == "count":
        return "n_rows"
    return f"{aggregate['function']}_{aggregate['column']}"


@dataclass(frozen=True)
class Statement:
    dp_sql: str
    units_sql: str
    dimensions: list[str]
    aliases: list[str]


def statement(template, parameters: dict, *, one_row_per_unit: bool = False) -> Statement:
    """The template's aggregate SELECT for SmartNoise, and the count of units per group.

    With one row per unit (its key), counting the units is counting the rows
    with a unit, which needs no sort or hash of the unit values.
    """
    dataset = template.dataset
    source = f"{dataset.schema_name}.{TABLE}"
    dims = list(template.dimensions)
    selects = [*dims]
    aliases = []
    for aggregate in template.aggregates:
        alias = aggregate_alias(aggregate)
        aliases.append(alias)
        if aggregate["function"] == "count":
            selects.append(f"COUNT(*) AS {alias}")
        else:
            selects.append(f"{aggregate['function'].upper()}({aggregate['column']}) AS {alias}")
    where = []
    for spec in template.filters:
        kind = dataset.column_type(spec["column"])
        where.append(
            f"{spec['column']} {SQL_OPS[spec['op']]} {literal(kind, parameters[spec['parameter']])}"
        )
    where_sql = f" WHERE {' AND '.join(where)}" if where else ""
    group_sql = f" GROUP BY {', '.join(dims)}" if dims else ""
    dp_sql = f"SELECT {', '.join(selects)} FROM {source}{where_sql}{group_sql}"
    units = "" if one_row_per_unit else "DISTINCT "
    units_sql = (
        f"SELECT {', '.join([*dims, ''])}COUNT({units}{dataset.unit_column}) FROM {source}"
        f"{where_sql}{group_sql}"
    )
    return Statement(dp_sql=dp_sql, units_sql=units_sql, dimensions=dims, aliases=aliases)


def reader(conn, template, *, one_row_per_unit: bool = False):
    import snsql

    privacy = snsql.Privacy(
        epsilon=float(template.epsilon_per_aggregate), delta=float(template.delta) or 1e-15
    )
    return snsql.from_connection(
        conn,
        engine="postgres",
        privacy=privacy,
        metadata=metadata(
            template.dataset,
            censor_dims=bool(template.delta),
            one_row_per_unit=one_row_per_unit,
        ),
    )


def sample_parameters(template) -> dict:
    """Placeholder values of the right types: the cost does not depend on them."""
    samples = {
        ColumnType.INTEGER: 0,
        ColumnType.FLOAT: 0,
        ColumnType.STRING: "x",
        ColumnType.DATE: "2000-01-01",
        ColumnType.BOOLEAN: True,
    }
    return {
        f["parameter"]: samples[template.dataset.column_type(f["column"])] for f in template.filters
    }


def privacy_cost(conn, template) -> tuple[Decimal, Decimal]:
    """(epsilon, delta) of one run, as the engine computes it, without running anything."""
    epsilon, delta = reader(conn, template).get_privacy_cost(
        statement(template, sample_parameters(template)).dp_sql
    )
    return (
        Decimal(str(float(epsilon))).quantize(Decimal("0.000001")),
        Decimal(str(float(delta))).quantize(Decimal("1e-20")),
    )


def _key(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _round(alias: str, value, dataset) -> str | int | None:
    """The documented rounding (docs/querying.md): counts to whole numbers not below 0;
    sums and averages to 2 decimal places, averages inside the column's bounds."""
    if value is None:
        return None
    number = Decimal(str(float(value)))
    if alias == "n_rows":
        return max(0, int(number.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)))
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    if alias.startswith("avg_"):
        column = dataset.column(alias[4:])
        rounded = min(max(rounded, Decimal(column["lower"])), Decimal(column["upper"]))
    return str(rounded)


def execute(conn, template, parameters: dict, *, max_rows: int) -> dict:
    """Run the template: noisy aggregates of the groups with at least k units.

    Raises ResultTooLarge before any noise is drawn when the groups would exceed `max_rows`.
    """
    keyed = one_row_per_unit(conn, template.dataset)
    st = statement(template, parameters, one_row_per_unit=keyed)
    k = template.min_group_size
    with conn.cursor() as cur:
        cur.execute(st.units_sql)
        units = {tuple(_key(v) for v in row[:-1]): row[-1] for row in cur.fetchall()}
    conn.commit()
    big = {key for key, n in units.items() if n >= k}
    small = len(units) - len(big)
    if not st.dimensions and not big:
        small = 1
    if len(big) > max_rows:
        raise ResultTooLarge(len(big))
    rows: list[list] = []
    accuracy: dict = {}
    if big:
        engine = reader(conn, template, one_row_per_unit=keyed)
        answer = engine.execute(st.dp_sql)
        bounds = engine.get_simple_accuracy(st.dp_sql, 0.05)
        width = len(st.dimensions)
        accuracy = {
            alias: None if b is None else str(Decimal(str(float(b))).quantize(Decimal("0.01")))
            for alias, b in zip(st.aliases, bounds[width:], strict=False)
        }
        for row in answer[1:]:
            key = tuple(_key(v) for v in row[:width])
            if key not in big:
                continue
            values = [
                _round(a, v, template.dataset)
                for a, v in zip(st.aliases, row[width:], strict=False)
            ]
            rows.append([*key, *values])
        rows.sort(key=lambda r: [str(v) for v in r[:width]])
    return {
        "columns": [*st.dimensions, *st.aliases],
        "rows": rows,
        "k": k,
        "suppressed_groups": small,
        "accuracy_95": accuracy,
    }


class ResultTooLarge(Exception):
    def __init__(self, groups: int):
        self.groups = groups
        super().__init__(f"{groups} groups")
