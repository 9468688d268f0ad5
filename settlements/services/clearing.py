"""清算 Clearing: one batch per business day, cleared in order-id chunks, set-based.

How a day clears:
1. `clearing_run_for_day` takes the batch row lock, plans the day's eligible
   orders into ClearingChunk rows (order-id ranges) unless chunks are still
   pending from an earlier, interrupted run, and creates the ledger accounts
   the day needs. Then it runs the pending chunks in-process or queues one
   Celery task per chunk.
2. `clearing_chunk_run` clears one range in one transaction: it locks the chunk
   row, has marketplace move the orders accepted -> cleared with their events
   (`marketplace.services.batch_moves.orders_clear`), posts one
   journal entry per order ("clearing:order:<id>") with its postings, moves
   the running balances with one UPDATE, and marks the chunk done. A worker
   killed half-way leaves the chunk pending and the ledger untouched.
3. `clearing_batch_finalize`, called after every chunk, moves the batch to
   `computed` with totals computed from the postings once no chunk is pending.

Running a day twice, twice at once, or resuming after a crash gives the ledger
of one clean run: an order leaves 'accepted' exactly once (its UPDATE is
conditional on the status), its entry key is unique, and a done chunk is skipped.
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import jobs
from core.exceptions import BusinessRuleViolation, Conflict
from core.filters import local_day_start
from core.sql import analyze
from core.transitions import transition
from marketplace.services.batch_moves import (
    clearable_params,
    orders_clear,
    orders_statistics_refresh,
)
from settlements.choices import (
    CLEARING_TRANSITIONS,
    AccountKind,
    ChunkStatus,
    ClearingStatus,
)
from settlements.exceptions import LedgerImbalance
from settlements.models import ClearingBatch, ClearingChunk
from settlements.services import clearing_sql as sql
from settlements.services.fees import rates_in_force
from settlements.services.ledger import exchange_account

logger = logging.getLogger(__name__)


def previous_business_day(now: dt.datetime | None = None) -> dt.date:
    """Yesterday in Asia/Shanghai: the day the 01:00 run clears."""
    return timezone.localdate(now or timezone.now()) - dt.timedelta(days=1)


def _db_time(value: dt.datetime):
    """A datetime as the backend stores it (SQLite keeps naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _day_params(day: dt.date) -> dict:
    return clearable_params(day)


def _batch_get_or_create(business_date: dt.date, actor: User | None = None) -> ClearingBatch:
    batch = ClearingBatch.objects.filter(business_date=business_date).first()
    if batch is not None:
        return batch
    try:
        with transaction.atomic():
            batch = ClearingBatch.objects.create(business_date=business_date)
            batch.events.create(
                actor=actor if getattr(actor, "pk", None) else None,
                from_status="",
                to_status=ClearingStatus.RUNNING,
                reason="opened",
            )
            return batch
    except IntegrityError:
        # A concurrent run opened the same day first; use its batch.
        return ClearingBatch.objects.get(business_date=business_date)


def lock_batch(batch_id: int) -> ClearingBatch:
    """Lock a batch row against other planners, finalizers and confirmations.

    FOR NO KEY UPDATE, not FOR UPDATE: chunks insert rows pointing at the
    batch, and their foreign-key checks (FOR KEY SHARE) must not queue
    behind a finalizer that is only looking at the batch.
    """
    return ClearingBatch.objects.select_for_update(no_key=True).get(pk=batch_id)


def _eligible_exists(day: dt.date) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {sql.ORDER} WHERE {sql.ELIGIBLE} LIMIT 1",  # noqa: S608
            _day_params(day),
        )
        return cursor.fetchone() is not None


def _plan_chunks(batch: ClearingBatch, chunk_size: int) -> list[ClearingChunk]:
    """Split the day's eligible orders into id ranges of about `chunk_size` orders."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.PLAN_CHUNKS, {**_day_params(batch.business_date), "chunk_size": chunk_size}
        )
        ranges = cursor.fetchall()
        if not ranges:
            return []
        cursor.execute(
            sql.ENSURE_ACCOUNTS_FOR_DAY,
            {**_day_params(batch.business_date), "now": _db_time(timezone.now())},
        )
    exchange_account(AccountKind.EXCHANGE_FEE)
    first_seq = (batch.chunks.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    return ClearingChunk.objects.bulk_create(
        [
            ClearingChunk(
                batch=batch,
                seq=first_seq + i,
                first_order_id=low,
                last_order_id=high,
                planned_orders=count,
            )
            for i, (_bucket, low, high, count) in enumerate(ranges)
        ]
    )


def clearing_prepare(
    *, business_date: dt.date, actor: User | None = None, chunk_size: int | None = None
) -> tuple[ClearingBatch, list[int]]:
    """Open or reopen the day's batch and return the ids of the chunks still to clear.

    Invariant: while chunks are pending no new ones are planned, so a resumed
    run finishes the interrupted plan instead of overlapping it.
    """
    if business_date >= timezone.localdate():
        raise BusinessRuleViolation(
            _("a business day is cleared after it has ended"), field="business_date"
        )
    chunk_size = chunk_size or settings.EXCHANGE_CLEARING_CHUNK_SIZE
    batch = _batch_get_or_create(business_date, actor)
    with transaction.atomic():
        # The batch row lock serialises planning: a second run of the same day
        # waits here, then finds the first run's chunks and shares them.
        batch = lock_batch(batch.pk)
        if batch.status in (ClearingStatus.CONFIRMED, ClearingStatus.SETTLED):
            raise Conflict(
                _("the batch of %(business_date)s is already %(status)s; it cannot be re-run")
                % {"business_date": business_date, "status": batch.status},
                code="batch_closed",
            )
        pending = list(batch.chunks.filter(status=ChunkStatus.PENDING).values_list("pk", flat=True))
        if not pending:
            if batch.status == ClearingStatus.COMPUTED:
                if not _eligible_exists(business_date):
                    return batch, []
                transition(
                    batch,
                    to=ClearingStatus.RUNNING,
                    actor=actor,
                    transitions=CLEARING_TRANSITIONS,
                    reason="re-run for orders not yet cleared",
                )
            pending = [chunk.pk for chunk in _plan_chunks(batch, chunk_size)]
    return batch, sorted(pending)


def clearing_run_for_day(
    *,
    business_date: dt.date,
    actor: User | None = None,
    dispatch: str = "inline",
    chunk_size: int | None = None,
) -> ClearingBatch:
    """Clear one business day (run, re-run or resume); returns the batch.

    `dispatch="inline"` clears the chunks here, one after another;
    `dispatch="celery"` queues one task per chunk (after this transaction
    commits) so several workers share the day, each chunk task finalizing the
    batch when it is the last.
    """
    if dispatch == "celery":
        # Refuse (503) before opening or planning anything when the broker is away.
        jobs.broker_check()
    batch, chunk_ids = clearing_prepare(
        business_date=business_date, actor=actor, chunk_size=chunk_size
    )
    if dispatch == "celery":
        if chunk_ids:
            chunks_queue(chunk_ids)
        else:
            # Nothing left to clear (every chunk done, nothing new): a batch a
            # lost finalizer left running moves on now.
            clearing_batch_finalize(batch_id=batch.pk)
            batch.refresh_from_db()
        return batch
    for chunk_id in chunk_ids:
        clearing_chunk_run(chunk_id=chunk_id)
    clearing_batch_finalize(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def chunks_queue(chunk_ids: list[int]) -> None:
    """Queue one task per chunk once the current transaction commits.

    The chunks are stamped `queued_at` now; those the broker refuses lose the
    stamp again, so the recovery job takes them at its next run.
    """
    from settlements.tasks import clearing_chunk_run_task

    ClearingChunk.objects.filter(pk__in=chunk_ids).update(
        queued_at=timezone.now(), times_queued=F("times_queued") + 1
    )

    def unsent(rest: list[tuple]) -> None:
        ClearingChunk.objects.filter(pk__in=[args[0] for args in rest]).update(queued_at=None)

    jobs.send_after_commit(
        clearing_chunk_run_task, [(chunk_id,) for chunk_id in chunk_ids], on_unsent=unsent
    )


def clearing_recover(*, now: dt.datetime | None = None) -> dict:
    """Queue again the clearing work a killed worker or a broker outage left undone.

    Run by beat every EXCHANGE_JOBS_RECOVER_SECONDS. For every running batch:
    its pending chunks that nobody is clearing right now (their row is not
    locked) and that were last queued more than EXCHANGE_JOBS_STALE_SECONDS
    ago are queued again; a batch with no chunk pending is finalized, or
    planned when it has eligible orders but no chunks (a planner killed
    half-way). And a previous business day that beat's 01:00 run never
    reached (the broker was away) is started.

    Safe to run at any time and twice at once: chunks are claimed under
    FOR UPDATE SKIP LOCKED and stamped in the same transaction, and every
    chunk and finalizer is idempotent, so a needless re-queue only costs a
    skipped task.
    """
    now = now or timezone.now()
    stale_before = now - dt.timedelta(seconds=settings.EXCHANGE_JOBS_STALE_SECONDS)
    summary: dict[str, list] = {"requeued": [], "finalized": [], "planned": [], "started": []}
    for batch in ClearingBatch.objects.filter(status=ClearingStatus.RUNNING).order_by("pk"):
        with transaction.atomic():
            stale = list(
                ClearingChunk.objects.select_for_update(skip_locked=True)
                .filter(batch=batch, status=ChunkStatus.PENDING)
                .annotate(last_queued=Coalesce("queued_at", "created_at"))
                .filter(last_queued__lt=stale_before)
                .order_by("seq")
                .values_list("pk", flat=True)
            )
            if stale:
                logger.warning(
                    "clearing of %s: %s chunk(s) left pending, queued again",
                    batch.business_date,
                    len(stale),
                )
                chunks_queue(stale)
                summary["requeued"] += stale
                continue
        if batch.chunks.filter(status=ChunkStatus.PENDING).exists():
            continue  # being cleared, or queued recently
        if batch.created_at >= stale_before and not batch.chunks.exists():
            continue  # its planner may be at work right now
        if _eligible_exists(batch.business_date):
            clearing_run_for_day(business_date=batch.business_date, dispatch="celery")
            summary["planned"].append(batch.business_date.isoformat())
        elif clearing_batch_finalize(batch_id=batch.pk):
            summary["finalized"].append(batch.business_date.isoformat())
    day = previous_business_day(now)
    scheduled = local_day_start(day + dt.timedelta(days=1)) + dt.timedelta(hours=1)
    if (
        now - scheduled > dt.timedelta(seconds=settings.EXCHANGE_JOBS_STALE_SECONDS)
        and not ClearingBatch.objects.filter(business_date=day).exists()
        and _eligible_exists(day)
    ):
        logger.warning("clearing of %s never started; starting it", day)
        clearing_run_for_day(business_date=day, dispatch="celery")
        summary["started"].append(day.isoformat())
    return {name: values for name, values in summary.items() if values}


def _execute(cursor, statement: str, params: dict | None = None) -> None:
    started = time.monotonic()
    cursor.execute(statement, params)
    if logger.isEnabledFor(logging.DEBUG):
        first_line = " ".join(statement.split())[:60]
        logger.debug("%.3f s  %s", time.monotonic() - started, first_line)


@transaction.atomic
def clearing_chunk_run(*, chunk_id: int) -> dict:
    """Clear one chunk in one transaction; a done chunk is skipped.

    Invariant: the chunk is marked done in the same transaction that posts its
    entries and moves its orders and balances; postings of the chunk sum to 0.
    """
    # Lock the chunk row only ("of self"): locking the joined batch row too
    # would make every chunk of the day wait for the one before it. A chunk
    # another worker is clearing right now (a message delivered twice) is
    # skipped at once instead of holding this worker until that one commits:
    # if that worker dies, the chunk is still pending and the recovery job
    # queues it again.
    chunk = (
        ClearingChunk.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("batch")
        .filter(pk=chunk_id)
        .first()
    )
    if chunk is None:
        if not ClearingChunk.objects.filter(pk=chunk_id).exists():
            raise ClearingChunk.DoesNotExist(f"no clearing chunk {chunk_id}")
        return {"chunk": chunk_id, "skipped": True, "busy": True}
    if chunk.status == ChunkStatus.DONE:
        return {"chunk": chunk.pk, "skipped": True}
    batch = chunk.batch
    if batch.status != ClearingStatus.RUNNING:
        return {"chunk": chunk.pk, "skipped": True, "batch_status": batch.status}
    # Written first: on SQLite this takes the database write lock before any read.
    ClearingChunk.objects.filter(pk=chunk.pk).update(attempts=chunk.attempts + 1)

    fee_account = exchange_account(AccountKind.EXCHANGE_FEE)
    rates, rate_params = sql.rates_cte(rates_in_force(batch.business_date))
    now = timezone.now()
    params = {
        **_day_params(batch.business_date),
        **rate_params,
        "first_id": chunk.first_order_id,
        "last_id": chunk.last_order_id,
        "batch_id": batch.pk,
        "fee_account_id": fee_account.pk,
        "now": _db_time(now),
        "day": connection.ops.adapt_datefield_value(timezone.localdate(now)),
        "reason": f"clearing batch {batch.business_date}",
    }
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # Check foreign keys as each statement runs, not at commit, so the
            # commit that follows the account locks below is short.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql.CREATE_WORK)
        cursor.execute(sql.CREATE_DELTA)
        orders_clear(
            batch_id=batch.pk,
            business_date=batch.business_date,
            first_id=chunk.first_order_id,
            last_id=chunk.last_order_id,
            now=now,
            reason=params["reason"],
        )
        _execute(cursor, sql.COLLECT_CLEARED.replace("{rates}", rates), params)
        if postgres:
            _execute(cursor, "ANALYZE clearing_work")
        _execute(cursor, sql.ENSURE_ACCOUNTS_FOR_CHUNK, params)
        if postgres:
            _execute(cursor, sql.PG_POST, params)
        else:
            cursor.execute(sql.LITE_MAX_IDS)
            entries_before, postings_before = cursor.fetchone()
            params.update(entries_before=entries_before, postings_before=postings_before)
            _execute(cursor, sql.LITE_INSERT_ENTRIES, params)
            _execute(cursor, sql.LITE_INSERT_POSTINGS, params)
            _execute(cursor, sql.LITE_DELTA, params)
        cursor.execute(sql.DELTA_TOTALS)
        # SUM over BIGINT is NUMERIC on PostgreSQL; the counts are whole numbers.
        imbalance, postings, entries = (int(v) for v in cursor.fetchone())
        if imbalance != 0:
            raise LedgerImbalance(f"clearing chunk {chunk.pk}: postings sum to {imbalance}")
        cursor.execute(sql.WORK_ORDERS)
        (orders,) = cursor.fetchone()
        cursor.execute(sql.DELTA_BY_KIND)
        by_kind = {kind: int(total) for kind, total in cursor.fetchall()}
        if postgres:
            _execute(cursor, sql.PG_LOCK_ACCOUNTS)
        _execute(cursor, sql.APPLY_BALANCES, params)
        _execute(cursor, sql.APPLY_DAY_TOTALS, params)
        for statement in sql.DROP_TEMP:
            cursor.execute(statement)
    ClearingChunk.objects.filter(pk=chunk.pk).update(
        status=ChunkStatus.DONE,
        cleared_orders=orders,
        entries_created=entries,
        postings_created=postings,
        finished_at=now,
        **_totals_by_kind(by_kind),
    )
    logger.info("clearing chunk %s of %s: %s orders", chunk.seq, batch.business_date, orders)
    return {"chunk": chunk.pk, "orders": orders, "entries": entries, "postings": postings}


def _totals_by_kind(by_kind: dict[str, int]) -> dict[str, int]:
    """Clearing postings summed by account kind, as gross, fee, share and net."""
    return {
        "gross_fen": -by_kind.get(AccountKind.MERCHANT_ESCROW, 0),
        "fee_fen": by_kind.get(AccountKind.EXCHANGE_FEE, 0),
        "share_fen": by_kind.get(AccountKind.DEPARTMENT_SHARE, 0),
        "net_fen": by_kind.get(AccountKind.MERCHANT_PAYABLE, 0),
    }


@transaction.atomic
def clearing_batch_finalize(*, batch_id: int, actor: User | None = None) -> bool:
    """running -> computed once every chunk is done, with totals from the postings.

    Invariant: the stored totals equal the sums of the batch's clearing
    postings. Each chunk recorded what its postings moved by account kind
    (read back from its own INSERT), so the totals are the chunks' sums;
    `clearing_batch_verify` recomputes them from every posting.
    Returns True when this call moved the batch.
    """
    batch = lock_batch(batch_id)
    if batch.status != ClearingStatus.RUNNING:
        return False
    if batch.chunks.filter(status=ChunkStatus.PENDING).exists():
        return False
    sums = batch.chunks.aggregate(
        order_count=Sum("cleared_orders"),
        gross_fen=Sum("gross_fen"),
        fee_fen=Sum("fee_fen"),
        share_fen=Sum("share_fen"),
        net_fen=Sum("net_fen"),
    )
    totals = {name: int(value or 0) for name, value in sums.items()}
    order_count = totals["order_count"]
    if totals["gross_fen"] != totals["fee_fen"] + totals["share_fen"] + totals["net_fen"]:
        raise LedgerImbalance(f"clearing batch {batch.business_date}: totals do not add up")
    transition(
        batch,
        to=ClearingStatus.COMPUTED,
        actor=actor,
        transitions=CLEARING_TRANSITIONS,
        reason=f"{order_count} orders cleared",
        changes=totals,
    )
    transaction.on_commit(_ledger_statistics_refresh)
    return True


def _ledger_statistics_refresh() -> None:
    """ANALYZE the ledger's tables, and the orders', once a day has cleared (PostgreSQL).

    A cleared day's postings all lie past the planner's last statistics, so it
    would take the morning's statement pages for a handful of rows and sort
    the day's postings instead of walking the (account, posted at) index for
    one page. ANALYZE samples a fixed number of rows: a fraction of a second
    however large the ledger. Autovacuum would get there too, later.
    """
    analyze(sql.POSTING, sql.ENTRY, sql.DAY)
    orders_statistics_refresh()


def clearing_batch_verify(*, batch: ClearingBatch) -> dict[str, tuple[int, int]]:
    """Recompute a batch's totals from all its postings and orders; return the differences.

    An empty answer means the stored totals are the ledger's. A full scan of
    the batch's postings, meant for audits and tests, not for the nightly run.
    """
    params = {**_day_params(batch.business_date), "batch_id": batch.pk}
    with connection.cursor() as cursor:
        cursor.execute(sql.BATCH_TOTALS_FROM_POSTINGS, params)
        by_kind = {kind: int(total) for kind, total in cursor.fetchall()}
        cursor.execute(sql.BATCH_ORDER_COUNT, params)
        (order_count,) = cursor.fetchone()
    batch.refresh_from_db()
    recomputed = {"order_count": order_count, **_totals_by_kind(by_kind)}
    return {
        name: (getattr(batch, name), value)
        for name, value in recomputed.items()
        if getattr(batch, name) != value
    }
