"""Recorded work always gets done: the recovery jobs beat runs (tasks run eagerly here)."""

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from oversight.models import AuditRun
from oversight.services.audit import audit_runs_recover
from settlements.choices import ChunkStatus, ClearingStatus
from settlements.models import ClearingBatch, ClearingChunk
from settlements.services.clearing import (
    clearing_chunk_run,
    clearing_prepare,
    clearing_recover,
    previous_business_day,
)
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders
from tests.settlements.ledger_checks import (
    assert_balances_equal_postings,
    assert_cleared_once,
    assert_totals_are_the_ledgers,
)


@pytest.fixture
def recover(django_capture_on_commit_callbacks):
    """Run a recovery job as beat would: its queued tasks go after its commits (eagerly here)."""

    def run(job, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return job(**kwargs)

    return run


def _long_ago() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.EXCHANGE_JOBS_STALE_SECONDS + 60)


def _interrupted_day(chunk_size: int = 3):
    """A day planned in chunks whose first chunk is done and whose messages were lost."""
    default_fee(300)
    day = a_past_day()
    orders = make_accepted_orders(day=day, count=10)
    batch, chunk_ids = clearing_prepare(business_date=day, chunk_size=chunk_size)
    clearing_chunk_run(chunk_id=chunk_ids[0])
    return day, orders, batch, chunk_ids


def test_beat_runs_both_recovery_jobs_often():
    tasks = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert (
        tasks["settlements.tasks.clearing_recover_task"] == settings.EXCHANGE_JOBS_RECOVER_SECONDS
    )
    assert (
        tasks["oversight.tasks.audit_runs_recover_task"] == settings.EXCHANGE_JOBS_RECOVER_SECONDS
    )
    # a lost chunk is found long before the broker's own redelivery would bring it back
    assert settings.EXCHANGE_JOBS_STALE_SECONDS + settings.EXCHANGE_JOBS_RECOVER_SECONDS < (
        settings.EXCHANGE_BROKER_VISIBILITY_TIMEOUT
    )


def test_the_visibility_timeout_outlasts_the_longest_task():
    # a task is stopped (hard limit) before the broker would hand its message to another worker
    assert settings.CELERY_TASK_TIME_LIMIT < settings.EXCHANGE_BROKER_VISIBILITY_TIMEOUT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    if settings.REDIS_URL:
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["visibility_timeout"] == settings.EXCHANGE_BROKER_VISIBILITY_TIMEOUT


@pytest.mark.django_db
def test_chunks_left_pending_past_the_deadline_are_queued_again_and_the_day_completes(recover):
    # given a day whose remaining chunks were queued long ago and never ran
    _day, orders, batch, chunk_ids = _interrupted_day()
    ClearingChunk.objects.filter(pk__in=chunk_ids).update(queued_at=_long_ago())
    # when the recovery job runs (its chunk tasks run eagerly)
    summary = recover(clearing_recover)
    # then exactly the pending chunks were queued again, and the day is computed
    assert summary["requeued"] == chunk_ids[1:]
    batch.refresh_from_db()
    assert batch.status == ClearingStatus.COMPUTED
    assert_cleared_once(orders, batch)
    assert_totals_are_the_ledgers(batch)
    assert_balances_equal_postings()
    assert set(
        ClearingChunk.objects.filter(batch=batch).values_list("times_queued", flat=True)
    ) <= {
        0,
        1,
    }


@pytest.mark.django_db
def test_chunks_queued_a_moment_ago_are_left_to_their_messages(recover):
    # given a day whose chunks were just planned and queued
    _day, _orders, batch, chunk_ids = _interrupted_day()
    ClearingChunk.objects.filter(pk__in=chunk_ids).update(queued_at=timezone.now())
    # when the recovery job runs
    summary = recover(clearing_recover)
    # then it queues nothing and the chunks stay pending for their own messages
    assert summary == {}
    assert batch.chunks.filter(status=ChunkStatus.PENDING).count() == len(chunk_ids) - 1


@pytest.mark.django_db
def test_a_chunk_never_queued_is_taken_once_its_planning_is_past_the_deadline(recover):
    # given chunks whose messages never reached the broker (no queued_at), planned long ago
    _day, orders, batch, chunk_ids = _interrupted_day()
    ClearingChunk.objects.filter(pk__in=chunk_ids).update(queued_at=None, created_at=_long_ago())
    # when the recovery job runs, then they are cleared
    assert recover(clearing_recover)["requeued"] == chunk_ids[1:]
    batch.refresh_from_db()
    assert batch.status == ClearingStatus.COMPUTED
    assert_cleared_once(orders, batch)


@pytest.mark.django_db
def test_a_batch_whose_finalizer_was_lost_is_computed(recover):
    # given a day whose every chunk is done but whose batch stayed running
    _day, _orders, batch, chunk_ids = _interrupted_day()
    for chunk_id in chunk_ids[1:]:
        clearing_chunk_run(chunk_id=chunk_id)
    assert ClearingBatch.objects.get(pk=batch.pk).status == ClearingStatus.RUNNING
    # when the recovery job runs, then the batch is computed with the ledger's totals
    assert recover(clearing_recover) == {"finalized": [batch.business_date.isoformat()]}
    batch.refresh_from_db()
    assert batch.status == ClearingStatus.COMPUTED
    assert_totals_are_the_ledgers(batch)


@pytest.mark.django_db
def test_a_batch_opened_but_never_planned_is_planned_and_cleared(recover):
    # given a batch a planner opened long ago and died before planning it
    default_fee(300)
    day = a_past_day()
    orders = make_accepted_orders(day=day, count=5)
    batch = ClearingBatch.objects.create(business_date=day)
    ClearingBatch.objects.filter(pk=batch.pk).update(created_at=_long_ago())
    # when the recovery job runs, then the day is planned and cleared
    assert recover(clearing_recover) == {"planned": [day.isoformat()]}
    batch.refresh_from_db()
    assert batch.status == ClearingStatus.COMPUTED
    assert_cleared_once(orders, batch)


@pytest.mark.django_db
def test_a_previous_day_the_nightly_run_never_reached_is_started(recover):
    # given accepted orders of yesterday, no batch for it, and the 01:00 run long past
    default_fee(300)
    day = previous_business_day()
    orders = make_accepted_orders(day=day, count=3)
    now = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(3, 0)))
    # when the recovery job runs at 03:00
    summary = recover(clearing_recover, now=now)
    # then yesterday was cleared
    assert summary == {"started": [day.isoformat()]}
    assert_cleared_once(orders, ClearingBatch.objects.get(business_date=day))


@pytest.mark.django_db
def test_the_previous_day_is_left_to_beat_until_its_run_is_overdue(recover):
    default_fee(300)
    day = previous_business_day()
    make_accepted_orders(day=day, count=2)
    now = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1, 1)))
    assert recover(clearing_recover, now=now) == {}
    assert not ClearingBatch.objects.filter(business_date=day).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunk_a_worker_is_clearing_right_now_is_not_queued_again(recover):
    # given a stale pending chunk whose row a worker holds (it is being cleared)
    _day, _orders, _batch, chunk_ids = _interrupted_day()
    ClearingChunk.objects.filter(pk__in=chunk_ids).update(queued_at=_long_ago())
    busy = chunk_ids[1]
    holding, release = threading.Event(), threading.Event()

    def worker() -> None:
        try:
            with transaction.atomic():
                ClearingChunk.objects.select_for_update().get(pk=busy)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert holding.wait(30)
    try:
        # when the recovery job runs meanwhile
        summary = recover(clearing_recover)
    finally:
        release.set()
        thread.join(30)
    # then every other pending chunk was queued again, the busy one was not
    assert summary["requeued"] == chunk_ids[2:]
    assert ClearingChunk.objects.get(pk=busy).times_queued == 0
    assert ClearingChunk.objects.get(pk=busy).status == ChunkStatus.PENDING


@pytest.mark.django_db
def test_an_audit_run_left_queued_is_queued_again_and_runs(settings, recover):
    settings.EXCHANGE_CHAIN_SETTLE_SECONDS = 0
    # given an operator's run whose message was lost long ago, and a fresh one
    lost = AuditRun.objects.create(trigger="operator")
    AuditRun.objects.filter(pk=lost.pk).update(created_at=_long_ago(), queued_at=_long_ago())
    fresh = AuditRun.objects.create(trigger="operator", queued_at=timezone.now())
    # when the recovery job runs (the audit task runs eagerly)
    assert recover(audit_runs_recover) == {"requeued": [lost.pk]}
    # then the lost run ran to the end and the fresh one is left to its own message
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.status == "finished"
    assert fresh.status == "queued"
    assert recover(audit_runs_recover) == {}
