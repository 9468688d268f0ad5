"""Reads for trading, narrowed by core.scoping like every list."""

from django.db.models import QuerySet

from core.scoping import scope_to_merchant
from marketplace.models import Order, UsageRecord


def order_list(*, user) -> QuerySet[Order]:
    """Orders `user` may see: operators all, a merchant its purchases and its sales."""
    return scope_to_merchant(
        Order.objects.select_related("buyer", "seller", "product", "plan"), user
    )


def order_get(*, user, pk: int) -> Order:
    return order_list(user=user).get(pk=pk)


def usage_record_list(*, user) -> QuerySet[UsageRecord]:
    return scope_to_merchant(UsageRecord.objects.all(), user)
