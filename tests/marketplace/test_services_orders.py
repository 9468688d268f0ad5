import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from marketplace.models import Order
from marketplace.services import disputes, orders, refunds, subscriptions
from tests.factories.accounts import MerchantFactory
from tests.factories.marketplace import accepted, delivered, listed_product, pay, person_of, place
from tests.factories.products import BoardFactory, PlanFactory
from tests.marketplace.conftest import bank_clearing, escrow_of

pytestmark = pytest.mark.django_db


def test_one_off_amount_is_price_times_quantity_and_contract_is_frozen(buyer, plan, product):
    # when
    order = place(buyer, plan, quantity=3)
    # then
    assert order.amount_fen == 360_00
    assert order.status == "pending_payment"
    contract = order.contract
    assert contract["product"]["registration_number"] == product.registration_number
    assert contract["product"]["version"] == product.version
    assert contract["plan"]["price"] == "120.00"
    assert contract["amount"] == "360.00"
    assert contract["usage_terms"] == "No resale; Hunan only."
    assert contract["buyer"]["credit_code"] == buyer.credit_code
    assert contract["seller"]["credit_code"] == product.provider.credit_code
    # and a later price change does not touch the contract
    plan.price_fen = 1
    plan.save()
    order.refresh_from_db()
    assert order.contract["plan"]["price"] == "120.00"
    assert order.events.get().to_status == "pending_payment"


def test_board_and_delivery_mode_are_copied_from_the_product(buyer, seller):
    board = BoardFactory()
    plan = PlanFactory(product=listed_product(provider=seller, board=board, delivery_mode="report"))
    order = place(buyer, plan)
    assert (order.board_id, order.delivery_mode) == (board.pk, "report")


def test_subscription_amount_and_period(buyer, product):
    # given a quarterly plan
    plan = PlanFactory(product=product, kind="subscription", period="quarter", price_fen=300_00)
    start = timezone.localdate() + dt.timedelta(days=1)
    # when two quarters are bought
    order = place(buyer, plan, quantity=2, start_on=start)
    # then
    assert order.amount_fen == 600_00
    assert order.period_start == start
    assert order.period_end == orders.add_months(start, 6) - dt.timedelta(days=1)


def test_add_months_clamps_to_the_end_of_short_months():
    assert orders.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert orders.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


def test_free_plan_costs_nothing_and_is_paid_at_once(buyer, product):
    plan = PlanFactory(product=product, kind="free", price_fen=0)
    order = place(buyer, plan)
    assert (order.amount_fen, order.status) == (0, "paid")


def test_a_metered_plan_is_agreed_to_at_no_charge_once(buyer, product):
    # given a metered plan (a price per call, billed monthly from usage)
    plan = PlanFactory(product=product, kind="metered", price_fen=0, unit_price_fen=5)
    # when the buyer orders it
    order = place(buyer, plan)
    # then the order is the agreement: nothing to pay now, usage billed monthly
    assert (order.amount_fen, order.status, order.billed_month) == (0, "paid", None)
    assert order.contract["usage"] == {"billing": "monthly", "unit_price": "0.05"}
    # and a second agreement to the same plan is refused
    with pytest.raises(Conflict) as exc:
        place(buyer, plan)
    assert exc.value.code == "metered_held"


def test_a_merchant_cannot_buy_its_own_product(seller, plan):
    with pytest.raises(BusinessRuleViolation) as exc:
        place(seller, plan)
    assert exc.value.code == "own_product"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("inactive buyer", lambda buyer, plan: setattr(buyer, "status", "suspended")),
        ("unlisted product", lambda buyer, plan: setattr(plan.product, "status", "suspended")),
        ("plan off sale", lambda buyer, plan: setattr(plan, "is_active", False)),
    ],
)
def test_orders_need_an_active_buyer_and_a_listed_plan(buyer, plan, what, change):
    change(buyer, plan)
    buyer.save()
    plan.product.save()
    plan.save()
    with pytest.raises(BusinessRuleViolation):
        place(buyer, plan)


@pytest.mark.parametrize("quantity", [0, -1, 10_001])
def test_bad_quantities_are_refused(buyer, plan, quantity):
    with pytest.raises(BusinessRuleViolation) as exc:
        place(buyer, plan, quantity=quantity)
    assert exc.value.field == "quantity"


def test_a_person_orders_only_for_their_own_merchant(buyer, plan):
    other = MerchantFactory()
    with pytest.raises(PermissionDenied):
        orders.order_place(actor=person_of(other), buyer=buyer, plan=plan)


def test_payment_moves_the_amount_into_the_buyers_escrow(buyer, plan):
    # given
    order = place(buyer, plan)
    bank_before = bank_clearing()
    # when
    order = pay(order)
    # then
    assert order.status == "paid"
    assert order.paid_at is not None
    assert escrow_of(buyer) == 120_00
    assert bank_clearing() == bank_before - 120_00
    assert order.escrow_fen == 120_00


def test_full_lifecycle_is_recorded(buyer, plan):
    order = accepted(buyer, plan)
    moves = [(e.from_status, e.to_status) for e in order.events.all()]
    assert moves == [
        ("", "pending_payment"),
        ("pending_payment", "paid"),
        ("paid", "delivered"),
        ("delivered", "accepted"),
    ]
    assert order.accepted_at is not None
    assert order.delivered_at is not None


def test_the_buyer_cannot_deliver_and_the_seller_cannot_accept(buyer, plan):
    order = pay(place(buyer, plan))
    with pytest.raises(PermissionDenied):
        orders.order_deliver(actor=person_of(buyer), order=order)
    order = orders.order_deliver(actor=person_of(order.seller), order=order)
    with pytest.raises(PermissionDenied):
        orders.order_accept(actor=person_of(order.seller), order=order)


def test_delivering_twice_is_a_no_op(buyer, plan):
    order = delivered(buyer, plan)
    orders.order_deliver(actor=person_of(order.seller), order=order)
    assert order.events.filter(to_status="delivered").count() == 1


def test_cancel_before_payment_only(buyer, plan):
    order = place(buyer, plan)
    orders.order_cancel(actor=person_of(buyer), order=order, reason="changed my mind")
    order.refresh_from_db()
    assert order.status == "cancelled"
    paid = pay(place(buyer, plan))
    with pytest.raises(InvalidTransition):
        orders.order_cancel(actor=person_of(buyer), order=paid)


def test_partial_then_full_refund_returns_escrow(buyer, plan, operator):
    # given a paid order of 120.00
    order = pay(place(buyer, plan))
    # when 20.00 then the rest is refunded
    refunds.order_refund(actor=operator, order=order, amount_fen=20_00, reason="late")
    order.refresh_from_db()
    assert (order.status, order.refunded_fen, escrow_of(buyer)) == ("paid", 20_00, 100_00)
    refunds.order_refund(actor=operator, order=order, reason="cancelled contract")
    # then
    order.refresh_from_db()
    assert (order.status, order.refunded_fen, escrow_of(buyer)) == ("refunded", 120_00, 0)
    assert order.refunds.count() == 2
    assert order.journal_entries.filter(purpose="refund").count() == 2


def test_refund_beyond_escrow_is_refused(buyer, plan, operator):
    order = pay(place(buyer, plan))
    with pytest.raises(BusinessRuleViolation) as exc:
        refunds.order_refund(actor=operator, order=order, amount_fen=120_01, reason="x")
    assert exc.value.code == "exceeds_escrow"


def test_refund_after_clearing_is_refused(buyer, plan, operator):
    order = accepted(buyer, plan)
    Order.objects.filter(pk=order.pk).update(status="cleared")
    with pytest.raises(InvalidTransition):
        refunds.order_refund(actor=operator, order=order, reason="too late")


def test_buyer_asks_for_a_refund_and_the_seller_grants_it(buyer, plan):
    order = delivered(buyer, plan)
    refund = refunds.order_refund_request(
        actor=person_of(buyer), order=order, amount_fen=50_00, reason="half missing"
    )
    assert refund.status == "requested"
    with pytest.raises(PermissionDenied):
        refunds.refund_request_approve(actor=person_of(buyer), refund=refund)
    refunds.refund_request_approve(actor=person_of(order.seller), refund=refund)
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == "completed"
    assert order.refunded_fen == 50_00
    assert escrow_of(buyer) == 70_00
    with pytest.raises(Conflict):
        refunds.refund_request_approve(actor=person_of(order.seller), refund=refund)


def test_dispute_freezes_acceptance_until_an_operator_splits_it(buyer, plan, operator):
    # given a delivered order under dispute
    order = delivered(buyer, plan)
    disputes.order_dispute_open(actor=person_of(buyer), order=order, reason="wrong region")
    order.refresh_from_db()
    assert order.is_disputed
    with pytest.raises(Conflict):
        orders.order_accept(actor=person_of(buyer), order=order)
    late = timezone.now() + dt.timedelta(days=60)
    assert orders.orders_auto_accept(now=late) == 0
    # when the operator splits 30.00 back to the buyer
    dispute = disputes.order_dispute_resolve(
        actor=operator, order=order, outcome="split", refund_fen=30_00, reason="half right"
    )
    # then
    order.refresh_from_db()
    assert (order.status, order.is_disputed, order.refunded_fen) == ("accepted", False, 30_00)
    assert (dispute.outcome, dispute.refund_fen) == ("split", 30_00)
    assert escrow_of(buyer) == 90_00


def test_dispute_resolved_by_full_refund(buyer, plan, operator):
    order = delivered(buyer, plan)
    disputes.order_dispute_open(actor=person_of(buyer), order=order, reason="nothing arrived")
    disputes.order_dispute_resolve(actor=operator, order=order, outcome="refund", reason="proven")
    order.refresh_from_db()
    assert (order.status, order.is_disputed, escrow_of(buyer)) == ("refunded", False, 0)


def test_dispute_released_to_the_seller(buyer, plan, operator):
    order = delivered(buyer, plan)
    disputes.order_dispute_open(actor=person_of(buyer), order=order, reason="slow")
    disputes.order_dispute_resolve(actor=operator, order=order, outcome="release", reason="on time")
    order.refresh_from_db()
    assert (order.status, order.is_disputed, order.refunded_fen) == ("accepted", False, 0)
    reasons = [e.reason for e in order.events.all()]
    assert any(r.startswith("dispute opened") for r in reasons)
    assert any(r.startswith("dispute resolved (release)") for r in reasons)


def test_dispute_needs_delivery_and_only_operators_resolve(buyer, plan):
    order = pay(place(buyer, plan))
    with pytest.raises(InvalidTransition):
        disputes.order_dispute_open(actor=person_of(buyer), order=order, reason="early")
    order = delivered(buyer, plan)
    disputes.order_dispute_open(actor=person_of(buyer), order=order, reason="bad")
    with pytest.raises(PermissionDenied):
        disputes.order_dispute_resolve(
            actor=person_of(order.seller), order=order, outcome="release", reason="mine"
        )


def test_split_needs_a_refund_inside_the_escrow(buyer, plan, operator):
    order = delivered(buyer, plan)
    disputes.order_dispute_open(actor=person_of(buyer), order=order, reason="bad")
    for amount in (None, 0, 120_00):
        with pytest.raises(BusinessRuleViolation):
            disputes.order_dispute_resolve(
                actor=operator, order=order, outcome="split", refund_fen=amount, reason="x"
            )


def test_auto_accept_after_the_configured_days(buyer, plan, settings):
    # given an order delivered 8 days ago and one delivered today
    settings.EXCHANGE_AUTO_ACCEPT_DAYS = 7
    old = delivered(buyer, plan)
    Order.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - dt.timedelta(days=8))
    fresh = delivered(buyer, plan)
    # when the daily job runs twice
    first = orders.orders_auto_accept()
    second = orders.orders_auto_accept()
    # then only the old one is accepted, by the system, once
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (first, second) == (1, 0)
    assert (old.status, fresh.status) == ("accepted", "delivered")
    event = old.events.get(to_status="accepted")
    assert event.actor is None
    assert "automatically" in event.reason


def test_subscription_renewal_makes_one_next_period_order(buyer, product):
    # given a monthly subscription ending in 3 days
    plan = PlanFactory(product=product, kind="subscription", period="month", price_fen=50_00)
    order = pay(place(buyer, plan))
    end = timezone.localdate() + dt.timedelta(days=3)
    Order.objects.filter(pk=order.pk).update(period_end=end)
    # when the renewal job runs twice
    assert subscriptions.subscriptions_renew() == 1
    assert subscriptions.subscriptions_renew() == 0
    # then one renewal starts the day after the old period
    renewal = Order.objects.get(renewal_of=order)
    assert renewal.period_start == end + dt.timedelta(days=1)
    assert (renewal.amount_fen, renewal.status) == (50_00, "pending_payment")
    assert subscriptions.order_renew(actor=None, order=order) == renewal


def test_no_renewal_once_the_product_is_delisted(buyer, product):
    plan = PlanFactory(product=product, kind="subscription", period="month", price_fen=50_00)
    order = pay(place(buyer, plan))
    product.status = "delisted"
    product.save()
    assert subscriptions.order_renew(actor=None, order=order) is None
    assert not Order.objects.filter(renewal_of=order).exists()


def test_releasing_an_accepted_order_moves_it_into_todays_clearing(buyer, plan, operator):
    # given an order accepted three days ago, then disputed
    order = accepted(buyer, plan)
    earlier = timezone.now() - dt.timedelta(days=3)
    Order.objects.filter(pk=order.pk).update(accepted_at=earlier)
    disputes.order_dispute_open(actor=person_of(buyer), order=order, reason="late complaint")
    # when the operator releases it
    disputes.order_dispute_resolve(actor=operator, order=order, outcome="release", reason="fine")
    # then it counts as accepted today, so today's clearing takes it
    order.refresh_from_db()
    assert order.status == "accepted"
    assert order.accepted_at.date() == timezone.now().date()


def test_an_order_taken_by_a_clearing_batch_is_neither_refunded_nor_disputed(buyer, plan, operator):
    from settlements.models import ClearingBatch

    # given clearing has picked the accepted order but not yet marked it cleared
    order = accepted(buyer, plan)
    Order.objects.filter(pk=order.pk).update(
        clearing_batch=ClearingBatch.objects.create(business_date=dt.date(2026, 1, 5))
    )
    # then
    with pytest.raises(Conflict):
        refunds.order_refund(actor=operator, order=order, reason="too late")
    with pytest.raises(InvalidTransition):
        disputes.order_dispute_open(actor=person_of(buyer), order=order, reason="too late")
    assert escrow_of(buyer) == 120_00


def test_a_refused_placement_leaves_the_callers_transaction_usable(buyer, plan):
    from django.db import transaction

    # given a caller that catches a refusal and goes on in its transaction
    with transaction.atomic():
        with pytest.raises(BusinessRuleViolation):
            orders.order_place(actor=person_of(buyer), buyer=buyer, plan=plan, quantity=0)
        # then its transaction still takes statements and the placement after it
        order = orders.order_place(actor=person_of(buyer), buyer=buyer, plan=plan)
    assert list(Order.objects.values_list("pk", flat=True)) == [order.pk]
