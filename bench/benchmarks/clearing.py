"""Clearing one business day with the real code, 2 workers, against a hand-written floor.

The floor does the same work in four statements inside one transaction that is
rolled back before the real run: price every order (fee by the most specific
rate in force, department share, seller net, each rounded down, the seller
taking the remainder), move the orders to cleared, write one event per order,
one journal entry and its postings per order, and update the balances.
"""

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

NAME = "clearing"
ORDER = 10
TARGET = "under 45 s for 1,000,000 orders, within 1.5x of the floor"
CHUNK_SIZE = 25_000
WORKERS = 2


class _Rollback(Exception):
    pass


def _counts(cursor) -> tuple[int, int]:
    cursor.execute("SELECT (SELECT COUNT(*) FROM settlements_posting), "
                   "(SELECT COUNT(*) FROM settlements_journalentry)")  # fmt: skip
    return cursor.fetchone()


def floor(bench) -> dict:
    """The same rows, hand-written, then rolled back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from core.filters import local_day_start
    from marketplace.models import Order, OrderEvent
    from settlements.choices import AccountKind
    from settlements.models import ClearingBatch, FeeSchedule, JournalEntry, LedgerAccount, Posting
    from settlements.services.ledger import exchange_account

    order, event = Order._meta.db_table, OrderEvent._meta.db_table
    entry, posting = JournalEntry._meta.db_table, Posting._meta.db_table
    account, fees = LedgerAccount._meta.db_table, FeeSchedule._meta.db_table
    start = local_day_start(bench.day)
    end = local_day_start(bench.day + dt.timedelta(days=1))
    fee_account = exchange_account(AccountKind.EXCHANGE_FEE).pk
    statements = {
        # 1. price and move in one UPDATE ... RETURNING into a work table
        "orders UPDATE + pricing": f"""
        CREATE TEMP TABLE floor_work ON COMMIT DROP AS
        WITH rates AS (
            SELECT DISTINCT ON (COALESCE(board_id, 0), delivery_mode)
                   COALESCE(board_id, 0) AS board_id, delivery_mode, fee_bps
            FROM {fees}
            WHERE effective_from <= %(day)s
              AND (effective_until IS NULL OR effective_until > %(day)s)
            ORDER BY COALESCE(board_id, 0), delivery_mode, effective_from DESC
        ),
        moved AS (
            UPDATE {order} o SET status = 'cleared', clearing_batch_id = %(batch)s,
                   cleared_at = %(now)s, updated_at = %(now)s
            WHERE o.status = 'accepted' AND NOT o.is_disputed AND o.clearing_batch_id IS NULL
              AND o.accepted_at >= %(start)s AND o.accepted_at < %(end)s
            RETURNING o.id, o.buyer_id, o.seller_id, o.department_id,
                      o.amount_fen - o.refunded_fen AS gross,
                      CASE WHEN o.department_id IS NULL THEN 0
                           ELSE LEAST(o.department_share_bps, 10000) END AS share_bps,
                      COALESCE(o.board_id, 0) AS board_id, o.delivery_mode
        ),
        rated AS (
            SELECT m.*, LEAST(COALESCE(r1.fee_bps, r2.fee_bps, r3.fee_bps, r4.fee_bps, 0),
                              10000 - m.share_bps) AS fee_bps
            FROM moved m
            LEFT JOIN rates r1 ON r1.board_id = m.board_id AND r1.delivery_mode = m.delivery_mode
            LEFT JOIN rates r2 ON r2.board_id = m.board_id AND r2.delivery_mode = ''
            LEFT JOIN rates r3 ON r3.board_id = 0 AND r3.delivery_mode = m.delivery_mode
            LEFT JOIN rates r4 ON r4.board_id = 0 AND r4.delivery_mode = ''
        )
        SELECT id, buyer_id, seller_id, department_id, gross,
               gross * fee_bps / 10000 AS fee, gross * share_bps / 10000 AS share,
               gross - gross * fee_bps / 10000 - gross * share_bps / 10000 AS net
        FROM rated
        """,
        "events": f"""
        INSERT INTO {event} (subject_id, actor_id, from_status, to_status, reason, created_at)
        SELECT id, NULL, 'accepted', 'cleared', 'floor', %(now)s FROM floor_work
        """,
        # 3. entries and their four legs in one statement
        "entries + postings": f"""
        WITH e AS (
            INSERT INTO {entry} (idempotency_key, purpose, order_id, clearing_batch_id,
                                 memo, created_at)
            SELECT 'floor:order:' || id, 'clearing', id, %(batch)s, '', %(now)s
            FROM floor_work WHERE gross > 0
            RETURNING id, order_id
        )
        INSERT INTO {posting} (entry_id, account_id, amount_fen, created_at)
        SELECT e.id, l.account_id, l.amount, %(now)s
        FROM e JOIN floor_work w ON w.id = e.order_id
        JOIN {account} ea ON ea.kind = 'merchant_escrow' AND ea.merchant_id = w.buyer_id
        JOIN {account} pa ON pa.kind = 'merchant_payable' AND pa.merchant_id = w.seller_id
        LEFT JOIN {account} da ON da.kind = 'department_share'
             AND da.department_id = w.department_id
        CROSS JOIN LATERAL (VALUES (ea.id, -w.gross), (%(fee)s, w.fee), (da.id, w.share),
                                   (pa.id, w.net)) l(account_id, amount)
        WHERE l.amount <> 0
        """,
        "balances": f"""
        UPDATE {account} a SET balance_fen = a.balance_fen + d.delta, updated_at = %(now)s
        FROM (
            SELECT account_id, SUM(amount) AS delta FROM (
                SELECT ea.id AS account_id, -w.gross AS amount FROM floor_work w
                  JOIN {account} ea ON ea.kind = 'merchant_escrow' AND ea.merchant_id = w.buyer_id
                UNION ALL SELECT %(fee)s, w.fee FROM floor_work w
                UNION ALL SELECT da.id, w.share FROM floor_work w
                  JOIN {account} da ON da.kind = 'department_share'
                   AND da.department_id = w.department_id
                UNION ALL SELECT pa.id, w.net FROM floor_work w
                  JOIN {account} pa ON pa.kind = 'merchant_payable' AND pa.merchant_id = w.seller_id
            ) legs GROUP BY account_id
        ) d WHERE a.id = d.account_id
        """,
    }
    parts = {}
    rows = {}
    started = time.monotonic()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            batch = ClearingBatch.objects.create(business_date=bench.day)
            params = {"day": bench.day, "batch": batch.pk, "now": timezone.now(),
                      "start": start, "end": end, "fee": fee_account}  # fmt: skip
            started = time.monotonic()
            for label, statement in statements.items():
                begun = time.monotonic()
                cursor.execute(statement, params)
                rows[label] = cursor.rowcount
                parts[label] = round(time.monotonic() - begun, 2)
            seconds = time.monotonic() - started
            raise _Rollback
    except _Rollback:
        pass
    return {"seconds": round(seconds, 2), "parts_seconds": parts, "rows": rows}


def _ensure_accounts(bench) -> None:
    """Accounts for every buyer, seller and department of the day, before either run
    (the real code creates them in its untimed-here planning step, the floor needs them)."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from core.filters import local_day_start
    from settlements.services import clearing_sql

    with connection.cursor() as cursor:
        cursor.execute(
            clearing_sql.ENSURE_ACCOUNTS_FOR_DAY,
            {
                "now": timezone.now(),
                "day_start": local_day_start(bench.day),
                "day_end": local_day_start(bench.day + dt.timedelta(days=1)),
                "false": False,
            },
        )


def clear(bench) -> tuple[float, dict, Any]:
    from django.db import connection

    from settlements.services.clearing import (
        clearing_batch_finalize,
        clearing_chunk_run,
        clearing_prepare,
    )

    phases = {}
    started = time.monotonic()
    batch, chunk_ids = clearing_prepare(business_date=bench.day, chunk_size=CHUNK_SIZE)
    phases["plan"] = time.monotonic() - started
    begun = time.monotonic()

    def run(chunk_id: int) -> None:
        try:
            clearing_chunk_run(chunk_id=chunk_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(run, chunk_ids))
    phases["chunks"] = time.monotonic() - begun
    begun = time.monotonic()
    clearing_batch_finalize(batch_id=batch.pk)
    phases["finalize"] = time.monotonic() - begun
    batch.refresh_from_db()
    return (time.monotonic() - started, {k: round(v, 2) for k, v in phases.items()}, batch)


FLOOR_TABLES = (
    "marketplace_order",
    "marketplace_orderevent",
    "settlements_journalentry",
    "settlements_posting",
    "settlements_ledgeraccount",
    "settlements_accountday",
)


def run(bench) -> dict:
    from django.db import connection

    from marketplace.models import Order

    orders = Order.objects.filter(status="accepted", clearing_batch=None).count()
    _ensure_accounts(bench)
    bench.progress(f"floor over {orders:,} accepted orders (rolled back) ...")
    floor_result = floor(bench)
    with connection.cursor() as cursor:
        # The floor's rolled-back rows are dead entries in every table and index
        # it wrote; a real night has none, so they are vacuumed away before the
        # real code runs and before the benchmarks after it read those indexes.
        for table in FLOOR_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        before = _counts(cursor)
    bench.progress(f"floor {floor_result['seconds']} s; the real code, {WORKERS} workers ...")
    seconds, phases, batch = clear(bench)
    with connection.cursor() as cursor:
        after = _counts(cursor)
    bench.notes["clearing_batch"] = batch.pk
    ratio = round(seconds / floor_result["seconds"], 2) if floor_result["seconds"] else None
    target_seconds = 45 * max(orders, 1) / 1_000_000
    return {
        "figures": {
            "headline": f"{orders:,} orders in {seconds:.1f} s ({orders / seconds:,.0f}/s)",
            "orders": orders,
            "seconds": round(seconds, 2),
            "orders_per_second": round(orders / seconds),
            "phases_seconds": phases,
            "postings_written": after[0] - before[0],
            "entries_written": after[1] - before[1],
            "chunk_size": CHUNK_SIZE,
            "workers": WORKERS,
            "batch_totals_fen": {
                "gross": batch.gross_fen,
                "fee": batch.fee_fen,
                "share": batch.share_fen,
                "net": batch.net_fen,
            },
        },
        "floor": {
            "what": "hand-written set-based SQL: pricing, order UPDATE, events, "
            "entries and postings, balances (4 statements, rolled back)",
            **floor_result,
        },
        "ratio": ratio,
        "met": seconds < target_seconds and ratio is not None and ratio <= 1.5,
    }
