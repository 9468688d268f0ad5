"""The full audit (it seals the new history first) over the cleared day."""

import time

NAME = "audit"
ORDER = 30
TARGET = "under 15 s, 0 findings on clean data"


def run(bench) -> dict:
    from oversight.choices import AuditTrigger
    from oversight.models import AuditRun
    from oversight.services.audit import audit_run_execute

    queued = AuditRun.objects.create(trigger=AuditTrigger.OPERATOR)
    started = time.monotonic()
    audit = audit_run_execute(run_id=queued.pk)
    seconds = time.monotonic() - started
    problems = audit.total_problems if audit else None
    return {
        "figures": {
            "headline": f"{seconds:.1f} s, {problems} findings",
            "seconds": round(seconds, 2),
            "findings": problems,
            "counts": audit.counts if audit else None,
        },
        "met": problems == 0 and seconds < 15,
    }
