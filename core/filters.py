"""Filters shared by every app's FilterSets."""

import datetime as dt
from typing import Any

import django_filters
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation

from core.scoping import visible_to


class ScopedFilterBackend(DjangoFilterBackend):
    """django-filter, with every filter that names a row narrowed to the rows the caller may name.

    `?product=<id>` of another merchant's draft is then refused exactly like an
    id that does not exist, instead of answering an empty page for one and a
    400 for the other (which told which ids exist). Reference data and
    published rows stay nameable (core.scoping.visible_to).
    """

    def filter_queryset(self, request, queryset, view):
        # Only the filters the query string names are built: a FilterSet copies
        # every filter and its form field per request, which cost the market's
        # list more than its SQL, and a filter left out of the query string
        # filters nothing (each of ours returns the rows unchanged for no value).
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        filterset_class = filters_asked(filterset_class, request.query_params.keys())
        filterset = self._scoped(
            filterset_class(**self.get_filterset_kwargs(request, queryset, view)), request
        )
        if not filterset.is_valid() and self.raise_exception:
            raise translate_validation(filterset.errors)
        return filterset.qs

    def get_filterset_class(self, view, queryset=None):
        # django-filter makes a new FilterSet class per request for a view's
        # `filterset_fields`; a class of the view's own fields is made once.
        fields = getattr(view, "filterset_fields", None)
        if (
            getattr(view, "filterset_class", None) is None
            and fields
            and queryset is not None
            and fields is getattr(type(view), "filterset_fields", None)
        ):
            return _fields_filterset(type(self), type(view), queryset.model)
        return super().get_filterset_class(view, queryset)

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        return self._scoped(filterset, request)

    @staticmethod
    def _scoped(filterset, request):
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


# Classes made once and kept: bounded by the views and filters the code declares.
_FIELDS_FILTERSETS: dict[tuple, Any] = {}
_NARROWED: dict[tuple, Any] = {}


def _fields_filterset(backend_class: Any, view_class: Any, model: Any) -> Any:
    key = (backend_class, view_class, model)
    if key not in _FIELDS_FILTERSETS:
        view = view_class.__new__(view_class)  # the class attributes are all it reads
        _FIELDS_FILTERSETS[key] = DjangoFilterBackend.get_filterset_class(
            backend_class(), view, model.objects.none()
        )
    return _FIELDS_FILTERSETS[key]


def filters_asked(filterset_class: Any, asked_names) -> Any:
    """`filterset_class` narrowed to the filters `asked_names` (query-string keys) may name.

    A key names a filter by its name, or by its name and a suffix, as range
    widgets spell theirs (`price_min`, `listed_after`). Kept per class and
    set of filters, so a page pays for the narrowing once.
    """
    names = frozenset(
        name
        for name in filterset_class.base_filters
        if any(key == name or key.startswith(f"{name}_") for key in asked_names)
    )
    if names == frozenset(filterset_class.base_filters):
        return filterset_class
    key = (filterset_class, names)
    if key not in _NARROWED:
        narrowed: Any = type(filterset_class.__name__, (filterset_class,), {"__module__": __name__})
        narrowed.base_filters = {
            name: declared
            for name, declared in filterset_class.base_filters.items()
            if name in names
        }
        _NARROWED[key] = narrowed
    return _NARROWED[key]


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
