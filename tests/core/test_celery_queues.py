"""Each Celery workload has a queue of its own, so a long job of one never delays another."""

import pytest
from django.conf import settings

from config.celery_app import app

WORKLOADS = {
    "settlements.tasks.clearing_run_for_day_task": "clearing",
    "settlements.tasks.clearing_chunk_run_task": "clearing",
    "settlements.tasks.clearing_batch_finalize_task": "clearing",
    "oversight.tasks.audit_run_task": "audit",
    "oversight.tasks.chain_seal_task": "audit",
    "marketplace.tasks.usage_bill_month_task": "billing",
    "interchange.tasks.partner_harvest_task": "harvest",
    "interchange.tasks.partners_harvest_due_task": "harvest",
    "querying.tasks.query_run_execute_task": "query",
    "querying.tasks.dataset_load_task": "query",
}


def test_every_routed_task_exists():
    app.loader.import_default_modules()
    missing = [name for name in WORKLOADS if name not in app.tasks]
    assert not missing, missing


def _queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return route["queue"].name


@pytest.mark.parametrize(("task_name", "queue"), WORKLOADS.items())
def test_each_workload_is_routed_to_its_own_queue(task_name, queue):
    assert _queue_of(task_name) == f"{settings.CELERY_QUEUE_PREFIX}{queue}"


def test_other_tasks_stay_on_the_default_queue():
    assert _queue_of("marketplace.tasks.orders_auto_accept_task") == (
        settings.CELERY_TASK_DEFAULT_QUEUE
    )


def test_every_workload_queue_is_distinct():
    patterns = [p for ps in settings.EXCHANGE_QUEUES.values() for p in ps]
    assert len(patterns) == len(set(patterns))
    assert settings.CELERY_TASK_DEFAULT_QUEUE not in settings.EXCHANGE_QUEUES
