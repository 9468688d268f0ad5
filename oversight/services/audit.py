"""Audit sweeps and the findings they leave for operators."""

import datetime as dt
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import jobs
from core.exceptions import BusinessRuleViolation
from core.transitions import lock_one, transition
from oversight.choices import (
    FINDING_TRANSITIONS,
    FINDING_UNRESOLVED,
    KIND_SEVERITY,
    AuditRunStatus,
    AuditTrigger,
    FindingStatus,
)
from oversight.conf import setting
from oversight.models import AuditFinding, AuditFindingEvent, AuditRun
from oversight.services.chain import chain_head, chain_seal, chain_verify
from oversight.services.checks import CHECKS
from oversight.services.problems import Problem

logger = logging.getLogger(__name__)

# When the sweep runs its checks on two connections, each check keeps a core
# busy already; PostgreSQL's parallel workers for a check would only compete
# for the same cores and pay for their coordination. On the scale-100 data set,
# interleaved runs of the checks took 8.7, 11.8 and 12.9 s without them against
# 11.3, 15.4 and 15.1 s with them.
ONE_CORE_PER_CHECK = "SET LOCAL max_parallel_workers_per_gather = 0"

# Fingerprints are looked up in chunks so a sweep with many findings stays
# within the database's parameter limits.
LOOKUP_CHUNK = 500


@transaction.atomic
def audit_run_request(*, actor: User, full_chain_verify: bool = False) -> AuditRun:
    """Queue an audit sweep started by an operator; the worker runs it after commit.

    With the broker away this refuses (BrokerUnavailable, a 503) before
    recording the run; a run recorded whose message is lost later is queued
    again by `audit_runs_recover`.
    """
    jobs.broker_check()
    run = AuditRun.objects.create(
        trigger=AuditTrigger.OPERATOR,
        requested_by=actor if getattr(actor, "pk", None) else None,
        full_chain_verify=full_chain_verify,
    )
    _runs_queue([run.pk])
    return run


def _runs_queue(run_ids: list[int]) -> None:
    """Send each run's task after commit, stamped queued_at; a refused one loses the stamp."""
    from oversight.tasks import audit_run_task

    AuditRun.objects.filter(pk__in=run_ids).update(queued_at=timezone.now())

    def unsent(rest: list[tuple]) -> None:
        AuditRun.objects.filter(pk__in=[args[0] for args in rest]).update(queued_at=None)

    jobs.send_after_commit(audit_run_task, [(run_id,) for run_id in run_ids], on_unsent=unsent)


def audit_runs_recover(*, now: dt.datetime | None = None) -> dict:
    """Queue again the audit runs still `queued` long after they were last queued.

    Run by beat every EXCHANGE_JOBS_RECOVER_SECONDS: a run whose message a
    broker outage or a killed worker lost would otherwise stay queued for
    ever. Runs left `running` by a killed worker are closed as failed first
    (after EXCHANGE_AUDIT_STALE_MINUTES), so they no longer block the next.
    Claimed under FOR UPDATE SKIP LOCKED, so two recoveries at once queue a
    run once; a run delivered twice is started once (audit_run_execute).
    """
    now = now or timezone.now()
    _fail_stale_runs()
    stale_before = now - dt.timedelta(seconds=settings.EXCHANGE_JOBS_STALE_SECONDS)
    with transaction.atomic():
        stale = list(
            AuditRun.objects.select_for_update(skip_locked=True)
            .filter(status=AuditRunStatus.QUEUED)
            .annotate(last_queued=Coalesce("queued_at", "created_at"))
            .filter(last_queued__lt=stale_before)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if stale:
            logger.warning("audit runs %s left queued; queued again", stale)
            _runs_queue(stale)
    return {"requeued": stale} if stale else {}


def _fail_stale_runs() -> None:
    """A run left `running` by a killed worker would block every later run; close it."""
    stale = timezone.now() - dt.timedelta(minutes=setting("EXCHANGE_AUDIT_STALE_MINUTES"))
    AuditRun.objects.filter(status=AuditRunStatus.RUNNING, started_at__lt=stale).update(
        status=AuditRunStatus.FAILED,
        finished_at=timezone.now(),
        error="no progress: taken as crashed",
    )


def _check_one(name: str, results: dict[str, list[Problem]], errors: dict[str, str]) -> None:
    """One check in its own savepoint; a check that breaks is recorded, not raised."""
    try:
        with transaction.atomic():
            results[name] = CHECKS[name]()
    except Exception as exc:  # one broken check must not hide the others
        logger.exception("audit check %s failed", name)
        errors[name] = f"{type(exc).__name__}: {exc}"[:500]


def _run_checks(
    *, alongside: Callable[[], object] | None = None
) -> tuple[list[Problem], dict[str, str]]:
    """Every check against one consistent picture of the data where the database allows.

    On PostgreSQL, outside an enclosing transaction, the checks share one
    REPEATABLE READ snapshot, so a payment committing mid-sweep cannot make
    escrow and orders disagree for a moment and raise a false finding. There
    a second connection imports that snapshot and takes checks from the same
    list, after running `alongside` (the sealing, which writes and so stays
    outside the snapshot): the checks are each one big read, and a sweep at a
    million orders a day otherwise leaves one of the two cores idle. Each
    check then runs without PostgreSQL's parallel workers (ONE_CORE_PER_CHECK).
    Elsewhere `alongside` runs first and the checks one after another.
    Problems come back in CHECKS order either way.
    """
    results: dict[str, list[Problem]] = {}
    errors: dict[str, str] = {}
    outermost = not connection.in_atomic_block
    parallel = (
        connection.vendor == "postgresql" and outermost and setting("EXCHANGE_AUDIT_WORKERS") > 1
    )
    if not parallel and alongside is not None:
        alongside()
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                if parallel:
                    cursor.execute(ONE_CORE_PER_CHECK)
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
        pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        for name in CHECKS:
            pending.put(name)

        def drain() -> None:
            while True:
                try:
                    name = pending.get_nowait()
                except queue.Empty:
                    return
                _check_one(name, results, errors)

        if not parallel:
            drain()
        else:
            failed: list[BaseException] = []

            def second() -> None:
                try:
                    if alongside is not None:
                        alongside()
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                        cursor.execute(ONE_CORE_PER_CHECK)
                        drain()
                except BaseException as exc:
                    failed.append(exc)
                finally:
                    connection.close()

            helper = threading.Thread(target=second, name="audit-checks")
            helper.start()
            drain()
            helper.join()
            if failed:
                raise failed[0]
    problems = [p for name in CHECKS for p in results.get(name, [])]
    return problems, errors


def _content_type_id(label: str) -> int | None:
    app_label, _, model = label.partition(".")
    try:
        return ContentType.objects.get_by_natural_key(app_label, model).pk
    except ContentType.DoesNotExist:
        return None


def _record(run: AuditRun, problems: list[Problem]) -> tuple[int, int]:
    """Open a finding per new problem; update the unresolved finding of a known one.

    Returns (new, updated). Set-based: one lookup per chunk of fingerprints,
    one bulk insert and one bulk update.
    """
    now = timezone.now()
    unique = {p.fingerprint: p for p in problems}
    fingerprints = list(unique)
    existing: dict[str, AuditFinding] = {}
    for i in range(0, len(fingerprints), LOOKUP_CHUNK):
        for open_finding in AuditFinding.objects.filter(
            status__in=FINDING_UNRESOLVED, fingerprint__in=fingerprints[i : i + LOOKUP_CHUNK]
        ):
            existing[open_finding.fingerprint] = open_finding
    updated = []
    created: list[AuditFinding] = []
    for fingerprint, problem in unique.items():
        finding = existing.get(fingerprint)
        if finding is not None:
            finding.last_seen_at = now
            finding.last_run = run
            finding.times_seen += 1
            finding.summary = problem.summary[:500]
            finding.details = problem.details
            finding.objects_concerned = problem.objects
            updated.append(finding)
            continue
        main = problem.objects[0] if problem.objects else None
        created.append(
            AuditFinding(
                kind=problem.kind,
                severity=problem.severity or KIND_SEVERITY[problem.kind],
                fingerprint=fingerprint,
                summary=problem.summary[:500],
                details=problem.details,
                content_type_id=_content_type_id(main["model"]) if main else None,
                object_id=main["id"] if main else None,
                objects_concerned=problem.objects,
                first_seen_at=now,
                last_seen_at=now,
                first_run=run,
                last_run=run,
            )
        )
    AuditFinding.objects.bulk_update(
        updated,
        ["last_seen_at", "last_run", "times_seen", "summary", "details", "objects_concerned"],
        batch_size=LOOKUP_CHUNK,
    )
    AuditFinding.objects.bulk_create(created, batch_size=LOOKUP_CHUNK)
    AuditFindingEvent.objects.bulk_create(
        [
            AuditFindingEvent(
                subject=finding,
                from_status="",
                to_status=FindingStatus.OPEN,
                reason=f"found by audit #{run.pk}",
            )
            for finding in created
        ],
        batch_size=LOOKUP_CHUNK,
    )
    return len(created), len(updated)


def audit_run_execute(
    *, run_id: int | None = None, full_chain_verify: bool = False
) -> AuditRun | None:
    """Run one audit sweep: seal new history, run every check, verify the chain,
    record findings. Returns the run, or None if another sweep is running.

    Invariant: the sweep only reads the exchange's data; it writes findings,
    seals and its own run row, never a repair. Idempotent by its run row: a
    run already started or finished is not started again.
    """
    _fail_stale_runs()
    if run_id is None:
        run = AuditRun.objects.create(
            trigger=AuditTrigger.SCHEDULE, full_chain_verify=full_chain_verify
        )
        run_id = run.pk
    try:
        with transaction.atomic():
            started = AuditRun.objects.filter(pk=run_id, status=AuditRunStatus.QUEUED).update(
                status=AuditRunStatus.RUNNING, started_at=timezone.now()
            )
    except IntegrityError:
        # Another sweep is running; this one is closed rather than left queued
        # for ever (the next scheduled sweep sees whatever it would have seen).
        AuditRun.objects.filter(pk=run_id, status=AuditRunStatus.QUEUED).update(
            status=AuditRunStatus.FAILED,
            finished_at=timezone.now(),
            error="skipped: another audit sweep was running",
        )
        logger.info("audit #%s skipped: another sweep is running", run_id)
        return None
    run = AuditRun.objects.get(pk=run_id)
    if not started:
        return run
    try:
        verification: list[tuple[list[Problem], int]] = []

        def seal_then_verify() -> None:
            # The new seals are verified with the old ones; beside the checks,
            # on the second connection, while the first goes on checking.
            chain_seal()
            verification.append(chain_verify(full=run.full_chain_verify))

        problems, errors = _run_checks(alongside=seal_then_verify)
        chain_problems, verified = verification[0]
        problems += chain_problems
        with transaction.atomic():
            new, seen_again = _record(run, problems)
            head = chain_head()
            run.counts = dict(
                Counter(p.kind for p in {p.fingerprint: p for p in problems}.values())
            )
            run.new_findings = new
            run.updated_findings = seen_again
            run.seals_verified = verified
            run.chain_head_sequence = head.sequence if head else None
            run.chain_head_digest = head.digest if head else ""
            run.error = "; ".join(f"{name}: {msg}" for name, msg in errors.items())
            run.status = AuditRunStatus.FINISHED
            run.finished_at = timezone.now()
            run.save()
    except Exception as exc:
        AuditRun.objects.filter(pk=run.pk).update(
            status=AuditRunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    return run


def _finding_move(*, actor: User, finding: AuditFinding, to: str, reason: str, changes: dict):
    finding = lock_one(AuditFinding, finding.pk)
    transition(
        finding,
        to=to,
        actor=actor,
        transitions=FINDING_TRANSITIONS,
        reason=reason,
        changes=changes if finding.status != to else None,
    )
    return finding


@transaction.atomic
def finding_acknowledge(*, actor: User, finding: AuditFinding, reason: str = "") -> AuditFinding:
    """open -> acknowledged: an operator has seen the finding and is on it."""
    return _finding_move(
        actor=actor,
        finding=finding,
        to=FindingStatus.ACKNOWLEDGED,
        reason=reason,
        changes={"acknowledged_by": actor, "acknowledged_at": timezone.now()},
    )


@transaction.atomic
def finding_resolve(*, actor: User, finding: AuditFinding, reason: str) -> AuditFinding:
    """open/acknowledged -> resolved, saying why (the fix, or why it is no problem).

    A problem still present at the next sweep opens a new finding: resolving
    records a decision, it does not silence the audit.
    """
    if not (reason or "").strip():
        raise BusinessRuleViolation(_("say why the finding is resolved"), field="reason")
    return _finding_move(
        actor=actor,
        finding=finding,
        to=FindingStatus.RESOLVED,
        reason=reason,
        changes={"resolved_by": actor, "resolved_at": timezone.now(), "resolution": reason},
    )
