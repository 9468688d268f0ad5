"""Filters shared by every app's FilterSets."""

import datetime as dt

import django_filters
from django.utils import timezone


def local_day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the exchange's time zone (Asia/Shanghai), as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class LocalDateFromFilter(django_filters.DateFilter):
    """Rows on or after this local calendar day; compares the raw column, so indexes apply."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(**{f"{self.field_name}__gte": local_day_start(value)})


class LocalDateToFilter(django_filters.DateFilter):
    """Rows on or before this local calendar day (inclusive)."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(
            **{f"{self.field_name}__lt": local_day_start(value + dt.timedelta(days=1))}
        )


def industry_filter(field_name: str = "industry", **kwargs) -> django_filters.ModelChoiceFilter:
    """Reference data is named by its code everywhere in the API: `?industry=weather`."""
    from django.utils.translation import gettext_lazy as _

    from products.models import Industry

    kwargs.setdefault("label", _("industry (code)"))
    return django_filters.ModelChoiceFilter(
        field_name=field_name, queryset=Industry.objects.all(), to_field_name="code", **kwargs
    )


def board_filter(field_name: str = "board", **kwargs) -> django_filters.ModelChoiceFilter:
    """A trading board by its code: `?board=weather`."""
    from django.utils.translation import gettext_lazy as _

    from products.models import Board

    kwargs.setdefault("label", _("trading board (code)"))
    return django_filters.ModelChoiceFilter(
        field_name=field_name, queryset=Board.objects.all(), to_field_name="code", **kwargs
    )
