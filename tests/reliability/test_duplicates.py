"""Messages delivered twice, runs started twice at once, two beats: never an extra posting."""

import threading

import pytest
from django.db import connection

from core import jobs
from settlements.models import ClearingBatch, ClearingChunk, Posting
from settlements.services.clearing import clearing_prepare, clearing_run_for_day
from tests.factories.accounts import MerchantFactory
from tests.factories.publicdata import DepartmentFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders
from tests.reliability.conftest import wait_for
from tests.reliability.day import ledger_problems
from tests.settlements.ledger_checks import (
    assert_balances_equal_postings,
    assert_cleared_once,
    assert_totals_are_the_ledgers,
    clearing_lines,
    expected_lines,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _day(count: int = 24):
    day = a_past_day()
    sellers = [MerchantFactory() for _ in range(2)]
    buyers = [MerchantFactory() for _ in range(3)]
    orders = make_accepted_orders(day=day, count=count, sellers=sellers, buyers=buyers)
    orders += make_accepted_orders(
        day=day, count=6, sellers=sellers, buyers=buyers,
        department=DepartmentFactory(), share_bps=1500,
    )  # fmt: skip
    return day, orders


def _assert_one_clean_run(day, orders) -> None:
    batch = ClearingBatch.objects.get(business_date=day)
    assert batch.status == "computed"
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert Posting.objects.filter(entry__clearing_batch=batch).count() == sum(
        expected_lines(orders, day).values()
    )
    assert_cleared_once(orders, batch)
    assert_totals_are_the_ledgers(batch)


def test_every_chunk_delivered_twice_posts_once(monkeypatch):
    # given a broker that delivers every message twice (tasks run eagerly here)
    default_fee(300)
    day, orders = _day()
    real_send = jobs.send
    sent = []

    def twice(task, *args, **kwargs):
        sent.append(args)
        return real_send(task, *args, **kwargs) and real_send(task, *args, **kwargs)

    monkeypatch.setattr(jobs, "send", twice)
    # when the day is run through chunk tasks
    clearing_run_for_day(business_date=day, dispatch="celery", chunk_size=7)
    # then each of its 5 chunks went twice, and the ledger is one clean run's
    assert len(sent) == 5
    _assert_one_clean_run(day, orders)
    assert_balances_equal_postings()


def _both_at_once(day) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait(10)
            clearing_run_for_day(business_date=day, dispatch="celery", chunk_size=4)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_two_runs_of_a_day_started_at_the_same_moment_twenty_times_over():
    default_fee(300)
    for _round in range(20):
        day, orders = _day(count=14)
        assert _both_at_once(day) == []
        _assert_one_clean_run(day, orders)
    assert_balances_equal_postings()


@pytest.mark.redis
def test_two_beats_at_once_recover_a_day_without_an_extra_posting(own_redis, processes_for):
    # given a day planned long ago whose chunk messages never reached the broker
    default_fee(300)
    day, orders = _day(count=40)
    batch, chunk_ids = clearing_prepare(business_date=day, chunk_size=5)
    ClearingChunk.objects.filter(pk__in=chunk_ids).update(queued_at=None)
    # when two beat processes run the recovery every second next to one worker
    procs = processes_for(own_redis.url, JOBS_STALE_SECONDS=0, JOBS_RECOVER_SECONDS=1)
    procs.beat()
    procs.beat()
    procs.worker(concurrency=3)
    try:
        wait_for(
            lambda: ClearingBatch.objects.filter(pk=batch.pk, status="computed").exists(),
            timeout=180,
            what="the recovered day to complete",
        )
        # and keep at it for a while after the day is done
        wait_for(
            lambda: procs.log().count("clearing_recover_task") >= 20,
            timeout=120,
            what="twenty recovery runs",
        )
    except BaseException:
        print(procs.log())
        raise
    # then the day is one clean run's: nothing posted twice
    _assert_one_clean_run(day, orders)
    assert ledger_problems() == {"balances_off": 0, "entries_unbalanced": 0, "ledger_sum": 0}
