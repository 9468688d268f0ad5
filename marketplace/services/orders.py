"""Writes for orders: placing, delivering, accepting and cancelling.

Every status move locks the order row first (`lock_one`, or pk order for
several), checks the move against ORDER_TRANSITIONS through
`core.transitions.transition` and records an OrderEvent. Moves that keep the
status (a partial refund, a dispute opened or resolved) record an event too,
with the same from and to status, so the history tells the whole story.

Refunds, disputes and subscription renewals live beside this module
(`refunds`, `disputes`, `subscriptions`) and share its private helpers
(`_require_side`, `_move`, `_record`, `_order_create`, ...): they are private
to the marketplace.services package, not to this one file.
"""

import calendar
import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation, Conflict
from core.models import keep_prefetched
from core.money import MAX_FEN, fen_to_yuan
from core.scoping import is_operator
from core.transitions import lock_one, transition
from marketplace.choices import ORDER_TRANSITIONS, OrderStatus
from marketplace.models import Order, OrderEvent
from products.choices import DataSourceKind, PlanKind, ProductStatus, SubscriptionPeriod
from products.models import PricingPlan, Product
from publicdata import rules as publicdata_rules
from publicdata.models import Grant, Scenario

MAX_QUANTITY = 10_000
MAX_PERIODS = 36
# How far ahead a buyer may date the start of a subscription.
MAX_START_AHEAD = dt.timedelta(days=90)
PERIOD_MONTHS: dict[str, int] = {
    SubscriptionPeriod.MONTH: 1,
    SubscriptionPeriod.QUARTER: 3,
    SubscriptionPeriod.YEAR: 12,
}

# What placing an order reads with the plan: the contract names the product's
# provider and board. Public data's grant (its department and industry) is read
# only for an order that names a scenario (_grant_read): joining it into every
# plan read tripled the statement's planning time for the orders that have none.
PLAN_RELATIONS = ("product__provider", "product__board")

BUYER = "buyer"
SELLER = "seller"
OPERATOR = "operator"


# --- helpers -------------------------------------------------------------------------------


def _grant_read(product: Product) -> Grant | None:
    """The product's grant with its department and industry, read at most once.

    A caller that read the product with its grant (renewals do, in bulk) is
    taken at its word; otherwise one statement reads all three.
    """
    if product.grant_id is None:
        return None
    if not Product._meta.get_field("grant").is_cached(product):
        product.grant = Grant.objects.select_related("department", "industry").get(
            pk=product.grant_id
        )
    return product.grant


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
    names = {BUYER: _("the buyer"), SELLER: _("the seller"), OPERATOR: _("an exchange operator")}
    who = str(_(" or ")).join(str(names[s]) for s in sides)
    raise PermissionDenied(_("only %(who)s may do this") % {"who": who})


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
    grant = _grant_read(product) if scenario is not None else None
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
        if grant is None or scenario is None
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
    grant = _grant_read(product) if scenario is not None else None
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
    placed = OrderEvent.objects.create(
        subject=order,
        actor=actor if getattr(actor, "pk", None) else None,
        from_status="",
        to_status=OrderStatus.PENDING_PAYMENT,
        reason=reason,
    )
    # The order's history so far: kept on it, so that answering with it needs no read.
    keep_prefetched(order, "events", [placed])
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
            _("the buyer merchant is %(status)s, not active") % {"status": buyer.status},
            field="buyer",
            code="inactive",
        )
    if buyer.pk == seller.pk or buyer.credit_code == seller.credit_code:
        raise BusinessRuleViolation(
            _("a merchant cannot buy its own product (same merchant or credit code)"),
            field="plan",
            code="own_product",
        )
    if product.status != ProductStatus.LISTED:
        raise BusinessRuleViolation(
            _("the product is %(status)s, not listed") % {"status": product.status},
            field="plan",
            code="not_listed",
        )
    if not plan.is_active:
        raise BusinessRuleViolation(
            _("this plan is no longer on sale"), field="plan", code="off_sale"
        )
    if not seller.is_active:
        raise BusinessRuleViolation(
            _("the seller is not active on the exchange"), field="plan", code="seller_inactive"
        )


def _check_scenario(*, product: Product, scenario: Scenario | None) -> None:
    """一场景一评估一授权: public data is sold only for an authorized scenario of the product."""
    if product.source_kind != DataSourceKind.PUBLIC:
        if scenario is not None:
            raise BusinessRuleViolation(
                _("this product is not built on public data; do not name a scenario"),
                field="scenario",
            )
        return
    if scenario is None:
        raise BusinessRuleViolation(
            _(
                "this product is built on public data: name the "
                "authorized scenario the purchase serves"
            ),
            field="scenario",
            code="required",
        )
    if product.grant_id is None or scenario.grant_id != product.grant_id:
        raise BusinessRuleViolation(
            _("the scenario is not under the product's grant"), field="scenario", code="wrong_grant"
        )
    if not product.scenarios.filter(pk=scenario.pk).exists():
        raise BusinessRuleViolation(
            _("the product does not serve this scenario"), field="scenario", code="not_served"
        )
    if not publicdata_rules.scenario_in_force(scenario):
        raise BusinessRuleViolation(
            _(
                "the scenario is not authorized now (no passing "
                "assessment, authorization or active grant)"
            ),
            field="scenario",
            code="not_in_force",
        )


# --- placing -------------------------------------------------------------------------------


def order_place(
    *,
    actor: User | None,
    buyer: Merchant,
    plan: PricingPlan,
    quantity: int = 1,
    scenario: Scenario | None = None,
    start_on: dt.date | None = None,
    plan_read: bool = False,
    savepoint: bool = True,
) -> Order:
    """Place an order for a listed product's plan, in status pending_payment.

    Invariants: the amount is computed here from the plan (one-off: price x
    quantity; subscription: price per period x periods; free: 0), never taken
    from the client; the contract snapshot is frozen now; nobody buys from
    itself; public data is bought only for an authorized scenario of the
    product. A metered plan's order is the buyer's agreement to its terms: it
    costs nothing now (paid at once), and the usage it allows is billed by the
    monthly usage bill, one order per month; a buyer holds one such agreement
    per plan at a time.

    The plan is read here, as it is now, with PLAN_RELATIONS; `plan_read=True`
    says the caller has just read it so, in this transaction (the API's input
    does), and it is not read again.

    `savepoint=False` is for a caller whose own transaction is undone whole
    when placing fails (the API's, which writes the Idempotency-Key with the
    answer): undoing the placement alone needs no savepoint, two statements
    fewer. A caller that catches the failure and goes on inside its
    transaction keeps the default.
    """
    with transaction.atomic(savepoint=savepoint):
        return _order_place(
            actor=actor,
            buyer=buyer,
            plan=plan,
            quantity=quantity,
            scenario=scenario,
            start_on=start_on,
            plan_read=plan_read,
        )


def _order_place(
    *,
    actor: User | None,
    buyer: Merchant,
    plan: PricingPlan,
    quantity: int,
    scenario: Scenario | None,
    start_on: dt.date | None,
    plan_read: bool,
) -> Order:
    if actor is not None and not is_operator(actor) and actor.merchant_id != buyer.pk:
        raise PermissionDenied(_("a merchant's people place orders for their own merchant only"))
    if not plan_read:
        plan = PricingPlan.objects.select_related(*PLAN_RELATIONS).get(pk=plan.pk)
    product = plan.product
    _check_sellable(buyer=buyer, plan=plan)
    _check_scenario(product=product, scenario=scenario)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise BusinessRuleViolation(_("a whole number of at least 1"), field="quantity")
    period_start = period_end = None
    if plan.kind == PlanKind.METERED:
        if quantity != 1:
            raise BusinessRuleViolation(_("a metered plan is agreed to once"), field="quantity")
        if Order.objects.filter(
            buyer=buyer,
            plan=plan,
            billed_month__isnull=True,
            status__in=[
                OrderStatus.PENDING_PAYMENT,
                OrderStatus.PAID,
                OrderStatus.DELIVERED,
                OrderStatus.ACCEPTED,
                OrderStatus.CLEARED,
                OrderStatus.SETTLED,
            ],
        ).exists():
            raise Conflict(
                _("you already hold this metered plan; its usage is billed monthly"),
                code="metered_held",
            )
        amount_fen = 0
    elif plan.kind == PlanKind.FREE:
        if quantity != 1:
            raise BusinessRuleViolation(_("a free plan is ordered once"), field="quantity")
        amount_fen = 0
    elif plan.kind == PlanKind.ONE_OFF:
        if quantity > MAX_QUANTITY:
            raise BusinessRuleViolation(
                _("at most %(max_quantity)s") % {"max_quantity": MAX_QUANTITY}, field="quantity"
            )
        amount_fen = plan.price_fen * quantity
    else:
        if quantity > MAX_PERIODS:
            raise BusinessRuleViolation(
                _("at most %(max_periods)s periods") % {"max_periods": MAX_PERIODS},
                field="quantity",
            )
        today = timezone.localdate()
        start = start_on or today
        if start < today or start > today + MAX_START_AHEAD:
            raise BusinessRuleViolation(
                _("a subscription starts today or within the next 90 days"), field="start_on"
            )
        period_start, period_end = subscription_period(plan, start, quantity)
        amount_fen = plan.price_fen * quantity
    if start_on is not None and plan.kind != PlanKind.SUBSCRIPTION:
        raise BusinessRuleViolation(_("only subscriptions have a start date"), field="start_on")
    if amount_fen > MAX_FEN:
        raise BusinessRuleViolation(_("the amount is too large for one order"), field="quantity")
    return _order_create(
        actor=actor,
        buyer=buyer,
        plan=plan,
        quantity=quantity,
        amount_fen=amount_fen,
        period_start=period_start,
        period_end=period_end,
        scenario=scenario,
        usage={"billing": "monthly", "unit_price": fen_to_yuan(plan.unit_price_fen)}
        if plan.kind == PlanKind.METERED
        else None,
        reason="metered plan agreed to: usage billed monthly"
        if plan.kind == PlanKind.METERED
        else "placed",
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


@transaction.atomic
def order_deliver_by_exchange(*, actor: User | None, order: Order, note: str) -> bool:
    """paid -> delivered because the exchange itself handed the goods to the buyer.

    The buyer's people received the whole file through the exchange, so the
    seller need not click; delivered_at starts the auto-acceptance clock. An
    order already delivered (or further along, or refunded) is left as it is.
    """
    order = lock_one(Order, order.pk)
    if order.status != OrderStatus.PAID:
        return False
    return _move(
        order,
        to=OrderStatus.DELIVERED,
        actor=actor,
        reason=note,
        delivered_at=timezone.now(),
        delivery_note=note,
    )


def _accept_locked(order: Order, *, actor: User | None, reason: str) -> bool:
    if order.is_disputed and order.status == OrderStatus.DELIVERED:
        raise Conflict(
            _("a dispute is open on this order; an operator resolves it"), code="disputed"
        )
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
            status=OrderStatus.DELIVERED,
            is_disputed=False,
            delivered_at__lte=cutoff,
            # never accepted yet: says so to the order_accept_pick index
            accepted_at__isnull=True,
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
                or order.delivered_at is None
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
