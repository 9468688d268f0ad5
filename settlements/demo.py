"""Demo settlement: fee schedules, the ledger of the trade history, every past day cleared.

The ledger is written set-based, entry for entry what the services post:
payments into escrow ("payment:order:<id>"), refunds out of it
("refund:<id>"), one clearing entry per order with a gross
("clearing:order:<id>": escrow, exchange fee, department share, seller's
payable, rates chosen as `rates_in_force` chooses them and rounded as the
clearing SQL rounds), and the payouts of each confirmed batch
("payout:<id>", payouts under the minimum carried into the next one). Each
business day of the history has its batch, cleared at 01:00 the next day,
confirmed in the morning and settled once its payouts were paid; running
balances equal the postings. The benchmark day is left to clear.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.demo import DemoContext, Table, bulk_insert
from marketplace.demo import order_events_write
from marketplace.models import OrderEvent
from marketplace.services.batch_moves import orders_clear, orders_settle
from products.models import Product
from settlements.choices import AccountKind, CostCategory
from settlements.exceptions import LedgerImbalance
from settlements.models import (
    ClearingBatch,
    ClearingBatchEvent,
    ClearingChunk,
    JournalEntry,
    LedgerAccount,
    Payout,
    PayoutEvent,
    Posting,
)
from settlements.services import clearing_sql as sql
from settlements.services.assets import cost_line_create
from settlements.services.fees import ANY_BOARD, fee_schedule_create, rates_in_force
from settlements.services.ledger import account_days_add_totals, day_totals

# The tables written in bulk in this stage: their indexes and foreign keys are built
# after the load (core.demo.BulkLoad). Marketplace's order events are among them:
# order_events_write writes them here, clearing's included.
BULK_MODELS = (JournalEntry, Posting, LedgerAccount, OrderEvent)

ESCROW, PAYABLE = AccountKind.MERCHANT_ESCROW, AccountKind.MERCHANT_PAYABLE
SHARE, FEE, BANK = AccountKind.DEPARTMENT_SHARE, AccountKind.EXCHANGE_FEE, AccountKind.BANK_CLEARING


def _bps_part(gross: int, bps: int) -> int:
    """floor(gross * bps / 10000), as the clearing SQL computes it."""
    return (gross // 10000) * bps + ((gross % 10000) * bps) // 10000


class Ledger:
    """Accounts, entries and postings built in memory, written in one go."""

    def __init__(self, context: DemoContext):
        self.context = context
        self.accounts: dict[tuple, int] = {}
        self.balances: dict[int, int] = defaultdict(int)
        # (at, key, purpose, order id, batch id, memo, [(account, amount)])
        self.entries: list[tuple] = []
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, kind, merchant_id, department_id FROM {sql.ACCOUNT}")  # noqa: S608
            for pk, kind, merchant, department in cursor.fetchall():
                self.accounts[(kind, merchant, department)] = pk
        self.new_accounts: list[tuple] = []

    def account(self, kind, merchant=None, department=None) -> int:
        key = (kind, merchant, department)
        if key not in self.accounts:
            pk = self.context.ids(LedgerAccount, 1)[0]
            self.accounts[key] = pk
            self.new_accounts.append((pk, kind, merchant, department))
        return self.accounts[key]

    def post(self, at, key, purpose, lines, *, order_id=None, batch_id=None, memo=""):
        lines = [(account, amount) for account, amount in lines if amount != 0]
        if sum(a for _acc, a in lines) != 0 or len(lines) < 2:
            raise LedgerImbalance(f"{key}: the demo ledger would not balance")
        self.entries.append((at, key, purpose, order_id, batch_id, memo[:300], lines))

    def write(self) -> None:
        context = self.context
        self.entries.sort(key=lambda e: (e[0], e[1]))
        entry_ids = context.ids(JournalEntry, len(self.entries))
        posting_count = sum(len(e[6]) for e in self.entries)
        posting_ids = iter(context.ids(Posting, posting_count))
        postings = []
        for entry_id, (at, _key, _p, _o, _b, _m, lines) in zip(
            entry_ids, self.entries, strict=True
        ):
            for account, amount in lines:
                postings.append((next(posting_ids), entry_id, account, amount, at))
                self.balances[account] += amount
        now = timezone.now()
        accounts = Table(LedgerAccount)
        for pk, kind, merchant, department in self.new_accounts:
            accounts.add(
                id=pk,
                kind=kind,
                merchant_id=merchant,
                department_id=department,
                balance_fen=self.balances.pop(pk, 0),
                updated_at=now,
            )
        accounts.write(context)
        progress = context.stage("ledger: journal entries", len(self.entries))
        bulk_insert(
            JournalEntry,
            [
                "id",
                "idempotency_key",
                "purpose",
                "order_id",
                "clearing_batch_id",
                "reverses_id",
                "memo",
                "created_at",
            ],
            (
                (entry_ids[i], key, purpose, order, batch, None, memo, at)
                for i, (at, key, purpose, order, batch, memo, _l) in enumerate(self.entries)
            ),
            progress=progress,
        )
        progress.finish()
        progress = context.stage("ledger: postings", len(postings))
        bulk_insert(
            Posting,
            ["id", "entry_id", "account_id", "amount_fen", "created_at"],
            postings,
            progress=progress,
        )
        progress.finish()
        # Accounts that existed before this seeding move by what it posted to them.
        with connection.cursor() as cursor:
            for account, delta in self.balances.items():
                if delta:
                    cursor.execute(
                        f"UPDATE {sql.ACCOUNT} SET balance_fen = balance_fen + %s WHERE id = %s",  # noqa: S608
                        [delta, account],
                    )
        # The day totals the services would have moved with each posting.
        progress = context.stage("ledger: day totals", len(postings))
        zone = timezone.get_current_timezone()  # asked once, not per posting
        account_days_add_totals(
            day_totals((p[2], timezone.localdate(p[4], zone), p[3]) for p in postings)
        )
        progress.finish()


def seed(context: DemoContext) -> None:
    operator = context.made["operator"]
    history_start = context.today - dt.timedelta(days=30 * 18)
    fees_from = min(dt.date(2024, 1, 1), history_start - dt.timedelta(days=30))
    fee_schedule_create(actor=operator, fee_bps=300, effective_from=fees_from, note="默认佣金 3%")
    fee_schedule_create(
        actor=operator,
        fee_bps=250,
        delivery_mode="report",
        effective_from=fees_from,
        note="数据报告 2.5%",
    )
    board_id = context.made.get("weather_board")
    if board_id:
        from products.models import Board

        fee_schedule_create(
            actor=operator,
            board=Board.objects.get(pk=board_id),
            fee_bps=200,
            effective_from=fees_from,
            note="气象数据交易专板 2%，扶持专板发展",
        )
    trades = context.made.get("trades")
    if trades is not None:
        ledger = Ledger(context)
        bank = ledger.account(BANK)
        for order_id, buyer, amount, at, number, reference in trades.payments:
            ledger.post(
                at,
                f"payment:order:{order_id}",
                "payment",
                [(bank, -amount), (ledger.account(ESCROW, buyer), amount)],
                order_id=order_id,
                memo=f"payment {number} ref {reference}",
            )
        for refund_id, order_id, buyer, amount, at, number in trades.refund_moves:
            ledger.post(
                at,
                f"refund:{refund_id}",
                "refund",
                [(ledger.account(ESCROW, buyer), -amount), (bank, amount)],
                order_id=order_id,
                memo=f"refund {number}",
            )
        if context.trading == "history":
            _clear_history(context, ledger, trades, operator)
        ledger.write()
        order_events_write(context)
        context.finish_ids()
        _move_orders(context, operator)
    _cost_lines(context, operator)


def _clear_history(context: DemoContext, ledger: Ledger, trades, operator) -> None:
    """Every business day up to yesterday: its batch, entries, payouts, all settled."""
    rates = {(r.board_id, r.delivery_mode): r.fee_bps for r in rates_in_force(context.today)}

    def fee_bps(board, mode):
        board = board or ANY_BOARD
        for key in ((board, mode), (board, ""), (ANY_BOARD, mode), (ANY_BOARD, "")):
            if key in rates:
                return rates[key]
        return 0

    by_day = defaultdict(list)
    for row in trades.accepted:
        by_day[row[1]].append(row)
    first = min([context.today - dt.timedelta(days=30 * 18), *by_day])
    days = [first + dt.timedelta(days=i) for i in range((context.today - first).days)]
    batch_ids = context.ids(ClearingBatch, len(days))
    fee_account = ledger.account(FEE)
    bank = ledger.account(BANK)
    batches, chunks = Table(ClearingBatch), Table(ClearingChunk)
    payouts, payout_events = Table(Payout), Table(PayoutEvent)
    batch_events = []
    minimum = settings.EXCHANGE_PAYOUT_MINIMUM_FEN
    waiting: dict[int, list[list]] = defaultdict(list)  # merchant -> carried payout rows
    now = timezone.now()
    latest = now - dt.timedelta(minutes=5)
    progress = context.stage("clearing: business days", len(days))
    order_moves = []  # (batch id, day, cleared at, settled at)
    for batch_id, day in zip(batch_ids, days, strict=True):
        orders = sorted(by_day.get(day, []))
        next_day = day + dt.timedelta(days=1)
        opened = min(context.local(next_day, 3600), latest - dt.timedelta(minutes=4))
        cleared = opened + dt.timedelta(seconds=30 + len(orders) // 100)
        confirmed = min(context.local(next_day, 9.5 * 3600), latest - dt.timedelta(minutes=2))
        paid = min(context.local(next_day, 10.5 * 3600), latest)
        totals: defaultdict[str, int] = defaultdict(int)
        nets: defaultdict[int, int] = defaultdict(int)
        entries = postings = 0
        for order_id, _day, buyer, seller, gross, board, mode, department, share_bps in orders:
            if department is None:
                share_bps = 0
            share_bps = min(share_bps, 10000)
            bps = fee_bps(board, mode)
            if bps + share_bps > 10000:
                bps = 10000 - share_bps
            fee, share = _bps_part(gross, bps), _bps_part(gross, share_bps)
            net = gross - fee - share
            totals["gross"] += gross
            totals["fee"] += fee
            totals["share"] += share
            totals["net"] += net
            if gross > 0:
                lines = [
                    (ledger.account(ESCROW, buyer), -gross),
                    (fee_account, fee),
                    (ledger.account(SHARE, department=department), share)
                    if share
                    else (fee_account, 0),
                    (ledger.account(PAYABLE, seller), net),
                ]
                ledger.post(
                    cleared,
                    f"clearing:order:{order_id}",
                    "clearing",
                    lines,
                    order_id=order_id,
                    batch_id=batch_id,
                )
                entries += 1
                postings += sum(1 for _a, amount in lines if amount)
                if net:
                    nets[seller] += net
        # Payouts, drawn up at confirmation; small ones wait for the next.
        settled = confirmed
        for merchant in sorted(nets):
            carried = waiting.pop(merchant, [])
            carried_in = sum(p[1] for p in carried)
            amount = nets[merchant] + carried_in
            payout_id = context.ids(Payout, 1)[0]
            status = "pending" if amount >= minimum else "carried_over"
            for earlier in carried:
                earlier[2] = payout_id
                earlier[3] = confirmed
            row = [
                payout_id,
                amount,
                None,
                confirmed,
                batch_id,
                merchant,
                nets[merchant],
                carried_in,
                status,
            ]
            if status == "carried_over":
                waiting[merchant].append(row)
            payouts.rows.append(row)
            payout_events.add(
                id=None,
                subject_id=payout_id,
                actor_id=operator.pk,
                from_status="",
                to_status=status,
                reason=f"batch {day} confirmed",
                created_at=confirmed,
            )
            if status == "pending":
                reference = f"BK{next_day:%Y%m%d}{payout_id:08d}"
                row.append((reference, paid))
                ledger.post(
                    paid,
                    f"payout:{payout_id}",
                    "payout",
                    [(ledger.account(PAYABLE, merchant), -amount), (bank, amount)],
                    memo=f"payout of batch {day}",
                )
                payout_events.add(
                    id=None,
                    subject_id=payout_id,
                    actor_id=operator.pk,
                    from_status="pending",
                    to_status="paid",
                    reason=reference,
                    created_at=paid,
                )
                settled = paid
        batches.add(
            id=batch_id,
            business_date=day,
            status="settled",
            order_count=len(orders),
            gross_fen=totals["gross"],
            fee_fen=totals["fee"],
            share_fen=totals["share"],
            net_fen=totals["net"],
            created_at=opened,
            updated_at=settled,
        )
        batch_events += [
            (batch_id, None, "", "running", "opened", opened),
            (batch_id, None, "running", "computed", f"{len(orders)} orders cleared", cleared),
            (batch_id, operator.pk, "computed", "confirmed", "totals confirmed", confirmed),
            (
                batch_id,
                operator.pk,
                "confirmed",
                "settled",
                "every payout paid or carried over",
                settled,
            ),
        ]
        if orders:
            chunks.add(
                id=context.ids(ClearingChunk, 1)[0],
                batch_id=batch_id,
                seq=1,
                first_order_id=orders[0][0],
                last_order_id=orders[-1][0],
                status="done",
                planned_orders=len(orders),
                cleared_orders=len(orders),
                entries_created=entries,
                postings_created=postings,
                gross_fen=totals["gross"],
                fee_fen=totals["fee"],
                share_fen=totals["share"],
                net_fen=totals["net"],
                attempts=1,
                created_at=opened,
                finished_at=cleared,
            )
            order_moves.append((batch_id, day, orders[0][0], orders[-1][0], cleared, settled))
        progress.advance()
    progress.finish()
    batches.write(context)
    bulk_insert(
        ClearingBatchEvent,
        ["subject_id", "actor_id", "from_status", "to_status", "reason", "created_at"],
        batch_events,
    )
    chunks.write(context)
    payout_rows: list[Sequence] = []
    for row in payouts.rows:
        payout_id, amount, carried_into, updated, batch_id, merchant, net, carried_in, status = row[
            :9
        ]
        reference, paid_at = row[9] if len(row) > 9 else ("", None)
        payout_rows.append(
            Table(Payout).row(
                id=payout_id,
                batch_id=batch_id,
                merchant_id=merchant,
                net_fen=net,
                carried_in_fen=carried_in,
                amount_fen=amount,
                status="paid" if status == "pending" else status,
                carried_into_id=carried_into,
                bank_reference=reference,
                paid_at=paid_at,
                created_at=updated,
                updated_at=paid_at or updated,
            )
        )
    payouts.rows = payout_rows
    # Carried payouts point at later ones: write in id order, the constraint is deferred.
    payouts.write(context)
    payout_events.rows = [(None, *r[1:]) for r in payout_events.rows]
    _write_events(context, PayoutEvent, payout_events)
    context.made["order_moves"] = order_moves


def _write_events(context, model, table: Table) -> None:
    ids = context.ids(model, len(table.rows))
    table.rows = [(ids[i], *row[1:]) for i, row in enumerate(table.rows)]
    table.write(context)


def _move_orders(context: DemoContext, operator) -> None:
    """accepted -> cleared -> settled for each batch's day, through marketplace's set moves."""
    for batch_id, day, first_id, last_id, cleared, settled in context.made.get("order_moves", []):
        orders_clear(
            batch_id=batch_id,
            business_date=day,
            first_id=first_id,
            last_id=last_id,
            now=cleared,
            reason=f"clearing batch {day}",
        )
        orders_settle(
            batch_id=batch_id,
            business_date=day,
            actor=operator,
            now=settled,
            reason=f"batch {day} settled",
        )


def _cost_lines(context: DemoContext, operator) -> None:
    """Costs a few merchants booked against their products (数据资产入表)."""
    rng = context.rng_for("settlements")
    products = list(Product.objects.filter(status="listed").order_by("pk")[:12])
    categories = list(CostCategory.values)
    first = context.today.replace(day=1)
    for i, product in enumerate(products):
        for month_back in range(3):
            cost_line_create(
                actor=operator,
                product=product,
                incurred_on=first - dt.timedelta(days=30 * month_back),
                category=categories[(i + month_back) % len(categories)],
                amount_fen=rng.randrange(5_000_00, 80_000_00, 100),
                description="月度数据采集与加工成本",
            )
