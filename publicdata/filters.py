"""FilterSets for departments, catalog entries, grants and scenarios.

Window filters: `active_on` keeps rows whose window overlaps that local day;
`window_from` / `window_to` keep rows whose window overlaps that range of local
days (either end may be left open). Both compare the raw columns, which the
(valid_from, valid_until) index serves.
"""

import datetime as dt

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.choices import Region
from core.filters import industry_filter, local_day_start
from products.choices import Grade
from publicdata.choices import DepartmentLevel, GrantStatus, ScenarioPurpose, ScenarioStatus
from publicdata.models import CatalogEntry, Department, Grant, Scenario

# Ids beyond a signed 64-bit column are refused with a 400 rather than reaching the database.
MAX_ID = 2**63 - 1


def IdFilter(**kwargs):
    return django_filters.NumberFilter(min_value=1, max_value=MAX_ID, **kwargs)


def _next_day(day: dt.date) -> dt.datetime:
    return local_day_start(day + dt.timedelta(days=1))


class WindowFilterSet(django_filters.FilterSet):
    """Adds window filters over `<prefix>valid_from` and `<prefix>valid_until`."""

    window_prefix = ""

    active_on = django_filters.DateFilter(
        method="filter_active_on", label=_("in force on this day")
    )
    window_from = django_filters.DateFilter(
        method="filter_window_from", label=_("window reaches this day or later")
    )
    window_to = django_filters.DateFilter(
        method="filter_window_to", label=_("window starts on or before this day")
    )

    def _q(self, **lookups):
        return {f"{self.window_prefix}{k}": v for k, v in lookups.items()}

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(
            **self._q(valid_from__lt=_next_day(value), valid_until__gt=local_day_start(value))
        )

    def filter_window_from(self, queryset, name, value):
        return queryset.filter(**self._q(valid_until__gt=local_day_start(value)))

    def filter_window_to(self, queryset, name, value):
        return queryset.filter(**self._q(valid_from__lt=_next_day(value)))


class DepartmentFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=DepartmentLevel.choices)
    region = django_filters.ChoiceFilter(choices=Region.choices)

    class Meta:
        model = Department
        fields = ["level", "region"]


class CatalogEntryFilter(django_filters.FilterSet):
    department = IdFilter(field_name="department_id", label=_("department id"))
    grade = django_filters.ChoiceFilter(choices=Grade.choices)

    class Meta:
        model = CatalogEntry
        fields = ["department", "grade"]


class GrantFilter(WindowFilterSet):
    department = IdFilter(field_name="department_id", label=_("department id"))
    industry = industry_filter()
    grantee = IdFilter(field_name="grantee_id", label=_("grantee (merchant id)"))
    status = django_filters.MultipleChoiceFilter(choices=GrantStatus.choices)

    class Meta:
        model = Grant
        fields = ["department", "industry", "grantee", "status"]


class ScenarioFilter(WindowFilterSet):
    window_prefix = "authorization__"

    grant = IdFilter(field_name="grant_id", label=_("grant id"))
    department = IdFilter(field_name="grant__department_id", label=_("department id"))
    industry = industry_filter("grant__industry")
    grantee = IdFilter(field_name="grant__grantee_id", label=_("grantee (merchant id)"))
    status = django_filters.MultipleChoiceFilter(choices=ScenarioStatus.choices)
    purpose = django_filters.ChoiceFilter(choices=ScenarioPurpose.choices)

    class Meta:
        model = Scenario
        fields = ["grant", "department", "industry", "grantee", "status", "purpose"]
