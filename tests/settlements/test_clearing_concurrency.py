"""Several workers on one day: the ledger is always that of one clean run (PostgreSQL)."""

import threading

import pytest
from django.db import connection, transaction

from settlements.choices import ClearingStatus
from settlements.models import ClearingBatch, Posting
from settlements.services.clearing import (
    clearing_batch_finalize,
    clearing_chunk_run,
    clearing_prepare,
    clearing_run_for_day,
    lock_batch,
)
from tests.factories.accounts import MerchantFactory
from tests.factories.publicdata import DepartmentFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders
from tests.settlements.ledger_checks import (
    assert_balances_equal_postings,
    assert_cleared_once,
    assert_totals_are_the_ledgers,
    clearing_lines,
    expected_lines,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _day_of_orders():
    default_fee(300)
    day = a_past_day()
    sellers = [MerchantFactory() for _ in range(3)]
    buyers = [MerchantFactory() for _ in range(3)]
    orders = make_accepted_orders(day=day, count=30, sellers=sellers, buyers=buyers)
    orders += make_accepted_orders(
        day=day, count=10, sellers=sellers, buyers=buyers,
        department=DepartmentFactory(), share_bps=1200,
    )  # fmt: skip
    return day, orders


def _in_threads(target, count: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_runs_of_one_day_at_once_clear_every_order_once():
    # given a day of orders
    day, orders = _day_of_orders()
    # when two runs start at the same moment
    errors = _in_threads(lambda i: clearing_run_for_day(business_date=day, chunk_size=7), 2)
    # then both finish and the ledger is one clean run's
    assert errors == []
    batch = ClearingBatch.objects.get(business_date=day)
    assert batch.status == ClearingStatus.COMPUTED
    assert batch.order_count == len(orders)
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert_cleared_once(orders, batch)
    assert_totals_are_the_ledgers(batch)
    assert_balances_equal_postings()


def test_four_workers_sharing_the_chunks_give_the_ledger_of_one_worker():
    # given a planned day of 8 chunks
    day, orders = _day_of_orders()
    batch, chunk_ids = clearing_prepare(business_date=day, chunk_size=5)
    assert len(chunk_ids) == 8

    # when four workers each take every chunk, in different orders, finalizing after each
    def worker(i: int) -> None:
        ordered = chunk_ids[i:] + chunk_ids[:i] if i % 2 else list(reversed(chunk_ids))
        for chunk_id in ordered:
            clearing_chunk_run(chunk_id=chunk_id)
            clearing_batch_finalize(batch_id=batch.pk)

    errors = _in_threads(worker, 4)
    # then every chunk cleared once and the batch was computed once
    assert errors == []
    batch.refresh_from_db()
    assert batch.status == ClearingStatus.COMPUTED
    assert [e.to_status for e in batch.events.all()] == ["running", "computed"]
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert Posting.objects.filter(entry__clearing_batch=batch).count() == sum(
        clearing_lines(batch).values()
    )
    assert_cleared_once(orders, batch)
    assert_totals_are_the_ledgers(batch)
    assert_balances_equal_postings()


def test_a_chunk_does_not_wait_for_a_worker_holding_the_batch_row():
    # given a planned day, and another worker holding the batch row (as finalize does)
    day, _orders = _day_of_orders()
    batch, chunk_ids = clearing_prepare(business_date=day, chunk_size=10)
    holding = threading.Event()
    release = threading.Event()

    def hold_batch_row() -> None:
        try:
            with transaction.atomic():
                lock_batch(batch.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_batch_row)
    holder.start()
    assert holding.wait(timeout=10)
    try:
        # when a chunk runs meanwhile, refusing to wait on any lock for long
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            summary = clearing_chunk_run(chunk_id=chunk_ids[0])
    finally:
        release.set()
        holder.join(timeout=30)
    # then it cleared its orders without waiting
    assert summary["orders"] == 10
