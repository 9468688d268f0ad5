"""A harvest run whose worker died mid-read is finished by the recovery beat job, once.

The crash is simulated as it looks afterwards: a run row left `running` with
its last heartbeat long past the deadline (the worker was SIGKILLed between
two pages). Tasks run eagerly here; the recovery's message goes after its
commit, as beat's would.
"""

import datetime as dt
import socket

import pytest
from django.conf import settings
from django.utils import timezone

from interchange.models import HarvestRun, PartnerRecord
from interchange.services import (
    _harvest_execute,
    harvest_run_resume,
    harvest_runs_recover,
    partners_harvest_due,
)
from tests.factories.interchange import PartnerFactory
from tests.interchange.conftest import PartnerServer, dataset, page


def _free_port() -> int:
    """A free port of this session's range (9100-9199)."""
    for port in range(9150, 9200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 9150-9199")


@pytest.fixture
def partner_site():
    server = PartnerServer(port=_free_port())
    yield server
    server.close()


@pytest.fixture
def recover(django_capture_on_commit_callbacks):
    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return harvest_runs_recover(**kwargs)

    return run


def _long_ago() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.EXCHANGE_JOBS_STALE_SECONDS + 60)


def _crashed_run(partner, *, heartbeat_at) -> HarvestRun:
    """What a worker killed between two pages leaves: a run `running`, silent since then."""
    run = HarvestRun.objects.create(partner=partner, full=True, heartbeat_at=heartbeat_at)
    HarvestRun.objects.filter(pk=run.pk).update(started_at=_long_ago())
    return run


@pytest.fixture
def partner(partner_site, db):
    base = partner_site.base
    partner_site.json("/catalog/", page([dataset(base, "P-1"), dataset(base, "P-2")]))
    return PartnerFactory(catalog_url=f"{base}/catalog/", changes_url="")


@pytest.mark.django_db
def test_a_harvest_run_left_running_by_a_dead_worker_is_finished_once(partner, recover):
    # given a run whose worker died long ago, and the beat job
    crashed = _crashed_run(partner, heartbeat_at=_long_ago())
    # when the recovery runs (the resume task runs eagerly after its commit)
    first = recover()
    # then the run was read to the end and closed, by the resume's attempt
    crashed.refresh_from_db()
    assert first == {"requeued": [crashed.pk]}
    assert crashed.status == "succeeded"
    assert crashed.finished_at is not None
    assert (crashed.new_count, crashed.attempt) == (2, 1)
    assert PartnerRecord.objects.filter(partner=partner).count() == 2
    partner.refresh_from_db()
    assert partner.last_good_run_id == crashed.pk
    # and beat running again finds nothing, nor does the old message delivered twice
    assert recover() == {}
    assert harvest_run_resume(run_id=crashed.pk, attempt=0) is None
    again = HarvestRun.objects.get(pk=crashed.pk)
    assert (again.status, again.attempt, again.new_count) == ("succeeded", 1, 2)
    assert PartnerRecord.objects.filter(partner=partner).count() == 2
    assert HarvestRun.objects.filter(partner=partner).count() == 1


@pytest.mark.django_db
def test_a_run_with_a_recent_heartbeat_is_left_to_its_worker(partner, recover):
    # given a run whose worker renewed its heartbeat a moment ago
    busy = _crashed_run(partner, heartbeat_at=timezone.now())
    # when the recovery runs
    assert recover() == {}
    # then the run is untouched, and the due-harvest beat does not start a second one
    busy.refresh_from_db()
    assert (busy.status, busy.attempt) == ("running", 0)
    assert partners_harvest_due() == []


@pytest.mark.django_db
def test_the_worker_that_lost_its_run_stops_and_writes_nothing(partner, recover):
    # given a run the recovery handed to another worker (its attempt moved on)
    crashed = _crashed_run(partner, heartbeat_at=_long_ago())
    recover()
    finished = HarvestRun.objects.get(pk=crashed.pk)
    # when the old worker, not dead after all, reads its next page as attempt 0
    late = _harvest_execute(finished, partner, None, attempt=0)
    # then it stopped at once: the run is as the resume closed it
    assert late.pk == crashed.pk
    after = HarvestRun.objects.get(pk=crashed.pk)
    assert (after.status, after.attempt, after.finished_at) == (
        "succeeded",
        1,
        finished.finished_at,
    )


@pytest.mark.django_db
def test_a_resume_the_broker_refused_is_taken_by_the_next_recovery_at_once(
    partner, recover, monkeypatch
):
    # given a crashed run, and a broker that refuses the first resume message
    from core import jobs

    crashed = _crashed_run(partner, heartbeat_at=_long_ago())
    monkeypatch.setattr(jobs, "send", lambda task, *args, **kwargs: False)
    # when the recovery runs with the broker away, and again once it is back
    assert recover() == {"requeued": [crashed.pk]}
    unsent = HarvestRun.objects.get(pk=crashed.pk)
    monkeypatch.undo()
    second = recover()
    # then the unsent run lost its renewed heartbeat, and the next pass finished it
    assert unsent.heartbeat_at is None
    assert second == {"requeued": [crashed.pk]}
    assert HarvestRun.objects.get(pk=crashed.pk).status == "succeeded"


def test_beat_runs_the_harvest_recovery_often_and_its_deadline_outlasts_a_page():
    tasks = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert (
        tasks["interchange.tasks.harvest_runs_recover_task"]
        == settings.EXCHANGE_JOBS_RECOVER_SECONDS
    )
    # a live worker renews the heartbeat at every page, each bounded by page_seconds
    assert settings.EXCHANGE_HARVEST_LIMITS["page_seconds"] < settings.EXCHANGE_JOBS_STALE_SECONDS
