"""Filters for partner listings: the same names the product market uses."""

import django_filters
from django.utils.translation import gettext_lazy as _

from interchange.choices import PartnerGrade, RecordStatus
from interchange.models import HarvestRun, PartnerExchange, PartnerRecord
from products.choices import DeliveryMode
from products.filters import IdFilter
from products.models import Industry


class PartnerListingFilter(django_filters.FilterSet):
    industry = django_filters.ModelChoiceFilter(
        queryset=Industry.objects.all(), to_field_name="code", label=_("industry (code)")
    )
    delivery_mode = django_filters.MultipleChoiceFilter(
        choices=DeliveryMode.choices, distinct=False
    )
    grade = django_filters.ChoiceFilter(choices=PartnerGrade.choices)
    partner = django_filters.ModelChoiceFilter(queryset=PartnerExchange.objects.all())
    registration_number = django_filters.CharFilter()
    publisher_credit_code = django_filters.CharFilter()

    class Meta:
        model = PartnerRecord
        fields = ["industry", "delivery_mode", "grade", "partner", "registration_number"]


class PartnerRecordFilter(PartnerListingFilter):
    status = django_filters.MultipleChoiceFilter(choices=RecordStatus.choices, distinct=False)

    class Meta(PartnerListingFilter.Meta):
        fields = [*PartnerListingFilter.Meta.fields, "status"]


class HarvestRunFilter(django_filters.FilterSet):
    partner = IdFilter(field_name="partner_id")

    class Meta:
        model = HarvestRun
        fields = ["partner", "status"]
