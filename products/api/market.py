"""The market list's page as plain rows: the MarketProductSerializer's output, without it.

A market page is 50 products with their plans, scenarios and recognised
registrations. Through the serializer each product is a model instance and
each of its ~30 fields a Field object resolved per row, which cost more than
the page's SQL. Here the page is read with `.values()` (one row per product,
the related names joined in) and its plans, scenarios and recognitions with
one written SQL statement each, then put together as dicts with the serializer's
own field classes formatting dates, times and yuan, so the JSON is the same
byte for byte (tests/products/test_api_market.py compares the two).
"""

from collections import defaultdict

from django.db import connection
from rest_framework import serializers

from core.api import YuanField
from core.sql import quoted_table
from interchange.choices import RecognitionStatus
from interchange.models import PartnerExchange, PartnerRecord, RegistrationRecognition
from products.models import MANUAL_SECTIONS, PLAN_TERMS_FIELDS, PricingPlan, Product
from publicdata.models import Scenario

# The market's columns in the serializer's field order; (output name, values() path).
_COLUMNS = (
    ("id", "id"),
    ("title", "title"),
    ("title_en", "title_en"),
    ("summary", "summary"),
    ("summary_en", "summary_en"),
    ("coverage_start", "coverage_start"),
    ("coverage_end", "coverage_end"),
    *((section, section) for section in MANUAL_SECTIONS),
    ("sample", "sample"),
    ("provider", "provider_id"),
    ("provider_name", "provider__legal_name"),
    ("provider_region", "provider__region"),
    ("industry", "industry__code"),
    ("board", "board__code"),
    ("source_kind", "source_kind"),
    ("grade", "grade"),
    ("delivery_mode", "delivery_mode"),
    ("volume_bytes", "volume_bytes"),
    ("tags", "tags"),
    ("version", "version"),
    ("registration_number", "registration_number"),
    ("listed_at", "listed_at"),
    ("starting_price", "min_price_fen"),
    ("grant", "grant_id"),
)
# What the cursor pagination reads from each row besides the columns shown.
_ORDERING_COLUMNS = ("listed_at", "title", "min_price_fen", "id")
VALUES = tuple(dict.fromkeys([path for _name, path in _COLUMNS] + list(_ORDERING_COLUMNS)))

_date = serializers.DateField()
_datetime = serializers.DateTimeField()
_yuan = YuanField()
_FORMAT = {
    "coverage_start": _date.to_representation,
    "coverage_end": _date.to_representation,
    "listed_at": _datetime.to_representation,
    "starting_price": _yuan.to_representation,
}
_PLAN_VALUES = ("product_id", "id", *PLAN_TERMS_FIELDS)


def market_rows(queryset):
    """The market queryset as the `.values()` rows a page is cut from."""
    return queryset.prefetch_related(None).select_related(None).values(*VALUES)


def _none_or(format_value):
    return lambda value: None if value is None else format_value(value)


_FORMATTERS = {name: _none_or(f) for name, f in _FORMAT.items()}


def _columns(model, names) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"x.{quote(model._meta.get_field(name).column)}" for name in names)


# The page's plans, scenarios and recognitions, each one statement over the
# page's product ids. Written as SQL: compiling the three through the ORM cost
# more than the database's answering them. {ids} is one placeholder per id.
# Only the models' table and column names are interpolated; values are parameters.
def _side_statements() -> dict[str, str]:
    through = Product.scenarios.through
    return {
        "plans": (
            f"SELECT {_columns(PricingPlan, _PLAN_VALUES)} FROM {quoted_table(PricingPlan)} x "  # noqa: S608
            "WHERE x.product_id IN ({ids}) AND x.is_active ORDER BY x.id"
        ),
        "scenarios": (
            f"SELECT x.product_id, x.scenario_id FROM {quoted_table(through)} x "  # noqa: S608
            f"JOIN {quoted_table(Scenario)} s ON s.id = x.scenario_id "
            # in the scenarios' own order, as product.scenarios.all() gives them
            "WHERE x.product_id IN ({ids}) ORDER BY s.created_at DESC, s.id DESC"
        ),
        "recognitions": (
            "SELECT x.product_id, partner.name, x.registration_number, record.iri "  # noqa: S608
            f"FROM {quoted_table(RegistrationRecognition)} x "
            f"JOIN {quoted_table(PartnerExchange)} partner ON partner.id = x.partner_id "
            f"JOIN {quoted_table(PartnerRecord)} record ON record.id = x.partner_record_id "
            "WHERE x.product_id IN ({ids}) AND x.status = %s ORDER BY x.id"
        ),
    }


_SIDE_STATEMENTS: dict[str, str] = {}


def _side_rows(cursor, name: str, ids: list[int], *params) -> list[tuple]:
    if not _SIDE_STATEMENTS:
        _SIDE_STATEMENTS.update(_side_statements())
    statement = _SIDE_STATEMENTS[name].replace("{ids}", ", ".join(["%s"] * len(ids)))
    cursor.execute(statement, [*ids, *params])
    return cursor.fetchall()


def market_page(rows: list[dict]) -> list[dict]:
    """The page's rows with their plans, scenarios and recognitions, as the serializer has them."""
    ids = [row["id"] for row in rows]
    plans: dict[int, list[dict]] = defaultdict(list)
    scenarios: dict[int, list[int]] = defaultdict(list)
    recognitions: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return []
    yuan = _yuan.to_representation
    with connection.cursor() as cursor:
        plan_rows = _side_rows(cursor, "plans", ids)
        scenario_rows = _side_rows(cursor, "scenarios", ids)
        recognition_rows = _side_rows(
            cursor, "recognitions", ids, RecognitionStatus.RECOGNISED.value
        )
    for product_id, pk, name, kind, period, price, unit_price, calls, cap in plan_rows:
        plans[product_id].append(
            {
                "id": pk,
                "name": name,
                "kind": kind,
                "period": period,
                "price": yuan(price),
                "unit_price": yuan(unit_price),
                "included_calls": calls,
                "monthly_cap": None if cap is None else yuan(cap),
            }
        )
    for product_id, scenario_id in scenario_rows:
        scenarios[product_id].append(scenario_id)
    for product_id, partner, number, iri in recognition_rows:
        recognitions[product_id].append(
            {"partner": partner, "registration_number": number, "source": iri}
        )
    page = []
    for row in rows:
        item = {}
        for name, path in _COLUMNS:
            value = row[path]
            formatter = _FORMATTERS.get(name)
            item[name] = formatter(value) if formatter else value
        pk = row["id"]
        item["scenarios"] = scenarios.get(pk, [])
        item["plans"] = plans.get(pk, [])
        item["recognised_registrations"] = recognitions.get(pk, [])
        page.append(item)
    return page
