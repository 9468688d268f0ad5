import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.choices import KIND_FIELDS, MerchantKind, MerchantStatus, Region
from accounts.models import Merchant
from core.filters import LocalDateFromFilter, LocalDateToFilter


class MerchantFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        label=_("kind"), choices=MerchantKind.choices, method="filter_kind"
    )
    region = django_filters.ChoiceFilter(choices=Region.choices)
    status = django_filters.ChoiceFilter(choices=MerchantStatus.choices)
    created_from = LocalDateFromFilter(field_name="created_at", label=_("created on or after"))
    created_to = LocalDateToFilter(field_name="created_at", label=_("created on or before"))

    class Meta:
        model = Merchant
        fields = ["kind", "region", "status"]

    def filter_kind(self, queryset, name, value):
        return queryset.filter(**{KIND_FIELDS[value]: True})
