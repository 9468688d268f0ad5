"""A real worker SIGKILLed, whole and one pool child at a time, while it clears a day of
100,000 orders: restarted, it finishes the day with nobody re-triggering it, and the
ledger is that of an uninterrupted run."""

import os
import random
import signal
import time

import pytest

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

ORDERS = int(os.environ.get("RELIABILITY_KILL_ORDERS", "100000"))
CHUNK = 5000
# Short deadlines so the test sees the recovery jobs work in seconds, not minutes.
STALE, RECOVER_EVERY = 12, 2


def _done(batch_date) -> int:
    return ClearingChunk.objects.filter(batch__business_date=batch_date, status="done").count()


def _chunks(batch_date) -> int:
    return ClearingChunk.objects.filter(batch__business_date=batch_date).count()


def test_a_day_survives_three_rounds_of_sigkill_and_matches_an_uninterrupted_run(
    own_redis, processes_for, record_property
):
    seed = int(os.environ.get("RELIABILITY_SEED", str(random.randrange(1_000_000))))
    rng = random.Random(seed)
    print(f"kill points seeded with RELIABILITY_SEED={seed}")
    # given two identical days of ORDERS orders, the first cleared without interruption
    default_fee(300)
    cast = Cast()
    reference_day, killed_day = a_past_day(), a_past_day()
    ref_lo, ref_hi = build_day(cast, reference_day, ORDERS)
    lo, hi = build_day(cast, killed_day, ORDERS)
    clearing_run_for_day(business_date=reference_day, chunk_size=CHUNK)
    reference = postings_digest(ref_lo, ref_hi)

    procs = processes_for(
        own_redis.url,
        CLEARING_CHUNK_SIZE=CHUNK,
        JOBS_STALE_SECONDS=STALE,
        JOBS_RECOVER_SECONDS=RECOVER_EVERY,
    )
    procs.beat()
    worker = procs.worker()
    # when the day is started once, through the broker
    procs.send("settlements.tasks.clearing_run_for_day_task", killed_day.isoformat())
    wait_for(lambda: _chunks(killed_day) > 0, timeout=120, what="the day to be planned")
    total = _chunks(killed_day)
    assert total >= 20
    kills = []
    try:
        for round_ in range(3):
            # a pool child killed mid-chunk, then the whole worker, at random points
            target = rng.randrange(round_ * total // 4, (round_ + 1) * total // 4)
            wait_for(
                lambda target=target: _done(killed_day) >= target,
                timeout=300,
                what=f"{target} chunks done",
                every=0.2,
            )
            time.sleep(rng.uniform(0, 1.5))
            children = procs.pool_children(worker)
            if children:
                os.kill(rng.choice(children), signal.SIGKILL)
                kills.append(("pool child", _done(killed_day)))
            time.sleep(rng.uniform(0.3, 2.0))
            procs.kill_group(worker)
            kills.append(("whole worker", _done(killed_day)))
            worker = procs.worker()
        restarted = time.monotonic()
        # then, with nobody starting it again, the day is computed
        wait_for(
            lambda: ClearingBatch.objects.filter(
                business_date=killed_day, status="computed"
            ).exists(),
            timeout=600,
            what="the day to complete after the kills",
        )
        recovered_in = time.monotonic() - restarted
    except BaseException:
        print(procs.log())
        raise
    print(f"kills (kind, chunks done): {kills}; completed {recovered_in:.1f} s after restart")
    record_property("recovered_in_seconds", round(recovered_in, 1))
    batch = ClearingBatch.objects.get(business_date=killed_day)
    # every order cleared exactly once, with one entry and one event
    assert cleared_exactly_once(lo, hi, batch.pk) == dict.fromkeys(
        ("not_cleared", "entries_not_one", "entries_missing", "events_not_one", "no_event"), 0
    )
    assert batch.order_count == ORDERS
    # the postings are those of the uninterrupted run, and the ledger adds up
    assert postings_digest(lo, hi) == reference
    assert clearing_batch_verify(batch=batch) == {}
    assert ledger_problems() == {"balances_off": 0, "entries_unbalanced": 0, "ledger_sum": 0}
    # some chunk really was interrupted (the kills hit work in progress)
    assert len(kills) >= 3
