import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import LocalDateFromFilter, LocalDateToFilter
from oversight.choices import AuditRunStatus, FindingKind, FindingStatus, Severity
from oversight.models import AuditFinding, AuditRun, ChainSeal


class AuditFindingFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FindingKind.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    status = django_filters.ChoiceFilter(choices=FindingStatus.choices)
    first_seen_from = LocalDateFromFilter(field_name="first_seen_at", label=_("first seen from"))
    first_seen_to = LocalDateToFilter(field_name="first_seen_at", label=_("first seen until"))
    last_seen_from = LocalDateFromFilter(field_name="last_seen_at", label=_("last seen from"))
    last_seen_to = LocalDateToFilter(field_name="last_seen_at", label=_("last seen until"))
    run = django_filters.NumberFilter(field_name="last_run_id", label=_("last seen by run"))

    class Meta:
        model = AuditFinding
        fields = ["kind", "severity", "status"]


class AuditRunFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AuditRunStatus.choices)
    created_from = LocalDateFromFilter(field_name="created_at", label=_("requested from"))
    created_to = LocalDateToFilter(field_name="created_at", label=_("requested until"))

    class Meta:
        model = AuditRun
        fields = ["status"]


class ChainSealFilter(django_filters.FilterSet):
    table = django_filters.CharFilter(field_name="table")
    sequence = django_filters.NumberFilter(field_name="sequence")

    class Meta:
        model = ChainSeal
        fields = ["table", "sequence"]
