"""Reads: statements, department revenue-share statements and data-asset records."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.exceptions import BusinessRuleViolation
from core.filters import local_day_start
from core.formatting import choice_label, csv_text, format_yuan
from core.scoping import scope_to_merchant
from core.sql import aware_utc
from marketplace.choices import OrderStatus, UsageSource
from marketplace.models import Order
from products.models import Product
from settlements.choices import AccountKind, CostCategory, EntryPurpose
from settlements.models import AccountDay, JournalEntry, LedgerAccount, Posting, ProductCostLine

# A statement page lists at most this many postings; the next page continues it.
STATEMENT_MAX_LINES = 5000
# The API's page unless the reader asks for more.
STATEMENT_PAGE_LINES = 100


def ledger_account_list(*, user) -> QuerySet[LedgerAccount]:
    return scope_to_merchant(LedgerAccount.objects.all(), user)


@dataclass
class StatementLine:
    posted_at: dt.datetime
    entry_id: int
    idempotency_key: str
    purpose: str
    order_id: int | None
    amount_fen: int
    balance_fen: int
    # Usage bills: "gateway" (counted by the exchange) or "seller" (the seller's report).
    usage_source: str = ""

    @property
    def usage_label(self) -> str:
        return str(UsageSource(self.usage_source).label) if self.usage_source else ""


@dataclass
class Statement:
    account: LedgerAccount
    date_from: dt.date
    date_to: dt.date
    opening_balance_fen: int
    closing_balance_fen: int
    credits_fen: int
    debits_fen: int
    lines: list[StatementLine] = field(default_factory=list)
    # More lines follow this page; `next_cursor` reads them.
    truncated: bool = False
    next_cursor: str = ""


def _period(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local_day_start(date_from), local_day_start(date_to + dt.timedelta(days=1))


_TOTALS_SQL = f"""
SELECT a.balance_fen,
       COALESCE(SUM(d.credits_fen - d.debits_fen), 0),
       COALESCE(SUM(CASE WHEN d.day <= %s THEN d.credits_fen ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN d.day <= %s THEN d.debits_fen ELSE 0 END), 0)
FROM {LedgerAccount._meta.db_table} a
LEFT JOIN {AccountDay._meta.db_table} d ON d.account_id = a.id AND d.day >= %s
WHERE a.id = %s
GROUP BY a.id, a.balance_fen
"""  # noqa: S608 (only the models' table names are interpolated; values are parameters)


def _statement_totals(account: LedgerAccount, date_from: dt.date, date_to: dt.date):
    """(opening, credits, debits) of the period from the account's day totals.

    One statement, so one snapshot: the running balance and the day totals
    since the period began are read together, and the opening balance is the
    one less the other, whatever commits meanwhile. Written in SQL: the
    ORM's compiling of it cost more than the database's answering it.
    """
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.execute(_TOTALS_SQL, [adapt(date_to), adapt(date_to), adapt(date_from), account.pk])
        row = cursor.fetchone()
    if row is None:
        raise LedgerAccount.DoesNotExist(f"no ledger account {account.pk}")
    balance, since, credits, debits = row
    # SUM over BIGINT is NUMERIC on PostgreSQL; the figures are whole fen.
    return int(balance) - int(since), int(credits), int(debits)


# A page of an account's postings in posting order, from the (account, posted
# at, id) index, with each posting's entry and, for usage bills, who measured
# the usage (the order's contract). Written in SQL for the reason the totals
# are: building this query through the ORM took longer than running it.
_LINES_SQL = f"""
SELECT p.id, p.created_at, p.entry_id, e.idempotency_key, e.purpose, e.order_id, p.amount_fen,
       {{usage_source}}
FROM {Posting._meta.db_table} p
JOIN {JournalEntry._meta.db_table} e ON e.id = p.entry_id
LEFT JOIN {Order._meta.db_table} o ON o.id = e.order_id
WHERE p.account_id = %s AND p.created_at >= %s AND p.created_at < %s {{after}}
ORDER BY p.created_at, p.id
LIMIT %s
"""  # noqa: S608 (only the models' table names and fixed SQL are interpolated)
_USAGE_SOURCE_SQL = {
    "postgresql": "o.contract -> 'usage' ->> 'source'",
    "sqlite": "json_extract(o.contract, '$.usage.source')",
}
# The row comparison lets the index range start right after the last line shown.
_AFTER_SQL = "AND (p.created_at, p.id) > (%s, %s)"


def _statement_rows(account_id: int, start, end, after: tuple, limit: int) -> list[tuple]:
    """(id, posted at, entry, key, purpose, order, amount, usage source) of up to `limit` lines."""
    adapt = connection.ops.adapt_datetimefield_value
    statement = _LINES_SQL.format(
        usage_source=_USAGE_SOURCE_SQL[connection.vendor], after=_AFTER_SQL if after else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [account_id, adapt(start), adapt(end), *after, limit])
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        rows = [(r[0], aware_utc(r[1]), *r[2:]) for r in rows]
    return rows


_CURSOR_SALT = "settlements.statement"


def _cursor_dumps(account: LedgerAccount, date_from, date_to, line: StatementLine, pk: int) -> str:
    # Signed: the running balance travels in the cursor, and nobody may hand in another.
    value = [account.pk, str(date_from), str(date_to), line.posted_at.isoformat(), pk]
    return signing.dumps([*value, line.balance_fen], salt=_CURSOR_SALT, compress=True)


def _cursor_loads(cursor: str, account: LedgerAccount, date_from, date_to):
    """(posted_at, posting id, balance after it) from a cursor of this statement, or refuse."""
    try:
        pk, start, end, posted_at, posting_id, balance = signing.loads(cursor, salt=_CURSOR_SALT)
        if [pk, start, end] != [account.pk, str(date_from), str(date_to)]:
            raise ValueError(cursor)
        return dt.datetime.fromisoformat(posted_at), int(posting_id), int(balance)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BusinessRuleViolation(
            _("This page link belongs to another statement or was changed; start again."),
            field="cursor",
        ) from error


def statement_for_account(
    *,
    account: LedgerAccount,
    date_from: dt.date,
    date_to: dt.date,
    cursor: str = "",
    lines: int = STATEMENT_PAGE_LINES,
) -> Statement:
    """Opening balance, a page of the period's postings (local days, inclusive), closing balance.

    The figures come from the account's day totals (`AccountDay`), so they cost
    the same however many postings the period holds. The lines are one page,
    read in posting order from the (account, posted at, id) index after the
    page before it (`cursor`, which carries the running balance there);
    `next_cursor` continues it.
    """
    start, end = _period(date_from, date_to)
    opening, credits, debits = _statement_totals(account, date_from, date_to)
    running = opening
    after: tuple = ()
    if cursor:
        posted_at, posting_id, running = _cursor_loads(cursor, account, date_from, date_to)
        after = (connection.ops.adapt_datetimefield_value(posted_at), posting_id)
    lines = max(1, min(lines, STATEMENT_MAX_LINES))
    rows = _statement_rows(account.pk, start, end, after, lines + 1)
    page: list[StatementLine] = []
    last_pk = 0
    for pk, posted_at, entry_id, key, purpose, order_id, amount, source in rows[:lines]:
        running += amount
        last_pk = pk
        page.append(
            StatementLine(
                posted_at, entry_id, key, purpose, order_id, amount, running,
                source if source in UsageSource.values else "",
            )
        )  # fmt: skip
    more = len(rows) > lines
    return Statement(
        account=account,
        date_from=date_from,
        date_to=date_to,
        opening_balance_fen=opening,
        closing_balance_fen=opening + credits - debits,
        credits_fen=credits,
        debits_fen=debits,
        lines=page,
        truncated=more,
        next_cursor=_cursor_dumps(account, date_from, date_to, page[-1], last_pk) if more else "",
    )


def statement_csv(statement: Statement) -> str:
    """The statement as a CSV file people open, in their language.

    Headers and purposes read as labels, money as "¥1,234.50", posting times
    on Shanghai's clock.
    """
    rows: list[list] = []
    account = statement.account
    rows.append(
        [pgettext("CSV column", "account"), account.pk, account.get_kind_display(), str(account)]
    )
    rows.append([pgettext("CSV column", "period"), statement.date_from, statement.date_to])
    rows.append(
        [pgettext("CSV column", "opening balance"), format_yuan(statement.opening_balance_fen)]
    )
    rows.append(
        [
            pgettext("CSV column", "posted at"),
            pgettext("CSV column", "journal entry"),
            pgettext("CSV column", "reference"),
            pgettext("CSV column", "purpose"),
            pgettext("CSV column", "order"),
            pgettext("CSV column", "amount"),
            pgettext("CSV column", "balance"),
            pgettext("CSV column", "usage measured by"),
        ]
    )
    for line in statement.lines:
        rows.append(
            [
                line.posted_at,
                line.entry_id,
                line.idempotency_key,
                choice_label(EntryPurpose, line.purpose),
                line.order_id or "",
                format_yuan(line.amount_fen),
                format_yuan(line.balance_fen),
                line.usage_label,
            ]
        )
    rows.append(
        [pgettext("CSV column", "closing balance"), format_yuan(statement.closing_balance_fen)]
    )
    if statement.truncated:
        rows.append(
            [
                pgettext("CSV column", "truncated"),
                _("the first %(count)d postings only; split the period")
                % {"count": len(statement.lines)},
            ]
        )
    return csv_text(rows)


def department_share_statements(
    *, date_from: dt.date, date_to: dt.date, department_id: int | None = None
) -> list[dict]:
    """Per department: revenue share owed at the start, credited in the period, at the end."""
    start, end = _period(date_from, date_to)
    accounts = LedgerAccount.objects.filter(kind=AccountKind.DEPARTMENT_SHARE).select_related(
        "department"
    )
    if department_id is not None:
        accounts = accounts.filter(department_id=department_id)
    sums = {
        row["account_id"]: row
        for row in Posting.objects.filter(account__in=accounts, created_at__gte=start)
        .values("account_id")
        .annotate(
            since=Sum("amount_fen"),
            in_period=Sum("amount_fen", filter=Q(created_at__lt=end)),
            orders=Count("entry__order_id", filter=Q(created_at__lt=end), distinct=True),
        )
    }
    result = []
    for account in accounts.order_by("department__code"):
        row: Mapping[str, Any] = sums.get(account.pk, {})
        opening = account.balance_fen - (row.get("since") or 0)
        credited = row.get("in_period") or 0
        result.append(
            {
                "department": account.department,
                "account_id": account.pk,
                "date_from": date_from,
                "date_to": date_to,
                "opening_balance_fen": opening,
                "share_fen": credited,
                "orders": row.get("orders") or 0,
                "closing_balance_fen": opening + credited,
            }
        )
    return result


REVENUE_STATUSES = (OrderStatus.ACCEPTED, OrderStatus.CLEARED, OrderStatus.SETTLED)


def data_asset_records(
    *, user, date_from: dt.date, date_to: dt.date, product_id: int | None = None
) -> dict:
    """数据资产入表: per product and month, revenue, orders and buyers; and the cost lines.

    Revenue is the gross of accepted trades (amount less refunds) by the local
    month of acceptance; cost lines are what the merchant entered.
    """
    start, end = _period(date_from, date_to)
    products = scope_to_merchant(Product.objects.all(), user)
    if product_id is not None:
        products = products.filter(pk=product_id)
    orders = Order.objects.filter(
        product__in=products,
        status__in=REVENUE_STATUSES,
        accepted_at__gte=start,
        accepted_at__lt=end,
    )
    revenue = list(
        orders.annotate(month=TruncMonth("accepted_at"))
        .values("product_id", "product__title", "month")
        .annotate(
            gross=Sum("amount_fen"),
            refunded=Sum("refunded_fen"),
            orders=Count("id"),
            buyers=Count("buyer_id", distinct=True),
        )
        .order_by("product_id", "month")
    )
    costs = list(
        ProductCostLine.objects.filter(
            product__in=products, incurred_on__gte=date_from, incurred_on__lte=date_to
        )
        .select_related("product")
        .order_by("product_id", "incurred_on", "id")
    )
    return {
        "revenue": [
            {
                "product_id": row["product_id"],
                "product": row["product__title"],
                "month": row["month"].date().replace(day=1)
                if isinstance(row["month"], dt.datetime)
                else row["month"],
                "revenue_fen": (row["gross"] or 0) - (row["refunded"] or 0),
                "orders": row["orders"],
                "buyers": row["buyers"],
            }
            for row in revenue
        ],
        "costs": costs,
    }


def data_asset_csv(records: dict) -> str:
    """数据资产入表 records as a CSV file people open: revenue by month, then cost lines."""
    rows: list[list] = []
    rows.append(
        [
            pgettext("CSV column", "record"),
            pgettext("CSV column", "product ID"),
            pgettext("CSV column", "product"),
            pgettext("CSV column", "period"),
            pgettext("CSV column", "category"),
            pgettext("CSV column", "amount"),
            pgettext("CSV column", "orders"),
            pgettext("CSV column", "buyers"),
            pgettext("CSV column", "description"),
        ]
    )
    revenue, cost = pgettext("data-asset record", "revenue"), pgettext("data-asset record", "cost")
    for row in records["revenue"]:
        rows.append(
            [
                revenue,
                row["product_id"],
                row["product"],
                row["month"].strftime("%Y-%m"),
                "",
                format_yuan(row["revenue_fen"]),
                row["orders"],
                row["buyers"],
                "",
            ]
        )
    for line in records["costs"]:
        rows.append(
            [
                cost,
                line.product_id,
                line.product.title,
                line.incurred_on,
                choice_label(CostCategory, line.category),
                format_yuan(line.amount_fen),
                "",
                "",
                line.description,
            ]
        )
    return csv_text(rows)


def department_share_csv(rows: list[dict]) -> str:
    """Department revenue-share statements (as `department_share_statements` returns them)
    as a CSV file people open."""
    header = [
        pgettext("CSV column", "department code"),
        pgettext("CSV column", "department"),
        pgettext("CSV column", "account"),
        pgettext("CSV column", "from"),
        pgettext("CSV column", "to"),
        pgettext("CSV column", "opening balance"),
        pgettext("CSV column", "revenue share"),
        pgettext("CSV column", "orders"),
        pgettext("CSV column", "closing balance"),
    ]
    return csv_text(
        [
            header,
            *(
                [
                    row["department"].code,
                    row["department"].name,
                    row["account_id"],
                    row["date_from"],
                    row["date_to"],
                    format_yuan(row["opening_balance_fen"]),
                    format_yuan(row["share_fen"]),
                    row["orders"],
                    format_yuan(row["closing_balance_fen"]),
                ]
                for row in rows
            ),
        ]
    )
