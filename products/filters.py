"""FilterSets for the product list. Every filter here has an index behind it
(see Product.Meta.indexes and docs/products.md)."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.choices import Region
from core.filters import LocalDateFromFilter, LocalDateToFilter
from core.money import MoneyError, yuan_to_fen
from products.choices import DataSourceKind, DeliveryMode, Grade, ProductStatus, RevisionStatus
from products.models import Board, Industry, Product, ProductReview, ProductRevision


class YuanFormField(forms.CharField):
    """A yuan amount ("12.34") cleaned to integer fen; anything else is a 400 naming it."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return yuan_to_fen(value)
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from exc


class YuanFilter(django_filters.Filter):
    """Compares a fen column with an amount given in yuan."""

    field_class = YuanFormField


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number that fits a 64-bit column, else a 400 naming the filter."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class ProductFilter(django_filters.FilterSet):
    industry = django_filters.ModelChoiceFilter(
        queryset=Industry.objects.all(), to_field_name="code", label=_("industry (code)")
    )
    board = django_filters.ModelChoiceFilter(
        queryset=Board.objects.all(), to_field_name="code", label=_("trading board (code)")
    )
    # distinct=False: these are columns of the product itself, so no row can repeat,
    # and SELECT DISTINCT would make PostgreSQL sort every match instead of
    # walking an index in order and stopping after one page.
    status = django_filters.MultipleChoiceFilter(choices=ProductStatus.choices, distinct=False)
    delivery_mode = django_filters.MultipleChoiceFilter(
        choices=DeliveryMode.choices, distinct=False
    )
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    source_kind = django_filters.ChoiceFilter(choices=DataSourceKind.choices)
    provider = IdFilter(field_name="provider_id", label=_("provider (id)"))
    provider_region = django_filters.ChoiceFilter(
        field_name="provider__region", choices=Region.choices, label=_("provider's region")
    )
    price_min = YuanFilter(
        field_name="min_price_fen",
        lookup_expr="gte",
        label=_("starting price at least (yuan)"),
    )
    price_max = YuanFilter(
        field_name="min_price_fen",
        lookup_expr="lte",
        label=_("starting price at most (yuan)"),
    )
    listed_from = LocalDateFromFilter(field_name="listed_at", label=_("first listed on or after"))
    listed_to = LocalDateToFilter(field_name="listed_at", label=_("first listed on or before"))
    registration_number = django_filters.CharFilter()
    delisting_requested = django_filters.BooleanFilter(
        field_name="delisting_requested_at",
        lookup_expr="isnull",
        exclude=True,
        label=_("the provider asked for delisting"),
    )

    class Meta:
        model = Product
        fields = [
            "industry",
            "board",
            "status",
            "delivery_mode",
            "grade",
            "source_kind",
            "provider",
            "provider_region",
            "registration_number",
        ]


class ReviewFilter(django_filters.FilterSet):
    product = IdFilter(field_name="product_id")

    class Meta:
        model = ProductReview
        fields = ["product", "verdict", "grade"]


class RevisionFilter(django_filters.FilterSet):
    product = IdFilter(field_name="product_id")
    status = django_filters.MultipleChoiceFilter(choices=RevisionStatus.choices, distinct=False)

    class Meta:
        model = ProductRevision
        fields = ["product", "status"]
