"""Metered plans: usage records from the seller's gateway, billed once a month."""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation, Conflict
from core.filters import local_day_start
from core.money import MAX_FEN, fen_to_yuan
from marketplace.choices import OrderStatus, UsageSource
from marketplace.models import Order, UsageRecord
from marketplace.services.orders import _order_create
from products.choices import PlanKind
from products.models import PricingPlan

logger = logging.getLogger(__name__)

MAX_CALLS_PER_RECORD = 10_000_000
# A gateway clock a little ahead of ours is tolerated; records from the future are not.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# Usage older than this is past any bill and would never be charged.
MAX_AGE = dt.timedelta(days=366)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


def _month_bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local (Asia/Shanghai) month as an aware [start, end) interval."""
    return local_day_start(first), local_day_start(next_month(first))


# An order gives the buyer the right to use the product once paid, until it is
# cancelled or refunded; a usage bill is not itself such a right.
_IN_FORCE = (
    OrderStatus.PAID,
    OrderStatus.DELIVERED,
    OrderStatus.ACCEPTED,
    OrderStatus.CLEARED,
    OrderStatus.SETTLED,
)


def _has_order_in_force(*, seller: Merchant, buyer: Merchant, plan: PricingPlan, day) -> bool:
    """Whether `buyer` holds a paid order of `seller` for the plan's product covering `day`.

    A metered plan is never ordered itself: the buyer's right to call comes from
    another plan of the same product (a free or subscription plan, say). An order
    with a period covers the days of its period; one without (one-off, free) has
    no end.
    """
    covering = Q(period_start__isnull=True) | Q(period_start__lte=day, period_end__gte=day)
    return (
        Order.objects.filter(
            seller=seller,
            buyer=buyer,
            product_id=plan.product_id,
            status__in=_IN_FORCE,
            billed_month__isnull=True,
        )
        .filter(covering)
        .exists()
    )


def usage_right_in_force(*, buyer: Merchant, plan: PricingPlan, day) -> bool:
    """Whether `buyer` may use the metered `plan` on `day` (an order of the product in force)."""
    return _has_order_in_force(seller=plan.product.provider, buyer=buyer, plan=plan, day=day)


def _same(record: UsageRecord, *, buyer_id: int, plan_id: int, calls: int, used_at) -> bool:
    return (
        record.buyer_id == buyer_id
        and record.plan_id == plan_id
        and record.calls == calls
        and record.used_at == used_at
    )


def usage_record_submit(
    *,
    actor: User | None,
    seller: Merchant,
    record_id: str,
    buyer: Merchant,
    plan: PricingPlan,
    calls: int,
    used_at: dt.datetime,
) -> tuple[UsageRecord, bool]:
    """Store one usage record from the seller's gateway; return (record, created).

    The buyer must hold an order of the product in force on the day of use
    (paid, not cancelled or refunded, its period covering the day): a seller
    bills only merchants that contracted with it.

    Idempotent by (seller, record id): the same record again returns the stored
    one; the same id with other figures is refused. A record for a month that
    has already been billed is refused, since it could no longer be charged.
    """
    if actor is not None and getattr(actor, "merchant_id", None) != seller.pk:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("usage is reported by the seller's own gateway"))
    if plan.product.provider_id != seller.pk:
        raise BusinessRuleViolation(_("the plan is not one of your products' plans"), field="plan")
    if plan.kind != PlanKind.METERED:
        raise BusinessRuleViolation(_("usage is recorded for metered plans only"), field="plan")
    if hasattr(plan.product, "upstream"):
        raise BusinessRuleViolation(
            _(
                "This product is served through the exchange's gateway, which measures its "
                "usage; sellers report usage only of products delivered outside it."
            ),
            field="plan",
            code="gateway_measured",
        )
    if buyer.pk == seller.pk:
        raise BusinessRuleViolation(_("a merchant does not bill itself"), field="buyer")
    if not 0 < calls <= MAX_CALLS_PER_RECORD:
        raise BusinessRuleViolation(
            _("between 1 and %(max_calls_per_record)s calls per record")
            % {"max_calls_per_record": MAX_CALLS_PER_RECORD},
            field="calls",
        )
    now = timezone.now()
    if used_at > now + FUTURE_TOLERANCE:
        raise BusinessRuleViolation(_("usage cannot be in the future"), field="used_at")
    if used_at < now - MAX_AGE:
        raise BusinessRuleViolation(_("usage more than a year old is not billed"), field="used_at")
    day = timezone.localtime(used_at).date()
    if not _has_order_in_force(seller=seller, buyer=buyer, plan=plan, day=day):
        raise BusinessRuleViolation(
            _("The buyer holds no paid order of this product covering that day."),
            field="buyer",
            code="no_order_in_force",
        )
    existing = UsageRecord.objects.filter(seller=seller, record_id=record_id).first()
    if existing is None:
        month = month_start(timezone.localtime(used_at).date())
        if Order.objects.filter(plan=plan, buyer=buyer, billed_month=month).exists():
            raise BusinessRuleViolation(
                _("usage for %(month)s has already been billed")
                % {"month": format(month, "%Y-%m")},
                field="used_at",
                code="billed",
            )
        try:
            with transaction.atomic():
                return UsageRecord.objects.create(
                    seller=seller,
                    buyer=buyer,
                    plan=plan,
                    record_id=record_id,
                    calls=calls,
                    used_at=used_at,
                ), True
        except IntegrityError:
            existing = UsageRecord.objects.get(seller=seller, record_id=record_id)
    if not _same(existing, buyer_id=buyer.pk, plan_id=plan.pk, calls=calls, used_at=used_at):
        raise Conflict(
            _("record id '%(record_id)s' was already reported with other figures")
            % {"record_id": record_id},
            code="record_id_reused",
        )
    return existing, False


def usage_bill_amount(plan: PricingPlan, calls: int) -> tuple[int, int, int]:
    """(billable calls, uncapped amount, amount) for a month's `calls` under `plan`."""
    billable = max(0, calls - plan.included_calls)
    uncapped = billable * plan.unit_price_fen
    amount = uncapped if plan.monthly_cap_fen is None else min(uncapped, plan.monthly_cap_fen)
    return billable, uncapped, min(amount, MAX_FEN)


def usage_bill(*, plan_id: int, buyer_id: int, month: dt.date) -> Order | None:
    """Bill one buyer's month of usage of one plan into one order.

    Idempotent: (plan, buyer, billed month) is unique on orders, so a re-run,
    or a second worker, returns the existing bill. The records billed are
    locked and linked to the order in the same transaction.
    """
    month = month_start(month)
    start, end = _month_bounds(month)
    existing = Order.objects.filter(plan_id=plan_id, buyer_id=buyer_id, billed_month=month).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            records = list(
                UsageRecord.objects.select_for_update()
                .filter(
                    plan_id=plan_id,
                    buyer_id=buyer_id,
                    used_at__gte=start,
                    used_at__lt=end,
                    billed_order__isnull=True,
                )
                .order_by("pk")
            )
            if not records:
                return None
            plan = PricingPlan.objects.select_related("product__provider").get(pk=plan_id)
            calls = sum(r.calls for r in records)
            sources = {r.source for r in records}
            source = UsageSource.GATEWAY if sources == {UsageSource.GATEWAY} else UsageSource.SELLER
            billable, uncapped, amount = usage_bill_amount(plan, calls)
            order = _order_create(
                actor=None,
                buyer=Merchant.objects.get(pk=buyer_id),
                plan=plan,
                quantity=1,
                amount_fen=amount,
                period_start=month,
                period_end=next_month(month) - dt.timedelta(days=1),
                billed_month=month,
                usage={
                    "month": f"{month:%Y-%m}",
                    "calls": calls,
                    "included_calls": plan.included_calls,
                    "billable_calls": billable,
                    "uncapped_amount": fen_to_yuan(uncapped),
                    "capped": amount < uncapped,
                    # gateway: counted by the exchange; seller: the seller's own report
                    "source": str(source),
                },
                reason=f"usage of {month:%Y-%m}: {calls} calls, {source}-measured",
            )
            UsageRecord.objects.filter(pk__in=[r.pk for r in records]).update(billed_order=order)
            return order
    except IntegrityError:
        return Order.objects.get(plan_id=plan_id, buyer_id=buyer_id, billed_month=month)


def usage_bill_month(*, month: dt.date) -> int:
    """Bill every (plan, buyer) with unbilled usage in `month`; returns how many orders made."""
    month = month_start(month)
    start, end = _month_bounds(month)
    pairs = (
        UsageRecord.objects.filter(used_at__gte=start, used_at__lt=end, billed_order__isnull=True)
        .values("plan_id", "buyer_id")
        .annotate(calls=Sum("calls"))
        .order_by("plan_id", "buyer_id")
    )
    made = 0
    for pair in list(pairs):
        already = Order.objects.filter(
            plan_id=pair["plan_id"], buyer_id=pair["buyer_id"], billed_month=month
        ).exists()
        if already:
            logger.warning(
                "usage of plan %s by buyer %s for %s arrived after its bill",
                pair["plan_id"], pair["buyer_id"], month,
            )  # fmt: skip
            continue
        if usage_bill(plan_id=pair["plan_id"], buyer_id=pair["buyer_id"], month=month):
            made += 1
    return made
