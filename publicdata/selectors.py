"""Reads for grants and scenarios."""

import datetime as dt

from django.db.models import Q

from products.choices import DataSourceKind, ProductStatus
from publicdata.choices import GRANT_IN_FORCE, GrantStatus, ScenarioStatus
from publicdata.models import Grant, Scenario


def grant_in_force_overlapping(
    *, industry, department, valid_from: dt.datetime, valid_until: dt.datetime, exclude_pk=None
) -> Grant | None:
    """The grant in force for this industry and department whose window meets [from, until).

    Half-open windows: one grant may end exactly when the next begins.
    """
    queryset = Grant.objects.select_related("grantee", "industry", "department").filter(
        industry=industry,
        department=department,
        status__in=GRANT_IN_FORCE,
        valid_from__lt=valid_until,
        valid_until__gt=valid_from,
    )
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.order_by("valid_from", "pk").first()


def grants_due_to_expire(*, at: dt.datetime) -> list[int]:
    return list(
        Grant.objects.filter(status__in=GRANT_IN_FORCE, valid_until__lte=at)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def scenarios_due_to_expire(*, at: dt.datetime) -> list[int]:
    """Authorized scenarios whose window ended; assessed ones whose grant's window ended."""
    return list(
        Scenario.objects.filter(
            Q(status=ScenarioStatus.AUTHORIZED, authorization__valid_until__lte=at)
            | Q(status=ScenarioStatus.ASSESSED, grant__valid_until__lte=at)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def listed_public_products_out_of_force(*, at: dt.datetime) -> list[int]:
    """Listed public-data products whose grant or a named scenario is not in force at `at`."""
    from products.models import Product

    listed = Product.objects.filter(status=ProductStatus.LISTED, source_kind=DataSourceKind.PUBLIC)
    bad_grant = (
        Q(grant__isnull=True) | ~Q(grant__status=GrantStatus.ACTIVE) | Q(grant__valid_until__lte=at)
    )
    bad_scenario = Q(
        scenarios__in=Scenario.objects.filter(
            ~Q(status=ScenarioStatus.AUTHORIZED)
            | Q(authorization__valid_until__lte=at)
            | Q(authorization__valid_from__gt=at)
        )
    )
    return sorted(set(listed.filter(bad_grant | bad_scenario).values_list("pk", flat=True)))
