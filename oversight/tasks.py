"""Beat and on-demand jobs. Thin: each calls one service and returns a short summary."""

from celery import shared_task

from oversight.services.audit import audit_run_execute, audit_runs_recover
from oversight.services.chain import chain_seal
from oversight.services.stats import stats_refresh


@shared_task(acks_late=True)
def audit_run_task(run_id: int | None = None, full_chain_verify: bool = False) -> dict:
    """Run a queued sweep (run_id) or, from beat, a new one. Safe to redeliver: a run
    already started is not started again."""
    run = audit_run_execute(run_id=run_id, full_chain_verify=full_chain_verify)
    if run is None:
        return {"status": "skipped", "reason": "another audit is running"}
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(acks_late=True)
def chain_seal_task() -> dict:
    """Seal the recorded history written since the last run. Idempotent: sealed rows stay sealed."""
    return {"seals": chain_seal()}


@shared_task(acks_late=True)
def stats_refresh_task() -> dict:
    """Recompute the statistics snapshot the stats endpoint and dashboard read."""
    snapshot = stats_refresh()
    return {"snapshot": snapshot.pk, "ms": snapshot.duration_ms}


@shared_task(acks_late=True)
def audit_runs_recover_task() -> dict:
    """Beat: queue again audit runs a lost message left queued (see audit_runs_recover)."""
    return audit_runs_recover()
