"""Filters shared by every app's FilterSets."""

import datetime as dt

import django_filters
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend

from core.scoping import visible_to


class ScopedFilterBackend(DjangoFilterBackend):
    """django-filter, with every filter that names a row narrowed to the rows the caller may name.

    `?product=<id>` of another merchant's draft is then refused exactly like an
    id that does not exist, instead of answering an empty page for one and a
    400 for the other (which told which ids exist). Reference data and
    published rows stay nameable (core.scoping.visible_to).
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        user = getattr(request, "user", None)
        for declared in filterset.filters.values():
            if not isinstance(
                declared,
                django_filters.ModelChoiceFilter | django_filters.ModelMultipleChoiceFilter,
            ):
                continue
            choices = declared.get_queryset(request)
            if getattr(choices.model, "merchant_scope", None) is None:
                continue
            declared.queryset = visible_to(choices, user)
            declared.__dict__.pop("_field", None)  # the form field is made from the queryset
        filterset.__dict__.pop("_form", None)
        return filterset


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
