"""The query service's jobs, on the "query" queue of their own (EXCHANGE_QUEUES).

Loads and runs hold a connection as the query role and may take long; their
own queue (and worker) keeps them from delaying clearing or billing.
"""

from celery import shared_task

from querying.services.datasets import dataset_load_run


@shared_task(acks_late=True)
def dataset_load_task(dataset_id: int, path: str) -> str:
    """Load one file into its data set; a redelivered task finds it loaded and stops."""
    dataset = dataset_load_run(dataset_id=dataset_id, path=path)
    return f"data set {dataset_id}: {dataset.status}, {dataset.rows_loaded} rows"


@shared_task(acks_late=True)
def query_run_execute_task(run_id: int) -> str:
    """Run one queued query run; a redelivered task finds it finished and stops."""
    from querying.services.runs import query_run_execute

    run = query_run_execute(run_id=run_id)
    return f"query run {run_id}: {run.status}"
