"""Demo: one audit sweep and one statistics refresh over whatever the other apps seeded."""

from core.demo import DemoContext
from oversight.choices import AuditTrigger
from oversight.models import AuditRun
from oversight.services.audit import audit_run_execute
from oversight.services.chain import chain_seal
from oversight.services.stats import stats_refresh


def seed(context: DemoContext) -> None:
    if context.trading != "day":
        # Seeding is the only writer now, so history is sealed at once (no settling
        # delay) and the demo's trade certificates carry their proofs.
        seals = chain_seal(settle_seconds=0)
        context.write(f"  sealed the history in {seals} seal(s)")
        queued = AuditRun.objects.create(trigger=AuditTrigger.DEMO)
        run = audit_run_execute(run_id=queued.pk)
        if run is not None:
            context.write(f"  audit #{run.pk}: {run.status}, problems {run.counts or 'none'}")
        context.made["audit_run"] = run
    else:
        # The benchmark day: the first audit run seals and checks it (the audit
        # benchmark times exactly that), so seeding does not do the same work twice.
        context.write("  sealing and the audit are left to the first audit run")
    snapshot = stats_refresh()
    context.write(f"  statistics computed in {snapshot.duration_ms} ms")
