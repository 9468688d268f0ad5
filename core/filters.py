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
