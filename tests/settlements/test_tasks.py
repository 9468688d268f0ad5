import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from settlements.choices import ClearingStatus
from settlements.models import ClearingBatch
from settlements.tasks import clearing_run_for_day_task
from tests.factories.settlements import default_fee, make_accepted_orders
from tests.settlements.ledger_checks import assert_cleared_once, clearing_lines, expected_lines


def test_beat_runs_the_clearing_task_at_one_in_the_morning():
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "settlements.tasks.clearing_run_for_day_task"
    )
    assert entry["schedule"].hour == {1}
    assert entry["schedule"].minute == {0}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


@pytest.mark.django_db
def test_the_task_clears_a_given_day_through_chunk_tasks(
    django_capture_on_commit_callbacks, settings
):
    # given accepted orders of a past day (tasks run eagerly in tests)
    settings.EXCHANGE_CLEARING_CHUNK_SIZE = 4
    default_fee(300)
    day = timezone.localdate() - dt.timedelta(days=3)
    orders = make_accepted_orders(day=day, count=6)
    # when the task runs for that day; the chunk tasks are queued on commit
    with django_capture_on_commit_callbacks(execute=True):
        summary = clearing_run_for_day_task(day.isoformat())
    # then the day was planned in two chunks, and the last chunk task computed the batch
    batch = ClearingBatch.objects.get(business_date=day)
    assert summary == {
        "business_date": day.isoformat(),
        "batch": batch.pk,
        "status": "running",
        "chunks": 2,
    }
    assert batch.status == ClearingStatus.COMPUTED
    assert_cleared_once(orders, batch)


@pytest.mark.django_db
def test_the_task_leaves_a_confirmed_day_alone():
    day = timezone.localdate() - dt.timedelta(days=4)
    ClearingBatch.objects.create(business_date=day, status=ClearingStatus.CONFIRMED)
    summary = clearing_run_for_day_task(day.isoformat())
    assert "skipped" in summary


@pytest.mark.postgres
@pytest.mark.redis
def test_the_beat_task_clears_the_previous_day_through_a_real_worker(celery_worker_process):
    # given accepted orders of yesterday (Asia/Shanghai) and of today
    default_fee(300)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    orders = make_accepted_orders(day=yesterday, count=12)
    today_orders = make_accepted_orders(day=timezone.localdate(), count=2)
    # when beat's task (no arguments) runs in a real worker, its chunk tasks queued through Redis
    summary = celery_worker_process.run("settlements.tasks.clearing_run_for_day_task", timeout=120)
    assert summary["business_date"] == yesterday.isoformat()
    batch = ClearingBatch.objects.get(business_date=yesterday)
    import time

    deadline = time.monotonic() + 60
    while batch.status != ClearingStatus.COMPUTED and time.monotonic() < deadline:
        time.sleep(0.3)
        batch.refresh_from_db()
    # then yesterday is cleared, by the worker, and today is untouched
    assert batch.status == ClearingStatus.COMPUTED, celery_worker_process.log()
    assert "settlements.tasks.clearing_chunk_run_task" in celery_worker_process.log()
    assert clearing_lines(batch) == expected_lines(orders, yesterday)
    assert_cleared_once(orders, batch)
    for order in today_orders:
        order.refresh_from_db()
        assert order.status == "accepted"
