"""The worker's database connection terminated mid-chunk (pg_terminate_backend), again and
again: the chunk rolls back whole, is retried, and the day ends as one clean run."""

import random
import time

import pytest
from django.db import connection

from settlements.models import ClearingBatch, ClearingChunk
from settlements.services.clearing import clearing_batch_verify, clearing_run_for_day
from tests.factories.settlements import a_past_day, default_fee
from tests.reliability.conftest import wait_for
from tests.reliability.day import (
    Cast,
    build_day,
    cleared_exactly_once,
    ledger_problems,
    postings_digest,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ORDERS, CHUNK = 40_000, 2_000
TERMINATIONS = 4


def _terminate_active(application_name: str) -> int:
    """End the worker's backends that are running a statement right now; how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE application_name = %s AND state = 'active' AND pid <> pg_backend_pid()
            """,
            [application_name],
        )
        return cursor.fetchone()[0]


def test_connections_terminated_mid_chunk_leave_one_clean_run(own_redis, processes_for):
    # given two identical days, the first cleared without interruption
    default_fee(300)
    cast = Cast()
    reference_day, day = a_past_day(), a_past_day()
    ref_lo, ref_hi = build_day(cast, reference_day, ORDERS)
    lo, hi = build_day(cast, day, ORDERS)
    clearing_run_for_day(business_date=reference_day, chunk_size=CHUNK)
    name = f"reltest-{random.randrange(10**6)}"
    procs = processes_for(
        own_redis.url, CLEARING_CHUNK_SIZE=CHUNK, JOBS_STALE_SECONDS=10, JOBS_RECOVER_SECONDS=2
    )
    procs.env["DATABASE_URL"] += f"?application_name={name}"
    procs.beat()
    procs.worker()
    # when the day runs on the worker and its busy connections are cut, one at a time
    procs.send("settlements.tasks.clearing_run_for_day_task", day.isoformat())
    terminated = 0
    deadline = time.monotonic() + 240
    while terminated < TERMINATIONS and time.monotonic() < deadline:
        if ClearingBatch.objects.filter(business_date=day, status="computed").exists():
            break
        if ClearingChunk.objects.filter(batch__business_date=day, status="done").exists():
            terminated += _terminate_active(name)
            time.sleep(random.uniform(0.5, 1.5))
        else:
            time.sleep(0.1)
    try:
        wait_for(
            lambda: ClearingBatch.objects.filter(business_date=day, status="computed").exists(),
            timeout=300,
            what="the day to complete after the terminations",
        )
    except BaseException:
        print(procs.log())
        raise
    print(f"{terminated} worker connections terminated mid-statement")
    # then the interruptions happened, and every invariant holds
    assert terminated >= 2
    batch = ClearingBatch.objects.get(business_date=day)
    assert set(cleared_exactly_once(lo, hi, batch.pk).values()) == {0}
    assert postings_digest(lo, hi) == postings_digest(ref_lo, ref_hi)
    assert clearing_batch_verify(batch=batch) == {}
    assert ledger_problems() == {"balances_off": 0, "entries_unbalanced": 0, "ledger_sum": 0}
