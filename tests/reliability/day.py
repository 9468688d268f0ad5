# Only table names from the models are interpolated; values travel as parameters.
# ruff: noqa: S608
"""A clearing day of many orders, written set-based, and what a clean run of it must give."""

import datetime as dt
import hashlib

from django.db import connection, transaction
from django.utils import timezone

from core.filters import local_day_start
from marketplace.models import Order
from settlements.choices import AccountKind, EntryPurpose
from settlements.services.ledger import Line, account_get, exchange_account, journal_post
from tests.factories.accounts import MerchantFactory
from tests.factories.products import PlanFactory, ProductFactory
from tests.factories.publicdata import DepartmentFactory

ORDER = Order._meta.db_table


class Cast:
    """Merchants, plans and a department shared by every day built for one test."""

    def __init__(self, sellers: int = 8, buyers: int = 12):
        self.sellers = [MerchantFactory(status="active") for _ in range(sellers)]
        self.buyers = [MerchantFactory(status="active") for _ in range(buyers)]
        self.plans = []
        for seller in self.sellers:
            product = ProductFactory(provider=seller, listed_at=timezone.now())
            self.plans.append(PlanFactory(product=product))
        self.department = DepartmentFactory()


def build_day(cast: Cast, day: dt.date, count: int) -> tuple[int, int]:
    """`count` accepted, paid orders of local `day` in one INSERT; returns their id range.

    Order n of every day built from the same cast has the same buyer, seller,
    amount, refund and department share, so two days can be compared order
    by order. Buyers' escrow is funded with one payment entry per buyer.
    """
    start = local_day_start(day)
    sellers = [s.pk for s in cast.sellers]
    plans = [(p.pk, p.product_id) for p in cast.plans]
    buyers = [b.pk for b in cast.buyers]
    params = {
        "count": count,
        "sellers": sellers,
        "plan_ids": [p for p, _ in plans],
        "product_ids": [p for _, p in plans],
        "buyers": buyers,
        "nseller": len(sellers),
        "nbuyer": len(buyers),
        "start": start,
        "department": cast.department.pk,
        "prefix": f"R{day:%Y%m%d}",
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ORDER} (
                created_at, updated_at, number, buyer_id, seller_id, product_id, plan_id,
                quantity, amount_fen, refunded_fen, status, is_disputed, contract,
                delivery_mode, department_id, department_share_bps, paid_at, delivered_at,
                accepted_at, delivery_note
            )
            SELECT t, t, %(prefix)s || lpad(n::text, 8, '0'),
                   (%(buyers)s::bigint[])[1 + (n * 7) %% %(nbuyer)s],
                   (%(sellers)s::bigint[])[1 + n %% %(nseller)s],
                   (%(product_ids)s::bigint[])[1 + n %% %(nseller)s],
                   (%(plan_ids)s::bigint[])[1 + n %% %(nseller)s],
                   1, 1000 + (n * 7919) %% 500000,
                   CASE WHEN n %% 17 = 0 THEN (1000 + (n * 7919) %% 500000) / 10 ELSE 0 END,
                   'accepted', false, '{{}}'::jsonb, 'api',
                   CASE WHEN n %% 5 = 0 THEN %(department)s END,
                   CASE WHEN n %% 5 = 0 THEN 1000 + 500 * (n %% 3) ELSE 0 END,
                   t, t, t + interval '1 second', ''
            FROM (
                SELECT n,
                       %(start)s::timestamptz + (n * interval '1 second') * 86000 / %(count)s AS t
                FROM generate_series(0, %(count)s - 1) AS n
            ) g
            ORDER BY n
            RETURNING id
            """,
            params,
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"""
            SELECT buyer_id, SUM(amount_fen - refunded_fen) FROM {ORDER}
            WHERE id BETWEEN %(lo)s AND %(hi)s GROUP BY buyer_id ORDER BY buyer_id
            """,
            {"lo": min(ids), "hi": max(ids)},
        )
        funding = cursor.fetchall()
        bank = exchange_account(AccountKind.BANK_CLEARING)
        for buyer_id, total in funding:
            escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=buyer_id)
            journal_post(
                idempotency_key=f"payment:day:{day}:buyer:{buyer_id}",
                purpose=EntryPurpose.PAYMENT,
                lines=[Line(bank, -int(total)), Line(escrow, int(total))],
            )
    return min(ids), max(ids)


def postings_digest(first_id: int, last_id: int) -> str:
    """A hash of the clearing postings of orders first_id..last_id, by position in the day.

    Position, not id, so the same orders of another day built from the same
    cast hash alike; every posting counts, so a double or a missing one shows.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.order_id - %(lo)s, a.kind, COALESCE(a.merchant_id, 0),
                   COALESCE(a.department_id, 0), p.amount_fen
            FROM settlements_journalentry e
            JOIN settlements_posting p ON p.entry_id = e.id
            JOIN settlements_ledgeraccount a ON a.id = p.account_id
            WHERE e.purpose = 'clearing' AND e.order_id BETWEEN %(lo)s AND %(hi)s
            ORDER BY 1, 2, 3, 4, 5
            """,
            {"lo": first_id, "hi": last_id},
        )
        digest = hashlib.sha256()
        rows = 0
        for row in cursor:
            digest.update(repr(row).encode())
            rows += 1
    return f"{rows}:{digest.hexdigest()}"


def cleared_exactly_once(first_id: int, last_id: int, batch_id: int) -> dict:
    """Counts that must all be zero (or equal) when every order cleared exactly once."""
    params = {"lo": first_id, "hi": last_id, "batch": batch_id}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT
              (SELECT COUNT(*) FROM {ORDER} WHERE id BETWEEN %(lo)s AND %(hi)s
                 AND (status <> 'cleared' OR clearing_batch_id <> %(batch)s)),
              (SELECT COUNT(*) FROM (SELECT order_id FROM settlements_journalentry
                 WHERE purpose = 'clearing' AND order_id BETWEEN %(lo)s AND %(hi)s
                 GROUP BY order_id HAVING COUNT(*) <> 1) d),
              (SELECT COUNT(*) FROM {ORDER} o WHERE o.id BETWEEN %(lo)s AND %(hi)s
                 AND o.amount_fen > o.refunded_fen AND NOT EXISTS (
                   SELECT 1 FROM settlements_journalentry e
                   WHERE e.order_id = o.id AND e.purpose = 'clearing')),
              (SELECT COUNT(*) FROM (SELECT subject_id FROM marketplace_orderevent
                 WHERE to_status = 'cleared' AND subject_id BETWEEN %(lo)s AND %(hi)s
                 GROUP BY subject_id HAVING COUNT(*) <> 1) d),
              (SELECT COUNT(*) FROM {ORDER} o WHERE o.id BETWEEN %(lo)s AND %(hi)s
                 AND NOT EXISTS (SELECT 1 FROM marketplace_orderevent v
                   WHERE v.subject_id = o.id AND v.to_status = 'cleared'))
            """,
            params,
        )
        names = ("not_cleared", "entries_not_one", "entries_missing", "events_not_one", "no_event")
        return dict(zip(names, cursor.fetchone(), strict=True))


def ledger_problems() -> dict:
    """Counts that must be zero: balances off their postings, entries not summing to zero."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT
              (SELECT COUNT(*) FROM settlements_ledgeraccount a LEFT JOIN (
                  SELECT account_id, SUM(amount_fen) AS s FROM settlements_posting
                  GROUP BY account_id) p ON p.account_id = a.id
               WHERE a.balance_fen <> COALESCE(p.s, 0)),
              (SELECT COUNT(*) FROM (SELECT entry_id FROM settlements_posting GROUP BY entry_id
                  HAVING SUM(amount_fen) <> 0) e),
              (SELECT COALESCE(SUM(amount_fen), 0) FROM settlements_posting)
            """
        )
        off, unbalanced, total = cursor.fetchone()
    return {"balances_off": off, "entries_unbalanced": unbalanced, "ledger_sum": int(total)}
