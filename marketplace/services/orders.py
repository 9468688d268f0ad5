"""Writes for orders: placing, delivering, accepting, cancelling, refunds and disputes.

Every status move locks the order row first (`lock_one`, or pk order for
several), checks the move against ORDER_TRANSITIONS through
`core.transitions.transition` and records an OrderEvent. Moves that keep the
status (a partial refund, a dispute opened or resolved) record an event too,
with the same from and to status, so the history tells the whole story.
"""

import calendar
import datetime as dt
import logging
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from core.money import MAX_FEN, fen_to_yuan
from core.scoping import is_operator
from core.transitions import lock_one, transition
from marketplace.choices import (
    ORDER_TRANSITIONS,
    REFUNDABLE_STATUSES,
    DisputeOutcome,
    OrderStatus,
    RefundStatus,
)
from marketplace.models import Dispute, Order, OrderEvent, Refund
from products.choices import DataSourceKind, PlanKind, ProductStatus, SubscriptionPeriod
from products.models import PricingPlan, Product
from publicdata import rules as publicdata_rules
from publicdata.models import Scenario

logger = logging.getLogger(__name__)

MAX_QUANTITY = 10_000
MAX_PERIODS = 36
# How far ahead a buyer may date the start of a subscription.
MAX_START_AHEAD = dt.timedelta(days=90)
PERIOD_MONTHS = {
    SubscriptionPeriod.MONTH: 1,
    SubscriptionPeriod.QUARTER: 3,
    SubscriptionPeriod.YEAR: 12,
}

BUYER = "buyer"
SELLER = "seller"
OPERATOR = "operator"


# --- helpers -------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (Jan 31 + 1 = Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def subscription_period(plan: PricingPlan, start: dt.date, periods: int) -> tuple[dt.date, dt.date]:
    """[start, end] of `periods` subscription periods, both days inclusive."""
    months = PERIOD_MONTHS.get(plan.period, 1) * periods
    return start, add_months(start, months) - dt.timedelta(days=1)


def _require_side(order: Order, actor: User | None, *sides: str) -> str:
    """Which side `actor` acts for on `order`; PermissionDenied if none of `sides`.

    A merchant that is buyer and seller cannot exist (a check constraint), so
    a person acts for exactly one side of an order.
    """
    if OPERATOR in sides and is_operator(actor):
        return OPERATOR
    merchant_id = getattr(actor, "merchant_id", None) if actor is not None else None
    if BUYER in sides and merchant_id is not None and merchant_id == order.buyer_id:
        return BUYER
    if SELLER in sides and merchant_id is not None and merchant_id == order.seller_id:
        return SELLER
    names = {BUYER: "the buyer", SELLER: "the seller", OPERATOR: "an exchange operator"}
    raise PermissionDenied(f"only {' or '.join(names[s] for s in sides)} may do this")


def _record(order: Order, *, actor: User | None, reason: str) -> OrderEvent:
    """An event for a move that keeps the status (partial refund, dispute opened or resolved)."""
    return order.events.create(
        actor=actor if getattr(actor, "pk", None) else None,
        from_status=order.status,
        to_status=order.status,
        reason=reason,
    )


def _move(order: Order, *, to: str, actor: User | None, reason: str, **changes) -> bool:
    return transition(
        order, to=to, actor=actor, reason=reason, transitions=ORDER_TRANSITIONS, changes=changes
    )


def _new_number() -> str:
    # Date for people reading it, 48 random bits so numbers cannot be guessed
    # or collide; the unique constraint is the backstop.
    return f"{timezone.localdate():%Y%m%d}{secrets.token_hex(6).upper()}"


def _party(merchant: Merchant) -> dict:
    return {
        "id": merchant.pk,
        "legal_name": merchant.legal_name,
        "credit_code": merchant.credit_code,
    }


def contract_snapshot(
    *,
    product: Product,
    plan: PricingPlan,
    buyer: Merchant,
    quantity: int,
    amount_fen: int,
    period_start: dt.date | None,
    period_end: dt.date | None,
    scenario: Scenario | None,
    usage: dict | None = None,
) -> dict:
    """The contract as both parties saw it when the order was made; never edited afterwards."""
    grant = product.grant if scenario is not None else None
    return {
        "signed_at": timezone.localtime().isoformat(),
        "product": {
            "id": product.pk,
            "title": product.title,
            "version": product.version,
            "registration_number": product.registration_number,
            "delivery_mode": product.delivery_mode,
            "grade": product.grade,
            "source_kind": product.source_kind,
        },
        "plan": {
            "id": plan.pk,
            "name": plan.name,
            "kind": plan.kind,
            "period": plan.period,
            "price": fen_to_yuan(plan.price_fen),
            "unit_price": fen_to_yuan(plan.unit_price_fen),
            "included_calls": plan.included_calls,
            "monthly_cap": None
            if plan.monthly_cap_fen is None
            else fen_to_yuan(plan.monthly_cap_fen),
        },
        "quantity": quantity,
        "amount": fen_to_yuan(amount_fen),
        "period_start": period_start.isoformat() if period_start else None,
        "period_end": period_end.isoformat() if period_end else None,
        # the manual's usage restrictions are the usage terms the buyer agrees to
        "usage_terms": product.manual_usage_restrictions,
        "public_data": None
        if grant is None
        else {
            "grant_id": grant.pk,
            "department": {
                "id": grant.department_id,
                "code": grant.department.code,
                "name": grant.department.name,
            },
            "industry": grant.industry.name,
            "revenue_share_bps": grant.revenue_share_bps,
            "scenario": {"id": scenario.pk, "name": scenario.name, "purpose": scenario.purpose},
        },
        "usage": usage,
        "seller": _party(product.provider),
        "buyer": _party(buyer),
    }


def _order_create(
    *,
    actor: User | None,
    buyer: Merchant,
    plan: PricingPlan,
    quantity: int,
    amount_fen: int,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    scenario: Scenario | None = None,
    renewal_of: Order | None = None,
    billed_month: dt.date | None = None,
    usage: dict | None = None,
    reason: str = "placed",
) -> Order:
    """Insert the order with its frozen contract; a free order is paid at once."""
    product = plan.product
    grant = product.grant if scenario is not None else None
    order = Order.objects.create(
        number=_new_number(),
        buyer=buyer,
        seller=product.provider,
        product=product,
        plan=plan,
        quantity=quantity,
        period_start=period_start,
        period_end=period_end,
        amount_fen=amount_fen,
        contract=contract_snapshot(
            product=product,
            plan=plan,
            buyer=buyer,
            quantity=quantity,
            amount_fen=amount_fen,
            period_start=period_start,
            period_end=period_end,
            scenario=scenario,
            usage=usage,
        ),
        board_id=product.board_id,
        delivery_mode=product.delivery_mode,
        grant=grant,
        scenario=scenario,
        department_id=grant.department_id if grant else None,
        department_share_bps=grant.revenue_share_bps if grant else 0,
        renewal_of=renewal_of,
        billed_month=billed_month,
    )
    OrderEvent.objects.create(
        subject=order,
        actor=actor if getattr(actor, "pk", None) else None,
        from_status="",
        to_status=OrderStatus.PENDING_PAYMENT,
        reason=reason,
    )
    if amount_fen == 0:
        # Nothing to collect, so nothing goes through the channel or escrow.
        _move(
            order,
            to=OrderStatus.PAID,
            actor=actor,
            reason="free of charge: nothing to pay",
            paid_at=timezone.now(),
        )
    return order


def _check_sellable(*, buyer: Merchant, plan: PricingPlan) -> None:
    product = plan.product
    seller = product.provider
    if not buyer.is_active:
        raise BusinessRuleViolation(
            f"the buyer merchant is {buyer.status}, not active", field="buyer", code="inactive"
        )
    if buyer.pk == seller.pk or buyer.credit_code == seller.credit_code:
        raise BusinessRuleViolation(
            "a merchant cannot buy its own product (same merchant or credit code)",
            field="plan",
            code="own_product",
        )
    if product.status != ProductStatus.LISTED:
        raise BusinessRuleViolation(
            f"the product is {product.status}, not listed", field="plan", code="not_listed"
        )
    if not plan.is_active:
        raise BusinessRuleViolation("this plan is no longer on sale", field="plan", code="off_sale")
    if not seller.is_active:
        raise BusinessRuleViolation(
            "the seller is not active on the exchange", field="plan", code="seller_inactive"
        )


def _check_scenario(*, product: Product, scenario: Scenario | None) -> None:
    """一场景一评估一授权: public data is sold only for an authorized scenario of the product."""
    if product.source_kind != DataSourceKind.PUBLIC:
        if scenario is not None:
            raise BusinessRuleViolation(
                "this product is not built on public data; do not name a scenario",
                field="scenario",
            )
        return
    if scenario is None:
        raise BusinessRuleViolation(
            "this product is built on public data: name the authorized scenario "
            "the purchase serves",
            field="scenario",
            code="required",
        )
    if product.grant_id is None or scenario.grant_id != product.grant_id:
        raise BusinessRuleViolation(
            "the scenario is not under the product's grant", field="scenario", code="wrong_grant"
        )
    if not product.scenarios.filter(pk=scenario.pk).exists():
        raise BusinessRuleViolation(
            "the product does not serve this scenario", field="scenario", code="not_served"
        )
    if not publicdata_rules.scenario_in_force(scenario):
        raise BusinessRuleViolation(
            "the scenario is not authorized now (no passing assessment, authorization "
            "or active grant)",
            field="scenario",
            code="not_in_force",
        )


# --- placing -------------------------------------------------------------------------------


@transaction.atomic
def order_place(
    *,
    actor: User | None,
    buyer: Merchant,
    plan: PricingPlan,
    quantity: int = 1,
    scenario: Scenario | None = None,
    start_on: dt.date | None = None,
) -> Order:
    """Place an order for a listed product's plan, in status pending_payment.

    Invariants: the amount is computed here from the plan (one-off: price x
    quantity; subscription: price per period x periods; free: 0), never taken
    from the client; the contract snapshot is frozen now; nobody buys from
    itself; public data is bought only for an authorized scenario of the
    product. Metered plans are ordered by the monthly usage bill, not here.
    """
    if actor is not None and not is_operator(actor) and actor.merchant_id != buyer.pk:
        raise PermissionDenied("a merchant's people place orders for their own merchant only")
    plan = PricingPlan.objects.select_related(
        "product__provider", "product__grant__department", "product__grant__industry"
    ).get(pk=plan.pk)
    product = plan.product
    _check_sellable(buyer=buyer, plan=plan)
    _check_scenario(product=product, scenario=scenario)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise BusinessRuleViolation("a whole number of at least 1", field="quantity")
    period_start = period_end = None
    if plan.kind == PlanKind.METERED:
        raise BusinessRuleViolation(
            "metered plans are billed monthly from usage records; there is nothing to order",
            field="plan",
            code="metered",
        )
    if plan.kind == PlanKind.FREE:
        if quantity != 1:
            raise BusinessRuleViolation("a free plan is ordered once", field="quantity")
        amount_fen = 0
    elif plan.kind == PlanKind.ONE_OFF:
        if quantity > MAX_QUANTITY:
            raise BusinessRuleViolation(f"at most {MAX_QUANTITY}", field="quantity")
        amount_fen = plan.price_fen * quantity
    else:
        if quantity > MAX_PERIODS:
            raise BusinessRuleViolation(f"at most {MAX_PERIODS} periods", field="quantity")
        today = timezone.localdate()
        start = start_on or today
        if start < today or start > today + MAX_START_AHEAD:
            raise BusinessRuleViolation(
                "a subscription starts today or within the next 90 days", field="start_on"
            )
        period_start, period_end = subscription_period(plan, start, quantity)
        amount_fen = plan.price_fen * quantity
    if start_on is not None and plan.kind != PlanKind.SUBSCRIPTION:
        raise BusinessRuleViolation("only subscriptions have a start date", field="start_on")
    if amount_fen > MAX_FEN:
        raise BusinessRuleViolation("the amount is too large for one order", field="quantity")
    return _order_create(
        actor=actor,
        buyer=buyer,
        plan=plan,
        quantity=quantity,
        amount_fen=amount_fen,
        period_start=period_start,
        period_end=period_end,
        scenario=scenario,
    )


# --- delivery and acceptance -----------------------------------------------------------------


@transaction.atomic
def order_deliver(*, actor: User, order: Order, note: str = "") -> Order:
    """paid -> delivered, by the seller. Starts the auto-acceptance clock."""
    order = lock_one(Order, order.pk)
    _require_side(order, actor, SELLER)
    _move(
        order,
        to=OrderStatus.DELIVERED,
        actor=actor,
        reason=note or "delivered",
        delivered_at=timezone.now(),
        delivery_note=note,
    )
    return order


def _accept_locked(order: Order, *, actor: User | None, reason: str) -> bool:
    if order.is_disputed and order.status == OrderStatus.DELIVERED:
        raise Conflict("a dispute is open on this order; an operator resolves it", code="disputed")
    return _move(
        order, to=OrderStatus.ACCEPTED, actor=actor, reason=reason, accepted_at=timezone.now()
    )


@transaction.atomic
def order_accept(*, actor: User, order: Order, reason: str = "") -> Order:
    """delivered -> accepted, by the buyer. Not while a dispute is open."""
    order = lock_one(Order, order.pk)
    _require_side(order, actor, BUYER)
    _accept_locked(order, actor=actor, reason=reason or "accepted by the buyer")
    return order


def orders_auto_accept(*, now: dt.datetime | None = None) -> int:
    """Accept delivered, undisputed orders EXCHANGE_AUTO_ACCEPT_DAYS days after delivery.

    Each order is locked and checked again in its own transaction, so a buyer
    accepting or disputing at the same moment wins or loses cleanly, and a
    re-run accepts nothing twice. Returns how many orders were accepted.
    """
    now = now or timezone.now()
    days = settings.EXCHANGE_AUTO_ACCEPT_DAYS
    cutoff = now - dt.timedelta(days=days)
    ids = list(
        Order.objects.filter(
            status=OrderStatus.DELIVERED, is_disputed=False, delivered_at__lte=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    accepted = 0
    for pk in ids:
        with transaction.atomic():
            order = lock_one(Order, pk)
            if (
                order.status != OrderStatus.DELIVERED
                or order.is_disputed
                or order.delivered_at > cutoff
            ):
                continue
            accepted += _accept_locked(
                order, actor=None, reason=f"accepted automatically {days} days after delivery"
            )
    return accepted


@transaction.atomic
def order_cancel(*, actor: User, order: Order, reason: str = "") -> Order:
    """pending_payment -> cancelled, by the buyer or an operator. Nothing was paid."""
    order = lock_one(Order, order.pk)
    _require_side(order, actor, BUYER, OPERATOR)
    _move(order, to=OrderStatus.CANCELLED, actor=actor, reason=reason or "cancelled")
    return order


# --- refunds -----------------------------------------------------------------------------------


def _check_refundable(order: Order, amount_fen: int, *, field: str = "amount") -> None:
    if order.status not in REFUNDABLE_STATUSES:
        raise InvalidTransition(
            model_label=str(Order._meta.verbose_name),
            current=order.status,
            target=OrderStatus.REFUNDED,
            detail=f"an order that is {order.status} holds no escrow to refund",
        )
    if order.clearing_batch_id is not None:
        # Clearing has computed this order's split; the money is no longer ours to return.
        raise Conflict("clearing has already taken this order", code="in_clearing")
    if amount_fen <= 0:
        raise BusinessRuleViolation("a refund is more than 0.00", field=field)
    if amount_fen > order.escrow_fen:
        raise BusinessRuleViolation(
            f"at most {fen_to_yuan(order.escrow_fen)} is left in escrow for this order",
            field=field,
            code="exceeds_escrow",
        )


def _refund_locked(
    order: Order,
    *,
    actor: User | None,
    amount_fen: int,
    reason: str,
    refund: Refund | None = None,
) -> Refund:
    """Return `amount_fen` of the locked order's escrow to the buyer; post the ledger entry."""
    from settlements.choices import AccountKind, EntryPurpose
    from settlements.services.ledger import Line, account_get, journal_post

    _check_refundable(order, amount_fen)
    now = timezone.now()
    decided_by = actor if getattr(actor, "pk", None) else None
    if refund is None:
        refund = Refund.objects.create(
            order=order,
            amount_fen=amount_fen,
            reason=reason,
            status=RefundStatus.COMPLETED,
            requested_by=decided_by,
            decided_by=decided_by,
            decided_at=now,
        )
    else:
        refund.amount_fen = amount_fen
        refund.status = RefundStatus.COMPLETED
        refund.decided_by = decided_by
        refund.decided_at = now
        refund.save(update_fields=["amount_fen", "status", "decided_by", "decided_at"])
    refunded = order.refunded_fen + amount_fen
    text = f"refund of {fen_to_yuan(amount_fen)}: {reason}"
    if refunded == order.amount_fen:
        _move(order, to=OrderStatus.REFUNDED, actor=actor, reason=text, refunded_fen=refunded)
        # Nothing is left to refund; open requests have nothing to act on.
        order.refunds.filter(status=RefundStatus.REQUESTED).update(
            status=RefundStatus.DECLINED, decided_at=now
        )
    else:
        order.refunded_fen = refunded
        order.save(update_fields=["refunded_fen", "updated_at"])
        _record(order, actor=actor, reason=f"partial {text}")
    journal_post(
        idempotency_key=f"refund:{refund.pk}",
        purpose=EntryPurpose.REFUND,
        order_id=order.pk,
        lines=[
            Line(
                account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=order.buyer_id), -amount_fen
            ),
            Line(account_get(kind=AccountKind.BANK_CLEARING), amount_fen),
        ],
        memo=f"refund {order.number}",
    )
    return refund


def _refuse_while_disputed(order: Order) -> None:
    if order.is_disputed:
        raise Conflict(
            "a dispute is open on this order; refunds go through the dispute's resolution",
            code="disputed",
        )


@transaction.atomic
def order_refund(
    *, actor: User, order: Order, amount_fen: int | None = None, reason: str
) -> Refund:
    """Refund part or all (default: all that is left) of the escrow, before clearing.

    By an operator, or by the seller giving its own money back. Invariant:
    refunds never exceed the amount paid; a full refund ends in 'refunded'.
    The row lock makes a refund and a clearing of the same order exclusive:
    clearing moves only orders still 'accepted' (a conditional UPDATE), and a
    refund refuses an order that is already cleared.
    """
    order = lock_one(Order, order.pk)
    _require_side(order, actor, OPERATOR, SELLER)
    _refuse_while_disputed(order)
    return _refund_locked(
        order,
        actor=actor,
        amount_fen=order.escrow_fen if amount_fen is None else amount_fen,
        reason=reason,
    )


@transaction.atomic
def order_refund_request(
    *, actor: User, order: Order, amount_fen: int | None = None, reason: str
) -> Refund:
    """The buyer asks for part or all of its money back; the seller or an operator decides."""
    order = lock_one(Order, order.pk)
    _require_side(order, actor, BUYER)
    _refuse_while_disputed(order)
    amount_fen = order.escrow_fen if amount_fen is None else amount_fen
    _check_refundable(order, amount_fen)
    refund = Refund.objects.create(
        order=order, amount_fen=amount_fen, reason=reason, requested_by=actor
    )
    _record(order, actor=actor, reason=f"refund of {fen_to_yuan(amount_fen)} asked: {reason}")
    return refund


def _lock_request(refund: Refund) -> tuple[Order, Refund]:
    # Order first, then refund: the same order as every other path that
    # touches both, so two deciders never deadlock.
    order = lock_one(Order, refund.order_id)
    refund = lock_one(Refund, refund.pk)
    if refund.status != RefundStatus.REQUESTED:
        raise Conflict(f"this refund request is already {refund.status}", code="decided")
    return order, refund


@transaction.atomic
def refund_request_approve(*, actor: User, refund: Refund, reason: str = "") -> Refund:
    """The seller or an operator grants a buyer's refund request."""
    order, refund = _lock_request(refund)
    _require_side(order, actor, OPERATOR, SELLER)
    _refuse_while_disputed(order)
    return _refund_locked(
        order,
        actor=actor,
        amount_fen=refund.amount_fen,
        reason=reason or refund.reason,
        refund=refund,
    )


@transaction.atomic
def refund_request_decline(*, actor: User, refund: Refund, reason: str) -> Refund:
    """The seller or an operator declines a refund request; the buyer may then dispute."""
    order, refund = _lock_request(refund)
    _require_side(order, actor, OPERATOR, SELLER)
    refund.status = RefundStatus.DECLINED
    refund.decided_by = actor
    refund.decided_at = timezone.now()
    refund.save(update_fields=["status", "decided_by", "decided_at"])
    _record(order, actor=actor, reason=f"refund request declined: {reason}")
    return refund


# --- disputes -----------------------------------------------------------------------------------


@transaction.atomic
def order_dispute_open(*, actor: User, order: Order, reason: str) -> Dispute:
    """The buyer disputes a delivered (or accepted, not yet cleared) order.

    Invariant: while the dispute is open the order is frozen: it is not
    accepted automatically and clearing skips it (Order.is_disputed).
    Opening a dispute on an order that already has one returns that one.
    """
    order = lock_one(Order, order.pk)
    _require_side(order, actor, BUYER)
    if order.is_disputed:
        return order.disputes.get(outcome="")
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.ACCEPTED) or (
        order.clearing_batch_id is not None
    ):
        raise InvalidTransition(
            model_label=str(Order._meta.verbose_name),
            current=order.status,
            target="disputed",
            detail=f"a dispute is opened after delivery and before clearing; "
            f"this order is {order.status}",
        )
    dispute = Dispute.objects.create(order=order, reason=reason, opened_by=actor)
    order.is_disputed = True
    order.save(update_fields=["is_disputed", "updated_at"])
    _record(order, actor=actor, reason=f"dispute opened: {reason}")
    return dispute


@transaction.atomic
def order_dispute_resolve(
    *,
    actor: User,
    order: Order,
    outcome: str,
    reason: str,
    refund_fen: int | None = None,
) -> Dispute:
    """An operator ends a dispute: release to the seller, refund the buyer, or split.

    release: the order goes on to 'accepted' and clears as usual;
    refund: all the escrow goes back to the buyer ('refunded');
    split: `refund_fen` goes back (more than 0, less than the escrow) and the
    rest is released ('accepted').
    """
    order = lock_one(Order, order.pk)
    _require_side(order, actor, OPERATOR)
    if not order.is_disputed:
        raise Conflict("no dispute is open on this order", code="not_disputed")
    dispute = Dispute.objects.select_for_update().get(order=order, outcome="")
    escrow = order.escrow_fen
    if outcome == DisputeOutcome.RELEASE:
        refunded = 0
    elif outcome == DisputeOutcome.REFUND:
        refunded = escrow
    elif outcome == DisputeOutcome.SPLIT:
        if refund_fen is None or not 0 < refund_fen < escrow:
            raise BusinessRuleViolation(
                f"a split refunds more than 0.00 and less than the {fen_to_yuan(escrow)} in escrow",
                field="refund",
            )
        refunded = refund_fen
    else:
        raise BusinessRuleViolation(f"unknown outcome '{outcome}'", field="outcome")
    if refunded:
        _refund_locked(
            order,
            actor=actor,
            amount_fen=refunded,
            reason=f"dispute resolved ({outcome}): {reason}",
        )
    order.is_disputed = False
    order.save(update_fields=["is_disputed", "updated_at"])
    _record(order, actor=actor, reason=f"dispute resolved ({outcome}): {reason}")
    if order.status == OrderStatus.DELIVERED:
        _move(
            order,
            to=OrderStatus.ACCEPTED,
            actor=actor,
            reason=f"released to the seller by the dispute's resolution: {reason}",
            accepted_at=timezone.now(),
        )
    elif order.status == OrderStatus.ACCEPTED:
        # Clearing takes each business day's acceptances; an order frozen past
        # its acceptance day is released into today's, or it would never clear.
        order.accepted_at = timezone.now()
        order.save(update_fields=["accepted_at", "updated_at"])
    dispute.outcome = outcome
    dispute.refund_fen = refunded
    dispute.resolution_note = reason
    dispute.resolved_by = actor
    dispute.resolved_at = timezone.now()
    dispute.save()
    return dispute


# --- subscriptions ------------------------------------------------------------------------------

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
            raise BusinessRuleViolation("only subscription orders renew", field="order")
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
