import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filters import LocalDateFromFilter, LocalDateToFilter, board_filter, industry_filter
from core.money import FEN_PER_YUAN
from marketplace.choices import OrderStatus
from marketplace.models import Order, UsageRecord

# Ids beyond a signed 64-bit column are refused with a 400 before reaching the database.
MAX_ID = 2**63 - 1


def IdFilter(**kwargs) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(min_value=1, max_value=MAX_ID, decimal_places=0, **kwargs)


class YuanFilter(django_filters.Filter):
    """An amount in yuan ("12.34") compared with a fen column."""

    field_class = forms.DecimalField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 15)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": int(value * FEN_PER_YUAN)})


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    product = IdFilter(field_name="product_id")
    plan = IdFilter(field_name="plan_id")
    buyer = IdFilter(field_name="buyer_id")
    seller = IdFilter(field_name="seller_id")
    board = board_filter()
    industry = industry_filter("product__industry")
    is_disputed = django_filters.BooleanFilter()
    created_from = LocalDateFromFilter(field_name="created_at", label=_("created on or after"))
    created_to = LocalDateToFilter(field_name="created_at", label=_("created on or before"))
    paid_from = LocalDateFromFilter(field_name="paid_at", label=_("paid on or after"))
    paid_to = LocalDateToFilter(field_name="paid_at", label=_("paid on or before"))
    amount_min = YuanFilter(
        field_name="amount_fen", lookup_expr="gte", label=_("amount from (yuan)")
    )
    amount_max = YuanFilter(field_name="amount_fen", lookup_expr="lte", label=_("amount to (yuan)"))

    class Meta:
        model = Order
        fields = ["status", "product", "buyer", "seller", "board", "industry", "is_disputed"]


class UsageRecordFilter(django_filters.FilterSet):
    plan = IdFilter(field_name="plan_id")
    buyer = IdFilter(field_name="buyer_id")
    billed = django_filters.BooleanFilter(
        field_name="billed_order", lookup_expr="isnull", exclude=True, label=_("billed")
    )

    class Meta:
        model = UsageRecord
        fields = ["plan", "buyer"]
