"""Clearing benchmark: one business day of accepted orders cleared on PostgreSQL.

    make bench            # 1,000,000 orders
    make bench QUICK=1    # 50,000 orders

It creates its own database, `exchange_bench` on the server DATABASE_URL
names (default postgres://postgres@127.0.0.1:5432), or BENCH_DATABASE_URL
exactly; it never touches the database DATABASE_URL names. It migrates it, loads the
day's orders with COPY (progress on stderr) and posts their escrow payments
with INSERT ... SELECT, so the ledger is consistent before clearing. Then it:

1. clears the day with the real clearing code (the chunk services in-process),
2. clears it again (must add no postings),
3. measures the floor: the same postings written by one hand-written
   INSERT ... SELECT (inside a transaction that is rolled back),
4. measures a per-order ORM loop on a small sample of another day and
   extrapolates it to the full volume (labelled as extrapolated),

and writes bench/results/clearing.json. The database is dropped at the end
unless --keep is given.
"""

import argparse
import datetime as dt
import io
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/exchange_bench"
MERCHANTS = 433  # 入驻数商, the exchange's merchants today (see docs/domain)
DEPARTMENTS = 12
BOARDS = 4
PRODUCTS = 1200
ORM_SAMPLE = 2000


def progress(label: str, done: int, total: int, started: float, per_item: int = 1) -> None:
    """A one-line progress bar on stderr; the rate counts orders (`per_item` per step)."""
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done * per_item / max(time.monotonic() - started, 1e-9)
    sys.stderr.write(
        f"\r{label:<22} [{'#' * filled}{'.' * (width - filled)}] "
        f"{done:>9,}/{total:,} {rate:>10,.0f}/s"
    )
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def database_url_for(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


def recreate_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin = database_url_for(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin = database_url_for(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("EXCHANGE_VAR_DIR", str(ROOT / "var"))
    import django

    django.setup()


def build_reference_data():
    """Merchants, departments, boards, products and plans, in bulk (not timed)."""
    from django.utils import timezone

    from accounts.credit_code import ALPHABET, check_character
    from accounts.models import Merchant
    from products.models import Board, Industry, PricingPlan, Product
    from publicdata.models import Department
    from settlements.models import FeeSchedule

    def credit_code(n: int) -> str:
        body = "91430100" + "".join(ALPHABET[(n // 31**i) % 31] for i in range(9))[::-1]
        return body + check_character(body)

    merchants = Merchant.objects.bulk_create(
        [
            Merchant(
                legal_name=f"Bench Merchant {i} Co., Ltd.",
                credit_code=credit_code(10_000 + i),
                is_supplier=True,
                region="430100",
                contact_name="Bench",
                contact_phone="0731-00000000",
                bank_name="Bank of Changsha",
                bank_account_name=f"Bench Merchant {i} Co., Ltd.",
                bank_account_number=f"6222{i:012d}",
                status="active",
            )
            for i in range(MERCHANTS)
        ]
    )
    departments = Department.objects.bulk_create(
        [
            Department(code=f"BENCH-{i:02d}", name=f"Department {i}", level="province")
            for i in range(DEPARTMENTS)
        ]
    )
    industry = Industry.objects.create(code="bench", name="Bench industry")
    boards = Board.objects.bulk_create(
        [Board(code=f"bench-{i}", name=f"Board {i}") for i in range(BOARDS)]
    )
    now = timezone.now()
    modes = ["api", "file", "report", "model", "privacy_computing"]
    products = Product.objects.bulk_create(
        [
            Product(
                provider=merchants[i % MERCHANTS],
                title=f"Bench product {i}",
                industry=industry,
                board=boards[i % BOARDS] if i % 3 else None,
                delivery_mode=modes[i % len(modes)],
                status="listed",
                registration_number=f"BENCH-{i:06d}",
                listed_at=now,
            )
            for i in range(PRODUCTS)
        ]
    )
    plans = PricingPlan.objects.bulk_create(
        [PricingPlan(product=p, name="One-off", kind="one_off", price_fen=10_000) for p in products]
    )
    FeeSchedule.objects.create(fee_bps=300, effective_from=dt.date(2020, 1, 1), note="default")
    FeeSchedule.objects.create(fee_bps=200, board=boards[0], effective_from=dt.date(2020, 1, 1))
    FeeSchedule.objects.create(
        fee_bps=150, delivery_mode="report", effective_from=dt.date(2020, 1, 1)
    )
    return merchants, departments, products, plans


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy_orders(*, day, count, first_number, merchants, departments, products, plans, label):
    """COPY `count` accepted orders of local `day` into marketplace_order; returns (lo, hi) ids."""
    from django.db import connection

    from core.filters import local_day_start
    from marketplace.models import Order

    fixed: dict[str, object] = {}
    for field in Order._meta.concrete_fields:
        # A concrete field always has a column; the None is for private fields.
        if field.primary_key or field.column is None:
            continue
        # Columns added later by the trading side get their model default.
        fixed[field.column] = field.get_default()
    day_start = local_day_start(day)
    columns = list(fixed)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Order._meta.db_table}")
        (before,) = cursor.fetchone()
        raw = cursor.cursor
        statement = f"COPY {Order._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with raw.copy(statement) as copy:
            block = io.StringIO()
            for i in range(count):
                product = products[i % len(products)]
                seller = merchants[(i % len(products)) % MERCHANTS]
                buyer = merchants[(i * 7 + 1) % MERCHANTS]
                if buyer.pk == seller.pk:
                    buyer = merchants[(i * 7 + 2) % MERCHANTS]
                amount = 1_000 + (i * 7919) % 5_000_000
                public = i % 5 == 0
                at = day_start + dt.timedelta(seconds=(i * 86_399) // count)
                row = dict(fixed)
                row.update(
                    number=f"B{first_number + i:012d}",
                    buyer_id=buyer.pk,
                    seller_id=seller.pk,
                    product_id=product.pk,
                    plan_id=plans[i % len(plans)].pk,
                    quantity=1,
                    amount_fen=amount,
                    refunded_fen=amount // 10 if i % 17 == 0 else 0,
                    status="accepted",
                    is_disputed=False,
                    contract={},
                    board_id=product.board_id,
                    delivery_mode=product.delivery_mode,
                    department_id=departments[i % DEPARTMENTS].pk if public else None,
                    department_share_bps=1000 + 500 * (i % 3) if public else 0,
                    paid_at=at - dt.timedelta(minutes=5),
                    delivered_at=at - dt.timedelta(minutes=1),
                    accepted_at=at,
                    created_at=at - dt.timedelta(minutes=10),
                    updated_at=at,
                )
                block.write("\t".join(_copy_value(row[c]) for c in columns))
                block.write("\n")
                if (i + 1) % 20_000 == 0 or i + 1 == count:
                    copy.write(block.getvalue())
                    block = io.StringIO()
                    progress(label, i + 1, count, started)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Order._meta.db_table}")
        (after,) = cursor.fetchone()
    return before + 1, after


def post_escrow_payments(lo: int, hi: int) -> None:
    """What the trading side posts when buyers pay (and refunds), set-based, for the load."""
    from django.db import connection, transaction

    from settlements.choices import AccountKind
    from settlements.services.clearing_sql import ACCOUNT, ENTRY, ORDER, POSTING
    from settlements.services.ledger import exchange_account

    bank = exchange_account(AccountKind.BANK_CLEARING).pk
    params = {"lo": lo, "hi": hi, "bank": bank}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ACCOUNT} (kind, merchant_id, balance_fen, updated_at)
            SELECT DISTINCT 'merchant_escrow', buyer_id, 0, now() FROM {ORDER}
            WHERE id BETWEEN %(lo)s AND %(hi)s ON CONFLICT DO NOTHING
            """,
            params,
        )
        for purpose, amount in (("payment", "amount_fen"), ("refund", "refunded_fen")):
            sign_bank, sign_escrow = ("-", "") if purpose == "payment" else ("", "-")
            cursor.execute(
                f"""
                WITH e AS (
                    INSERT INTO {ENTRY} (idempotency_key, purpose, order_id, memo, created_at)
                    SELECT '{purpose}:order:' || id, '{purpose}', id, '', paid_at FROM {ORDER}
                    WHERE id BETWEEN %(lo)s AND %(hi)s AND {amount} > 0
                    RETURNING id, order_id
                )
                INSERT INTO {POSTING} (entry_id, account_id, amount_fen, created_at)
                SELECT e.id, CASE l.leg WHEN 1 THEN %(bank)s ELSE a.id END,
                       CASE l.leg WHEN 1 THEN {sign_bank}o.{amount}
                                  ELSE {sign_escrow}o.{amount} END,
                       o.paid_at
                FROM e JOIN {ORDER} o ON o.id = e.order_id
                JOIN {ACCOUNT} a ON a.kind = 'merchant_escrow' AND a.merchant_id = o.buyer_id
                CROSS JOIN (VALUES (1), (2)) l(leg)
                """,
                params,
            )
        cursor.execute(
            f"""
            UPDATE {ACCOUNT} a SET balance_fen = s.total FROM (
                SELECT account_id, SUM(amount_fen) AS total FROM {POSTING} GROUP BY account_id
            ) s WHERE a.id = s.account_id
            """
        )


def clear_with_workers(day, chunk_size: int, workers: int):
    """The real clearing services, with `workers` threads sharing the chunks as workers would."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from settlements.services.clearing import (
        clearing_batch_finalize,
        clearing_chunk_run,
        clearing_prepare,
    )

    phases = {}
    started = time.monotonic()
    batch, chunk_ids = clearing_prepare(business_date=day, chunk_size=chunk_size)
    phases["plan"] = time.monotonic() - started
    done = 0
    started = time.monotonic()

    def run(chunk_id: int) -> None:
        try:
            clearing_chunk_run(chunk_id=chunk_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(run, chunk_ids):
            done += 1
            progress("clearing chunks", done, len(chunk_ids), started, per_item=chunk_size)
    phases["chunks"] = time.monotonic() - started
    started = time.monotonic()
    clearing_batch_finalize(batch_id=batch.pk)
    phases["finalize"] = time.monotonic() - started
    batch.refresh_from_db()
    return batch, {name: round(seconds, 2) for name, seconds in phases.items()}


def count_postings() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM settlements_posting")
        return cursor.fetchone()[0]


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("marketplace_order", "settlements_journalentry", "settlements_posting"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def floor_seconds(batch_id: int, fee_account_id: int) -> tuple[float, int]:
    """The same postings written by one hand-written INSERT ... SELECT, then rolled back."""
    from django.db import connection, transaction

    from settlements.services import clearing_sql as sql

    class Rollback(Exception):
        pass

    statement = f"""
    INSERT INTO {sql.POSTING} (entry_id, account_id, amount_fen, created_at)
    SELECT p.entry_id, p.account_id, p.amount_fen, now() FROM {sql.POSTING} p
    JOIN {sql.ENTRY} e ON e.id = p.entry_id
    WHERE e.clearing_batch_id = %(batch)s AND e.purpose = 'clearing'
    """
    written = 0
    started = time.monotonic()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Constraints checked in the statement, as clearing does, since the
            # rollback below would otherwise skip deferred checks.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(statement, {"batch": batch_id, "fee": fee_account_id})
            written = cursor.rowcount
            elapsed = time.monotonic() - started
            raise Rollback
    except Rollback:
        pass
    return elapsed, written


def orm_loop_seconds(day) -> tuple[float, int]:
    """The naive way: one transaction per order through the ORM (the thing not to do)."""
    from django.db import transaction
    from django.utils import timezone

    from marketplace.models import Order, OrderEvent
    from settlements.choices import AccountKind, EntryPurpose
    from settlements.models import ClearingBatch
    from settlements.services.fees import fee_bps_for, order_split
    from settlements.services.ledger import Line, account_get, exchange_account, journal_post

    batch = ClearingBatch.objects.create(business_date=day)
    fee_account = exchange_account(AccountKind.EXCHANGE_FEE)
    ids = list(
        Order.objects.filter(status="accepted", accepted_at__date=day).values_list("pk", flat=True)
    )
    started = time.monotonic()
    for n, pk in enumerate(ids, 1):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            gross = order.amount_fen - order.refunded_fen
            mode = order.delivery_mode
            fee_bps = fee_bps_for(board_id=order.board_id, delivery_mode=mode, day=day)
            split = order_split(
                gross_fen=gross, fee_bps=fee_bps, share_bps=order.department_share_bps
            )
            escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=order.buyer_id)
            payable = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=order.seller_id)
            lines = [
                Line(escrow, -gross),
                Line(fee_account, split.fee_fen),
                Line(payable, split.net_fen),
            ]
            if split.share_fen:
                share = account_get(
                    kind=AccountKind.DEPARTMENT_SHARE, department=order.department_id
                )
                lines.append(Line(share, split.share_fen))
            journal_post(
                idempotency_key=f"clearing:order:{order.pk}",
                purpose=EntryPurpose.CLEARING,
                lines=lines,
                order_id=order.pk,
                clearing_batch_id=batch.pk,
            )
            order.status = "cleared"
            order.clearing_batch = batch
            order.cleared_at = timezone.now()
            order.save(update_fields=["status", "clearing_batch", "cleared_at", "updated_at"])
            OrderEvent.objects.create(
                subject=order, from_status="accepted", to_status="cleared", reason="orm loop"
            )
        if n % 200 == 0 or n == len(ids):
            progress("ORM loop (sample)", n, len(ids), started)
    return time.monotonic() - started, len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 orders instead of 1,000,000")
    parser.add_argument("--orders", type=int, help="number of orders (overrides --quick)")
    parser.add_argument("--chunk-size", type=int, default=25_000)
    parser.add_argument("--workers", type=int, default=2, help="chunk workers (threads)")
    parser.add_argument("--orm-sample", type=int, default=ORM_SAMPLE)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--note", default="", help="free text stored with the figures")
    parser.add_argument("--load-only", action="store_true", help="load, keep, do not clear")
    args = parser.parse_args()
    orders = args.orders or (50_000 if args.quick else 1_000_000)
    # The benchmark drops and recreates its database, so it never takes the name
    # from DATABASE_URL (that may be the exchange's own data): only the server.
    url = os.environ.get("BENCH_DATABASE_URL") or database_url_for(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "exchange_bench"
    )
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("the clearing benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    if urlparse(url).path.lstrip("/") in {"", "postgres"}:
        sys.exit("BENCH_DATABASE_URL must name a database of its own; it is dropped and recreated")

    total_started = time.monotonic()
    recreate_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    try:
        call_command("migrate", verbosity=0)
        merchants, departments, products, plans = build_reference_data()
        day = timezone.localdate() - dt.timedelta(days=2)
        orm_day = day - dt.timedelta(days=1)
        load_started = time.monotonic()
        lo, hi = copy_orders(
            day=day, count=orders, first_number=1, merchants=merchants,
            departments=departments, products=products, plans=plans, label="COPY orders",
        )  # fmt: skip
        olo, ohi = copy_orders(
            day=orm_day, count=args.orm_sample, first_number=orders + 1, merchants=merchants,
            departments=departments, products=products, plans=plans, label="COPY ORM sample",
        )  # fmt: skip
        sys.stderr.write("posting escrow payments (INSERT ... SELECT) ...\n")
        post_escrow_payments(min(lo, olo), max(hi, ohi))
        vacuum_analyze()
        load_seconds = time.monotonic() - load_started
        if args.load_only:
            args.keep = True
            return

        from settlements.choices import AccountKind
        from settlements.services.ledger import exchange_account

        sys.stderr.write(f"clearing {orders:,} orders (chunks of {args.chunk_size:,}) ...\n")
        before = count_postings()
        started = time.monotonic()
        batch, phases = clear_with_workers(day, args.chunk_size, args.workers)
        seconds = time.monotonic() - started
        after_first = count_postings()
        sys.stderr.write(f"  cleared in {seconds:.1f} s; clearing again ...\n")
        started = time.monotonic()
        clear_with_workers(day, args.chunk_size, args.workers)
        second_seconds = time.monotonic() - started
        after_second = count_postings()
        assert batch.order_count == orders, (batch.order_count, orders)

        sys.stderr.write("floor: one hand-written INSERT ... SELECT of the same postings ...\n")
        fee_account = exchange_account(AccountKind.EXCHANGE_FEE)
        floor, floor_rows = floor_seconds(batch.pk, fee_account.pk)
        assert floor_rows == after_first - before, (floor_rows, after_first - before)

        orm_seconds, orm_orders = orm_loop_seconds(orm_day)
        extrapolated = orm_seconds / max(orm_orders, 1) * orders
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (pg_version,) = cursor.fetchone()
        result = {
            "benchmark": "clearing one business day",
            "measured_at": timezone.now().isoformat(timespec="seconds"),
            "orders": orders,
            "chunk_size": args.chunk_size,
            "workers": args.workers,
            "chunks": batch.chunks.count(),
            "seconds": round(seconds, 2),
            "phases_seconds": phases,
            "orders_per_second": round(orders / seconds),
            "postings_written": after_first - before,
            "second_run_seconds": round(second_seconds, 2),
            "postings_added_by_second_run": after_second - after_first,
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "floor": {
                "what": "the same postings written by one hand-written INSERT ... SELECT",
                "seconds": round(floor, 2),
                "postings": floor_rows,
                "ratio_real_to_floor": round(seconds / floor, 2) if floor else None,
            },
            "orm_loop": {
                "what": "one transaction per order through the ORM (journal_post, save, event)",
                "sample_orders": orm_orders,
                "sample_seconds": round(orm_seconds, 2),
                "extrapolated_seconds_for_all_orders": round(extrapolated, 1),
                "extrapolated": True,
            },
            "batch_totals_fen": {
                "gross": batch.gross_fen,
                "fee": batch.fee_fen,
                "share": batch.share_fen,
                "net": batch.net_fen,
            },
            "load_seconds": round(load_seconds, 1),
            "total_seconds": round(time.monotonic() - total_started, 1),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "postgresql": pg_version,
                "load_average_1m": round(os.getloadavg()[0], 2),
                "note": args.note,
            },
        }
    finally:
        connection.close()
        if not args.keep:
            drop_database(url)
    # clearing.json is the latest run; the copy named by volume keeps the
    # full-size figures when a quick run follows.
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    out = results / "clearing.json"
    for path in (out, results / f"clearing-{orders}.json"):
        path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
