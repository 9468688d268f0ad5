"""A bank-style test: 50 threads placing, paying, cancelling, refunding and clearing orders
among 1,000 merchants with a hot set of 10, for a bounded time, while readers check that
the ledger always sums to zero and no merchant balance goes negative."""

import random
import threading
import time

import pytest
from django.db import DatabaseError, connection

from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from marketplace.services import orders as order_services
from marketplace.services.refunds import order_refund
from settlements.services.clearing import clearing_run_for_day
from tests.factories.accounts import MerchantFactory, OperatorFactory
from tests.factories.marketplace import listed_product, pay, person_of, place
from tests.factories.products import PlanFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders
from tests.reliability.day import ledger_problems

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS, SECONDS, OPS_PER_THREAD = 50, 20, 60
REFUSED = (BusinessRuleViolation, Conflict, InvalidTransition)

MERCHANT_BALANCES_NEGATIVE = """
SELECT COUNT(*) FROM settlements_ledgeraccount
WHERE merchant_id IS NOT NULL AND balance_fen < 0
"""
# One statement, so one snapshot: postings and balances as of the same moment.
LEDGER_SUMS = """
SELECT COALESCE(SUM(amount_fen), 0), COALESCE(SUM(balance_fen), 0) FROM (
    SELECT amount_fen, 0 AS balance_fen FROM settlements_posting
    UNION ALL SELECT 0, balance_fen FROM settlements_ledgeraccount
) t
"""


def test_fifty_threads_of_trading_keep_the_ledger_whole():
    # given 1,000 merchants, 10 of them hot, and two past days of accepted orders to clear
    default_fee(300)
    merchants = MerchantFactory.create_batch(1000, status="active")
    hot, rest = merchants[:10], merchants[10:]
    plans = [PlanFactory(product=listed_product(provider=m), price_fen=10_000) for m in hot]
    operator = OperatorFactory()
    days = [a_past_day(), a_past_day()]
    to_clear = []
    for day in days:
        to_clear += make_accepted_orders(
            day=day, count=60, sellers=hot[:5], buyers=hot[5:] + rest[:20]
        )
    stop = time.monotonic() + SECONDS
    errors: list[BaseException] = []
    counts = {"placed": 0, "paid": 0, "cancelled": 0, "refunded": 0, "cleared": 0, "refused": 0}
    lock = threading.Lock()
    checks = [0]
    bad: list[tuple] = []

    def count(name: str) -> None:
        with lock:
            counts[name] += 1

    def trader(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(OPS_PER_THREAD):
                if time.monotonic() > stop:
                    break
                try:
                    roll = rng.random()
                    if roll < 0.05:
                        clearing_run_for_day(business_date=rng.choice(days))
                        count("cleared")
                        continue
                    if roll < 0.15:
                        victim = rng.choice(to_clear)
                        order_refund(actor=operator, order=victim, reason="bank test")
                        count("refunded")
                        continue
                    plan = rng.choice(plans)
                    pool = hot if rng.random() < 0.5 else rest
                    buyer = rng.choice([m for m in pool if m.pk != plan.product.provider_id])
                    order = place(buyer, plan)
                    count("placed")
                    if rng.random() < 0.2:
                        order_services.order_cancel(actor=person_of(buyer), order=order)
                        count("cancelled")
                        continue
                    order = pay(order)
                    count("paid")
                    if rng.random() < 0.3:
                        order_refund(actor=operator, order=order, reason="bank test")
                        count("refunded")
                except REFUSED:
                    count("refused")  # a move the order's status no longer allows
                except DatabaseError as exc:
                    # a deadlock or serialisation failure rolls back whole; nothing to check
                    if "deadlock" not in str(exc) and "serializ" not in str(exc):
                        raise
                    count("refused")
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    def reader() -> None:
        try:
            while time.monotonic() < stop + 1:
                with connection.cursor() as cursor:
                    cursor.execute(LEDGER_SUMS)
                    postings, balances = cursor.fetchone()
                    cursor.execute(MERCHANT_BALANCES_NEGATIVE)
                    (negative,) = cursor.fetchone()
                checks[0] += 1
                if postings != 0 or balances != 0 or negative:
                    bad.append((postings, balances, negative))
                time.sleep(0.05)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=trader, args=(i,)) for i in range(THREADS)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    # when they all run at once, for a bounded time
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 120)
    print(f"operations: {counts}; ledger readings: {checks[0]}")
    # then nothing failed, the readers never saw the ledger off, and it adds up at the end
    assert errors == []
    assert bad == []
    assert checks[0] > 0
    assert counts["placed"] > 0
    assert counts["paid"] > 0
    assert ledger_problems() == {"balances_off": 0, "entries_unbalanced": 0, "ledger_sum": 0}
    with connection.cursor() as cursor:
        cursor.execute(MERCHANT_BALANCES_NEGATIVE)
        assert cursor.fetchone() == (0,)
