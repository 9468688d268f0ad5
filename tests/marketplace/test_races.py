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


def place_with_key(buyer, plan, key="k"):
    """One request placing an order for `plan` under the Idempotency-Key `key`."""

    def create():
        made = orders.order_place(actor=person_of(buyer), buyer=buyer, plan=plan)
        return 201, {"id": made.pk}, made

    return idempotent_order_create(merchant=buyer, key=key, body={"plan": plan.pk}, create=create)


def test_the_same_idempotency_key_at_once_makes_one_order(buyer, plan):
    def attempt():
        return place_with_key(buyer, plan)

    results = run_together(attempt, attempt)
    assert results[0] == results[1]
    assert Order.objects.count() == 1


def test_a_retry_refused_because_its_first_request_committed_gets_the_first_answer(buyer, plan):
    # given a first request with key "k" that commits while its retry is running
    def first_not_waiting_long():
        # were the retry's key already written, the first request would wait
        # on it for ever; it gives up instead, and the test fails
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")
        return place_with_key(buyer, plan)

    answers = {}

    def retry_create():
        # the first request finishes (in its own connection) after this one
        # looked the key up, and what it did is why this one is refused
        answers["first"] = run_together(first_not_waiting_long)[0]
        raise Conflict("already held", code="metered_held")

    # when the retry, with the same key and body, is refused
    answer = idempotent_order_create(
        merchant=buyer, key="k", body={"plan": plan.pk}, create=retry_create
    )
    # then it answers what the first request did, and one order exists
    assert answer == answers["first"]
    assert Order.objects.count() == 1


def test_a_refused_request_with_a_new_key_is_still_refused(buyer, plan):
    def create():
        raise Conflict("already held", code="metered_held")

    with pytest.raises(Conflict):
        idempotent_order_create(merchant=buyer, key="new", body={"plan": 1}, create=create)
