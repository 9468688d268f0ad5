"""The market list's page as plain rows: the MarketProductSerializer's output, without it.

A market page is 50 products with their plans, scenarios and recognised
registrations. Through the serializer each product is a model instance and
each of its ~30 fields a Field object resolved per row, which cost more than
the page's SQL. Here the page is read with `.values()` (one row per product,
the related names joined in) and its plans, scenarios and recognitions with
one `.values()` query each, then put together as dicts with the serializer's
own field classes formatting dates, times and yuan, so the JSON is the same
byte for byte (tests/products/test_api_market.py compares the two).
"""

from collections import defaultdict

from rest_framework import serializers

from core.api import YuanField
from interchange.models import RegistrationRecognition
from products.models import MANUAL_SECTIONS, PLAN_TERMS_FIELDS, PricingPlan, Product

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


def market_page(rows: list[dict]) -> list[dict]:
    """The page's rows with their plans, scenarios and recognitions, as the serializer has them."""
    ids = [row["id"] for row in rows]
    plans: dict[int, list[dict]] = defaultdict(list)
    yuan = _yuan.to_representation
    for plan in (
        PricingPlan.objects.filter(product_id__in=ids, is_active=True)
        .order_by("id")
        .values_list(*_PLAN_VALUES)
    ):
        product_id, pk, name, kind, period, price, unit_price, calls, cap = plan
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
    scenarios: dict[int, list[int]] = defaultdict(list)
    through = Product.scenarios.through
    for product_id, scenario_id in (
        # in the scenarios' own order, as product.scenarios.all() gives them
        through.objects.filter(product_id__in=ids)
        .order_by("-scenario__created_at", "-scenario__id")
        .values_list("product_id", "scenario_id")
    ):
        scenarios[product_id].append(scenario_id)
    recognitions: dict[int, list[dict]] = defaultdict(list)
    for product_id, partner, number, iri in (
        RegistrationRecognition.objects.filter(status="recognised", product_id__in=ids)
        .order_by("id")
        .values_list("product_id", "partner__name", "registration_number", "partner_record__iri")
    ):
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
