"""Two moves on one order at the same moment never both take effect (real threads, PostgreSQL)."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.exceptions import Conflict, InvalidTransition
from marketplace.models import Order
from marketplace.services import orders, refunds
from marketplace.services.idempotency import idempotent_order_create
from marketplace.services.payments import order_pay, payment_notice_parse, payment_signature
from tests.factories.marketplace import accepted, notification_body, person_of, place
from tests.marketplace.conftest import escrow_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 3


def run_together(*calls):
    """Start the calls in threads at the same moment; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def notice_for(order):
    body = notification_body(order)
    return payment_notice_parse(body=body, signature=payment_signature(body))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_payments_pay_once(buyer, plan, round_):
    # given an order and two notifications with different nonces
    order = place(buyer, plan)
    first, second = notice_for(order), notice_for(order)
    # when both arrive at once
    results = run_together(lambda: order_pay(notice=first), lambda: order_pay(notice=second))
    # then one pays, the other is a harmless duplicate
    assert sorted(outcome for _, outcome in results) == ["duplicate", "paid"]
    assert escrow_of(buyer) == order.amount_fen
    assert order.journal_entries.count() == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_payment_and_cancel_do_not_both_happen(buyer, plan, round_):
    order = place(buyer, plan)
    notice = notice_for(order)
    paid, cancelled = run_together(
        lambda: order_pay(notice=notice),
        lambda: orders.order_cancel(actor=person_of(buyer), order=order, reason="changed my mind"),
    )
    order.refresh_from_db()
    if order.status == "paid":
        assert isinstance(cancelled, InvalidTransition)
        assert escrow_of(buyer) == order.amount_fen
    else:
        assert order.status == "cancelled"
        assert isinstance(paid, Conflict)
        assert escrow_of(buyer) == 0
        assert not order.journal_entries.exists()


def clear(order_id):
    """What clearing does to one order: a conditional UPDATE accepted -> cleared."""
    with transaction.atomic():
        return Order.objects.filter(pk=order_id, status="accepted", is_disputed=False).update(
            status="cleared", cleared_at=timezone.now()
        )


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_refund_and_clearing_do_not_both_happen(buyer, plan, operator, round_):
    order = accepted(buyer, plan)
    refunded, cleared = run_together(
        lambda: refunds.order_refund(actor=operator, order=order, reason="withdrawn"),
        lambda: clear(order.pk),
    )
    order.refresh_from_db()
    if order.status == "refunded":
        assert cleared == 0
        assert escrow_of(buyer) == 0
    else:
        assert order.status == "cleared"
        assert cleared == 1
        assert isinstance(refunded, InvalidTransition)
        assert order.refunded_fen == 0
        assert escrow_of(buyer) == order.amount_fen


def test_the_same_idempotency_key_at_once_makes_one_order(buyer, plan):
    def attempt():
        def create():
            made = orders.order_place(actor=person_of(buyer), buyer=buyer, plan=plan)
            return 201, {"id": made.pk}, made

        return idempotent_order_create(merchant=buyer, key="k", body={"plan": plan.pk},
                                       create=create)  # fmt: skip

    results = run_together(attempt, attempt)
    assert results[0] == results[1]
    assert Order.objects.count() == 1
