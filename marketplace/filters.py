import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filters import LocalDateFromFilter, LocalDateToFilter
from core.money import FEN_PER_YUAN
from marketplace.choices import OrderStatus
from marketplace.models import Order, UsageRecord


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
    product = django_filters.NumberFilter(field_name="product_id")
    plan = django_filters.NumberFilter(field_name="plan_id")
    buyer = django_filters.NumberFilter(field_name="buyer_id")
    seller = django_filters.NumberFilter(field_name="seller_id")
    board = django_filters.NumberFilter(field_name="board_id")
    industry = django_filters.NumberFilter(field_name="product__industry_id", label=_("industry"))
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
    plan = django_filters.NumberFilter(field_name="plan_id")
    buyer = django_filters.NumberFilter(field_name="buyer_id")
    billed = django_filters.BooleanFilter(
        field_name="billed_order", lookup_expr="isnull", exclude=True, label=_("billed")
    )

    class Meta:
        model = UsageRecord
        fields = ["plan", "buyer"]
