import pytest

from oversight.models import AuditFinding, AuditRun, ChainSeal, StatsSnapshot
from oversight.tasks import chain_seal_task, stats_refresh_task


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_beat_audit_runs_on_a_real_worker_and_finds_planted_corruption(
    exchange, celery_worker_process
):
    # given an exchange with a payable balance edited behind the ledger's back
    from settlements.choices import AccountKind
    from settlements.models import LedgerAccount
    from settlements.services.ledger import account_get

    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=exchange.sellers[0])
    LedgerAccount.objects.filter(pk=account.pk).update(balance_fen=account.balance_fen + 1)
    # when beat's task runs on a real worker (settle delay: the worker's own default)
    summary = celery_worker_process.run("oversight.tasks.audit_run_task")
    # then the run finished in the worker and recorded the finding
    run = AuditRun.objects.get(pk=summary["run"])
    assert run.status == "finished", run.error
    assert run.trigger == "schedule"
    # (the balances no longer sum to zero either)
    assert summary["counts"] == {"balance_mismatch": 1, "ledger_unbalanced": 1}
    finding = AuditFinding.objects.get(kind="balance_mismatch")
    assert finding.fingerprint == f"balance_mismatch:account:{account.pk}"
    # and a redelivery of the same run changes nothing
    again = celery_worker_process.run("oversight.tasks.audit_run_task", run_id=run.pk)
    assert again["run"] == run.pk
    finding.refresh_from_db()
    assert finding.times_seen == 1


@pytest.mark.django_db
def test_the_sealing_and_stats_tasks_call_their_services(exchange):
    # when the beat tasks run in-process
    sealed = chain_seal_task.delay().get()
    refreshed = stats_refresh_task.delay().get()
    # then they did their work and say so briefly
    assert sealed["seals"] == ChainSeal.objects.count() > 0
    assert StatsSnapshot.objects.filter(pk=refreshed["snapshot"]).exists()
