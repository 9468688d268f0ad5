"""Writes for subscriptions: the next period's order, made before the current one ends."""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation
from core.transitions import lock_one
from marketplace.choices import OrderStatus
from marketplace.models import Order
from marketplace.services.orders import (
    _check_scenario,
    _check_sellable,
    _order_create,
    subscription_period,
)
from products.choices import PlanKind
from products.models import PricingPlan

logger = logging.getLogger(__name__)

RENEWABLE_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.DELIVERED,
    OrderStatus.ACCEPTED,
    OrderStatus.CLEARED,
    OrderStatus.SETTLED,
)


def order_renew(*, actor: User | None, order: Order) -> Order | None:
    """The next period's order of a subscription; at most one per order.

    Idempotent: the renewal link (Order.renewal_of) is unique, so a second
    call, or a second worker, gets the existing renewal. Returns None, and
    creates nothing, when the product can no longer be bought (delisted, plan
    off sale, buyer inactive, scenario no longer authorized).
    """
    with transaction.atomic():
        previous = lock_one(Order, order.pk)
        existing = Order.objects.filter(renewal_of=previous).first()
        if existing is not None:
            return existing
        if previous.plan.kind != PlanKind.SUBSCRIPTION or previous.period_end is None:
            raise BusinessRuleViolation(_("only subscription orders renew"), field="order")
        plan = PricingPlan.objects.select_related(
            "product__provider", "product__grant__department", "product__grant__industry"
        ).get(pk=previous.plan_id)
        try:
            _check_sellable(buyer=previous.buyer, plan=plan)
            _check_scenario(product=plan.product, scenario=previous.scenario)
        except BusinessRuleViolation as exc:
            logger.info("subscription %s not renewed: %s", previous.number, exc.message)
            return None
        start, end = subscription_period(
            plan, previous.period_end + dt.timedelta(days=1), previous.quantity
        )
        try:
            with transaction.atomic():
                return _order_create(
                    actor=actor,
                    buyer=previous.buyer,
                    plan=plan,
                    quantity=previous.quantity,
                    amount_fen=plan.price_fen * previous.quantity,
                    period_start=start,
                    period_end=end,
                    scenario=previous.scenario,
                    renewal_of=previous,
                    reason=f"renews {previous.number}",
                )
        except IntegrityError:
            return Order.objects.get(renewal_of=previous)


def subscriptions_renew(*, today: dt.date | None = None, within_days: int = 7) -> int:
    """Renew subscriptions whose period ends within `within_days`; returns how many renewed."""
    today = today or timezone.localdate()
    ids = list(
        Order.objects.filter(
            plan__kind=PlanKind.SUBSCRIPTION,
            status__in=RENEWABLE_STATUSES,
            period_end__gte=today,
            period_end__lte=today + dt.timedelta(days=within_days),
            renewal__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    renewed = 0
    for pk in ids:
        if order_renew(actor=None, order=Order(pk=pk)) is not None:
            renewed += 1
    return renewed
