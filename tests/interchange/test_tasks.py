"""The beat job, run by a real Celery worker against real Redis and PostgreSQL."""

import pytest

from interchange.models import HarvestRun, PartnerRecord
from tests.factories.interchange import PartnerFactory
from tests.interchange.conftest import dataset, page


@pytest.mark.postgres
@pytest.mark.redis
def test_the_beat_job_harvests_partners_that_are_due(celery_worker_process, partner_server):
    # given two partners, one harvested a moment ago and not due again for an hour
    base = partner_server.base
    partner_server.json("/catalog/", page([dataset(base, "P-1"), dataset(base, "P-2")]))
    due = PartnerFactory(catalog_url=f"{base}/catalog/", changes_url="")
    recent = PartnerFactory(catalog_url=f"{base}/other/", changes_url="", harvest_every_minutes=60)
    HarvestRun.objects.create(partner=recent, status="succeeded")
    # when the worker runs the beat's task
    run_ids = celery_worker_process.run("interchange.tasks.partners_harvest_due_task")
    # then only the due partner was harvested, and its listings are here
    assert HarvestRun.objects.get(pk__in=run_ids).partner_id == due.pk
    assert len(run_ids) == 1
    assert PartnerRecord.objects.filter(partner=due).count() == 2
    # and running it again at once harvests nobody
    assert celery_worker_process.run("interchange.tasks.partners_harvest_due_task") == []
