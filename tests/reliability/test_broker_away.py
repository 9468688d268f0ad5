"""A broker that cannot be reached: a 503 with Retry-After before anything is recorded,
and work recorded before the broker left is never lost."""

import socket

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery_app import app
from oversight.models import AuditRun
from oversight.services.audit import audit_runs_recover
from oversight.tasks import audit_run_task
from settlements.models import ClearingBatch, ClearingChunk
from settlements.services.clearing import clearing_recover
from settlements.tasks import clearing_chunk_run_task
from tests.factories.interchange import PartnerFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders
from tests.settlements.ledger_checks import assert_cleared_once

RUNS = "/api/v1/audit-runs/"
BATCHES = "/api/v1/clearing-batches/"


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker_away(settings):
    """Tasks go through a broker (not eagerly) whose address refuses connections."""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


def _assert_503(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(django_settings.EXCHANGE_BROKER_RETRY_AFTER_SECONDS)
    body = response.json()
    assert body["error_code"] == "broker_unavailable"
    assert body["errors"] == []
    assert body["detail"]


@pytest.mark.django_db
def test_an_audit_run_asked_for_while_the_broker_is_away_is_a_503_and_records_nothing(
    operator_api, broker_away
):
    response = operator_api.post(RUNS, {}, format="json")
    _assert_503(response)
    assert not AuditRun.objects.exists()


@pytest.mark.django_db
def test_a_clearing_run_started_while_the_broker_is_away_is_a_503_and_opens_nothing(
    operator_api, broker_away
):
    default_fee(300)
    day = a_past_day()
    make_accepted_orders(day=day, count=3)
    response = operator_api.post(BATCHES, {"business_date": day.isoformat()}, format="json")
    _assert_503(response)
    assert not ClearingBatch.objects.exists()
    assert not ClearingChunk.objects.exists()


@pytest.mark.django_db
def test_a_harvest_asked_for_while_the_broker_is_away_is_a_503(operator_api, broker_away):
    partner = PartnerFactory()
    response = operator_api.post(
        f"/api/v1/partner-exchanges/{partner.pk}/harvest/", {}, format="json"
    )
    _assert_503(response)


@pytest.mark.django_db
def test_a_publish_failing_in_a_view_is_a_503_not_a_500(operator_api, monkeypatch):
    # given a broker that answers the check but then refuses the message itself
    from interchange.tasks import partner_harvest_task

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(partner_harvest_task, "apply_async", refuse)
    partner = PartnerFactory()
    response = operator_api.post(
        f"/api/v1/partner-exchanges/{partner.pk}/harvest/", {}, format="json"
    )
    _assert_503(response)


def test_the_broker_is_given_up_on_within_a_bounded_wait():
    # What keeps a request from hanging for Celery's default retries (19 s
    # with the broker down): a short connect timeout and one quick retry.
    assert django_settings.EXCHANGE_BROKER_CONNECT_TIMEOUT <= 2
    assert django_settings.CELERY_BROKER_CONNECTION_TIMEOUT <= 2
    assert django_settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"] <= 1
    if django_settings.REDIS_URL:
        options = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
        connect_timeout = options["socket_connect_timeout"]
        assert isinstance(connect_timeout, int | float)
        assert connect_timeout <= 2
        assert django_settings.CELERY_REDIS_SOCKET_CONNECT_TIMEOUT <= 2


@pytest.mark.django_db
def test_an_audit_run_whose_message_is_refused_after_commit_is_run_by_the_recovery(
    operator_api, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # given a broker that passes the check but refuses the message after the run is recorded
    settings.EXCHANGE_CHAIN_SETTLE_SECONDS = 0
    real_apply = audit_run_task.apply_async

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(audit_run_task, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.post(RUNS, {}, format="json")
    # then the run is accepted and recorded, marked as never queued
    assert response.status_code == 202
    run = AuditRun.objects.get(pk=response.json()["id"])
    assert run.status == "queued"
    assert run.queued_at is None
    # when the broker is back and the recovery job runs past the deadline
    monkeypatch.setattr(audit_run_task, "apply_async", real_apply)
    later = timezone.now() + timezone.timedelta(seconds=settings.EXCHANGE_JOBS_STALE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_runs_recover(now=later) == {"requeued": [run.pk]}
    # then the run ran, once
    run.refresh_from_db()
    assert run.status == "finished"


@pytest.mark.django_db
def test_chunks_refused_by_the_broker_mid_run_are_cleared_by_the_recovery(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    # given a run whose chunk messages the broker refuses from the second on
    from settlements.services.clearing import clearing_run_for_day

    settings.EXCHANGE_CLEARING_CHUNK_SIZE = 2
    default_fee(300)
    day = a_past_day()
    orders = make_accepted_orders(day=day, count=7)
    real_apply = clearing_chunk_run_task.apply_async
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            raise OperationalError("connection refused")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(clearing_chunk_run_task, "apply_async", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        batch = clearing_run_for_day(business_date=day, dispatch="celery")
    # then one chunk cleared, the others are pending and marked as never queued
    chunks = list(batch.chunks.order_by("seq"))
    assert [c.status for c in chunks] == ["done", "pending", "pending", "pending"]
    assert [c.queued_at is None for c in chunks[1:]] == [True, True, True]
    assert len(calls) == 2  # it stopped at the first refusal instead of waiting on each
    # when the broker is back and the recovery job runs past the deadline
    monkeypatch.setattr(clearing_chunk_run_task, "apply_async", real_apply)
    later = timezone.now() + timezone.timedelta(seconds=settings.EXCHANGE_JOBS_STALE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert clearing_recover(now=later)["requeued"] == [c.pk for c in chunks[1:]]
    # then the day completed, every order cleared once
    batch.refresh_from_db()
    assert batch.status == "computed"
    assert_cleared_once(orders, batch)
