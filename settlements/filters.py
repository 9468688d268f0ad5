import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import board_filter
from products.choices import DeliveryMode
from settlements.choices import AccountKind, ClearingStatus, CostCategory, PayoutStatus
from settlements.models import ClearingBatch, FeeSchedule, LedgerAccount, Payout, ProductCostLine


class FeeScheduleFilter(django_filters.FilterSet):
    board = board_filter()
    delivery_mode = django_filters.ChoiceFilter(choices=DeliveryMode.choices)
    in_force_on = django_filters.DateFilter(
        label=_("in force on this day"), method="filter_in_force_on"
    )

    class Meta:
        model = FeeSchedule
        fields = ["board", "delivery_mode"]

    def filter_in_force_on(self, queryset, name, value):
        return queryset.filter(effective_from__lte=value).exclude(effective_until__lte=value)


class ClearingBatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ClearingStatus.choices)
    business_date_from = django_filters.DateFilter(field_name="business_date", lookup_expr="gte")
    business_date_to = django_filters.DateFilter(field_name="business_date", lookup_expr="lte")

    class Meta:
        model = ClearingBatch
        fields = ["status", "business_date"]


class PayoutFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PayoutStatus.choices)
    business_date = django_filters.DateFilter(field_name="batch__business_date")

    class Meta:
        model = Payout
        fields = ["status", "batch", "merchant"]


class LedgerAccountFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AccountKind.choices)

    class Meta:
        model = LedgerAccount
        fields = ["kind", "merchant", "department"]


class ProductCostLineFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=CostCategory.choices)
    incurred_from = django_filters.DateFilter(field_name="incurred_on", lookup_expr="gte")
    incurred_to = django_filters.DateFilter(field_name="incurred_on", lookup_expr="lte")

    class Meta:
        model = ProductCostLine
        fields = ["product", "category"]
