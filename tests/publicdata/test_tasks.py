"""The hourly beat task, run by a real Celery worker through Redis on PostgreSQL."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from publicdata.tasks import grants_expire_task
from tests.factories.accounts import MerchantFactory
from tests.factories.publicdata import GrantFactory, ScenarioFactory
from tests.publicdata.conftest import make_public_product


def test_beat_runs_the_expiry_task_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["publicdata-grants-expire"]
    assert entry["task"] == "publicdata.tasks.grants_expire_task"
    assert grants_expire_task.name == entry["task"]
    assert entry["schedule"].minute == {7}
    assert len(entry["schedule"].hour) == 24


@pytest.mark.postgres
@pytest.mark.redis
def test_worker_expires_grants_and_suspends_their_products(celery_worker_process):
    # given a grant whose window ended a minute ago, with a listed product, and one still valid
    now = timezone.now()
    merchant = MerchantFactory(status="active")
    ended = GrantFactory(
        grantee=merchant,
        valid_from=now - dt.timedelta(days=30),
        valid_until=now - dt.timedelta(minutes=1),
    )
    product = make_public_product(ended, ScenarioFactory(grant=ended))
    valid = GrantFactory(grantee=merchant)
    valid_product = make_public_product(valid, ScenarioFactory(grant=valid))

    # when the beat's task runs in the worker, twice (a redelivery)
    first = celery_worker_process.run("publicdata.tasks.grants_expire_task")
    second = celery_worker_process.run("publicdata.tasks.grants_expire_task")

    # then the ended grant and its scenario expired once, its product is suspended and
    # recorded; the valid grant's product stays listed
    assert first == {"grants_expired": 1, "scenarios_expired": 1, "products_suspended": 1}
    assert second == {"grants_expired": 0, "scenarios_expired": 0, "products_suspended": 0}
    ended.refresh_from_db()
    product.refresh_from_db()
    valid_product.refresh_from_db()
    assert ended.status == "expired"
    assert ended.events.get(to_status="expired").actor is None
    assert (product.status, product.suspension_cause) == ("suspended", "grant")
    assert product.events.filter(to_status="suspended").count() == 1
    assert valid_product.status == "listed"
