"""Reads of the query service that more than one entry point needs."""

from django.db.models import QuerySet

from products.choices import PlanKind
from querying.choices import TemplateStatus
from querying.models import QueryTemplate


def template_runnable_list(*, buyer_id: int) -> QuerySet[QueryTemplate]:
    """Approved templates of products the buyer holds a metered order in force for."""
    from querying.services.runs import IN_FORCE

    return QueryTemplate.objects.filter(
        status=TemplateStatus.APPROVED,
        product__orders__buyer_id=buyer_id,
        product__orders__plan__kind=PlanKind.METERED,
        product__orders__billed_month__isnull=True,
        product__orders__status__in=IN_FORCE,
    ).distinct()
