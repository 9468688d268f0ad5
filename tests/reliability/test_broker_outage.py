"""The test's own Redis killed for 30 s while orders are placed and days are cleared through
a real web server, worker and beat: no 500, nothing lost, and the queued work runs once
when Redis is back (empty: a killed Redis without persistence forgets every message)."""

import itertools
import logging
import time

import httpx
import pytest
from rest_framework.authtoken.models import Token

from marketplace.models import Order
from oversight.models import AuditRun
from settlements.models import ClearingBatch, ClearingChunk
from tests.factories.accounts import OperatorFactory
from tests.factories.marketplace import listed_product, person_of
from tests.factories.products import PlanFactory
from tests.factories.settlements import a_past_day, default_fee
from tests.reliability.conftest import LiveServer, wait_for
from tests.reliability.day import Cast, build_day, cleared_exactly_once, ledger_problems

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(autouse=True)
def _quiet_http_log():
    logging.getLogger("httpx").setLevel(logging.WARNING)


OUTAGE_SECONDS = 30
MAX_CALLS = 400  # the loop below is bounded in count as well as in time


def _token(user) -> dict:
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


def test_thirty_seconds_without_redis_lose_nothing_and_answer_no_500(
    own_redis, processes_for, record_property
):
    # given a day being cleared, a buyer with a plan to buy, and the whole stack on our Redis
    default_fee(300)
    cast = Cast()
    day_before, day_during = a_past_day(), a_past_day()
    lo, hi = build_day(cast, day_before, 40_000)
    lo2, hi2 = build_day(cast, day_during, 2_000)
    buyer = cast.buyers[0]
    plan = PlanFactory(product=listed_product(provider=cast.sellers[0]))
    buyer_auth, operator_auth = _token(person_of(buyer)), _token(OperatorFactory())
    procs = processes_for(
        own_redis.url, CLEARING_CHUNK_SIZE=1000, JOBS_STALE_SECONDS=10, JOBS_RECOVER_SECONDS=2
    )
    web = LiveServer(procs)
    procs.beat()
    procs.worker()
    client = httpx.Client(base_url=web.base, timeout=30)
    started = client.post(
        "/api/v1/clearing-batches/",
        json={"business_date": day_before.isoformat()},
        headers=operator_auth,
    )
    assert started.status_code == 202, started.text
    # when Redis is killed mid-run and stays away for 30 s
    wait_for(
        lambda: ClearingChunk.objects.filter(batch__business_date=day_before, status="done"),
        timeout=120,
        what="the first chunk",
        every=0.1,
    )
    own_redis.stop()
    pending_at_outage = ClearingChunk.objects.filter(
        batch__business_date=day_before, status="pending"
    ).count()
    assert pending_at_outage > 0  # the outage hit the run, not its aftermath
    answers: dict[str, list[int]] = {"order": [], "clearing": [], "audit": []}
    placed: list[int] = []
    deadline = time.monotonic() + OUTAGE_SECONDS
    for n in itertools.count():
        if time.monotonic() > deadline or n >= MAX_CALLS:
            break
        order = client.post(
            "/api/v1/orders/",
            json={"plan": plan.pk, "quantity": 1},
            headers={**buyer_auth, "Idempotency-Key": f"outage-{n}"},
        )
        answers["order"].append(order.status_code)
        if order.status_code == 201:
            placed.append(order.json()["id"])
        if n % 5 == 0:
            for kind, path, body in (
                ("clearing", "/api/v1/clearing-batches/", {"business_date": str(day_during)}),
                ("audit", "/api/v1/audit-runs/", {}),
            ):
                refused = client.post(path, json=body, headers=operator_auth)
                answers[kind].append(refused.status_code)
                if refused.status_code == 503:
                    assert refused.headers["Retry-After"].isdigit()
                    assert refused.json()["error_code"] == "broker_unavailable"
        time.sleep(0.2)
    # then orders were placed throughout, work was refused with 503, never a 500
    assert set(answers["order"]) == {201}, answers
    assert set(answers["clearing"]) == {503}, answers
    assert set(answers["audit"]) == {503}, answers
    assert not ClearingBatch.objects.filter(business_date=day_during).exists()
    assert not AuditRun.objects.exists()
    # when Redis comes back (empty) and the refused work is asked for again
    own_redis.start()
    back = time.monotonic()
    try:
        wait_for(
            lambda: ClearingBatch.objects.filter(
                business_date=day_before, status="computed"
            ).exists(),
            timeout=300,
            what="the day started before the outage to complete",
        )
        recovered_in = time.monotonic() - back
        retried = client.post(
            "/api/v1/clearing-batches/",
            json={"business_date": day_during.isoformat()},
            headers=operator_auth,
        )
        assert retried.status_code == 202, retried.text
        audit = client.post("/api/v1/audit-runs/", json={}, headers=operator_auth)
        assert audit.status_code == 202, audit.text
        wait_for(
            lambda: (
                ClearingBatch.objects.filter(business_date=day_during, status="computed").exists()
                and AuditRun.objects.filter(status="finished").exists()
            ),
            timeout=300,
            what="the retried clearing and audit to finish",
        )
    except BaseException:
        print(procs.log())
        raise
    print(
        f"{len(placed)} orders placed during the outage; {pending_at_outage} chunks pending"
        f" at the outage; the day done {recovered_in:.1f} s after Redis was back"
    )
    record_property("outage_recovered_in_seconds", round(recovered_in, 1))
    # then nothing was lost and nothing done twice
    assert Order.objects.filter(pk__in=placed).count() == len(placed) > 0
    for first, last, day in ((lo, hi, day_before), (lo2, hi2, day_during)):
        batch = ClearingBatch.objects.get(business_date=day)
        assert set(cleared_exactly_once(first, last, batch.pk).values()) == {0}
    assert AuditRun.objects.count() == 1
    assert ledger_problems() == {"balances_off": 0, "entries_unbalanced": 0, "ledger_sum": 0}
