"""The audit's checks. Each is a few set-based queries returning the problems it sees.

No check loops over all rows in Python: the database aggregates, and Python
only turns the (normally empty) list of offending rows into Problems. No check
writes anything: the audit reports, people repair.
"""

import datetime as dt
from collections.abc import Callable

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Replace, TruncDate
from django.utils import timezone

from accounts.models import Merchant, User
from core.sql import quoted_table
from marketplace.choices import OrderStatus
from marketplace.models import Order
from oversight.choices import ORDER_STATE_LIMITS, FindingKind
from oversight.conf import setting
from oversight.services.problems import Problem, ref
from products.choices import DataSourceKind, PlanKind, ProductStatus
from products.models import Product
from publicdata.models import Grant, Scenario
from settlements.choices import AccountKind, EntryPurpose
from settlements.models import AccountDay, JournalEntry, LedgerAccount, Posting

# Money sits in escrow from payment until clearing takes it out.
ESCROW_HELD_STATUSES = (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.ACCEPTED)
CLEARED_STATUSES = (OrderStatus.CLEARED, OrderStatus.SETTLED)
# Plans whose amount is price x quantity; metered orders are billed by usage.
PRICED_PLAN_KINDS = (PlanKind.ONE_OFF, PlanKind.SUBSCRIPTION, PlanKind.FREE)
# Where the contract snapshot keeps the plan's price (yuan string, see
# marketplace.services.orders.contract_snapshot).
CONTRACT_PRICE_PATH = "contract__plan__price"


def check_entries_balance() -> list[Problem]:
    """Every journal entry's postings sum to zero, and it has at least two lines."""
    rows = (
        JournalEntry.objects.annotate(
            total=Coalesce(Sum("postings__amount_fen"), Value(0), output_field=BigIntegerField()),
            lines=Count("postings"),
        )
        .filter(~Q(total=0) | Q(lines__lt=2))
        .values_list("id", "idempotency_key", "total", "lines")
    )
    return [
        Problem(
            kind=FindingKind.ENTRY_UNBALANCED,
            fingerprint=f"entry_unbalanced:entry:{entry_id}",
            summary=f"journal entry {key} sums to {total} fen over {lines} posting(s)",
            objects=[ref(JournalEntry, entry_id)],
            details={"idempotency_key": key, "sum_fen": total, "postings": lines},
        )
        for entry_id, key, total, lines in rows
    ]


def check_ledger_balance() -> list[Problem]:
    """All postings together, and all running balances together, sum to zero."""
    postings = Posting.objects.aggregate(s=Sum("amount_fen"))["s"] or 0
    balances = LedgerAccount.objects.aggregate(s=Sum("balance_fen"))["s"] or 0
    if postings == 0 and balances == 0:
        return []
    return [
        Problem(
            kind=FindingKind.LEDGER_UNBALANCED,
            fingerprint="ledger_unbalanced:ledger",
            summary=f"the ledger sums to {postings} fen (balances: {balances} fen)",
            details={"postings_sum_fen": postings, "balances_sum_fen": balances},
        )
    ]


def check_account_balances() -> list[Problem]:
    """Each account's running balance equals the sum of its postings."""
    account, posting = quoted_table(LedgerAccount), quoted_table(Posting)
    # One grouped pass over the postings, joined to the accounts: a sum per
    # account through the (account, time) index reads the postings in random
    # order, tens of times slower at a million orders a day.
    sql = f"""
        SELECT a.id, a.kind, a.merchant_id, a.department_id, a.balance_fen,
               CAST(COALESCE(s.posted, 0) AS BIGINT)
        FROM {account} a
        LEFT JOIN (SELECT account_id, SUM(amount_fen) AS posted FROM {posting}
                   GROUP BY account_id) s ON s.account_id = a.id
        WHERE a.balance_fen <> COALESCE(s.posted, 0)
        ORDER BY a.kind, a.merchant_id, a.department_id, a.id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    problems = []
    for account_id, kind, merchant_id, department_id, balance, total in rows:
        objects = [ref(LedgerAccount, account_id)]
        if merchant_id:
            objects.append(ref(Merchant, merchant_id))
        problems.append(
            Problem(
                kind=FindingKind.BALANCE_MISMATCH,
                fingerprint=f"balance_mismatch:account:{account_id}",
                summary=(
                    f"account #{account_id} ({kind}) shows {balance} fen "
                    f"but its postings sum to {total} fen"
                ),
                objects=objects,
                details={
                    "account_kind": kind,
                    "merchant_id": merchant_id,
                    "department_id": department_id,
                    "balance_fen": balance,
                    "postings_sum_fen": total,
                },
            )
        )
    return problems


def check_account_days() -> list[Problem]:
    """Each account's day totals (the statements' roll-up) equal that day's postings.

    One pass over the postings grouped by account and local day, set against
    the roll-up's rows with the signs turned: a pair that does not cancel out
    (or a day on one side only) is a day whose totals are wrong.
    """
    zero = Value(0)
    posted = (
        Posting.objects.annotate(
            day=TruncDate("created_at", tzinfo=timezone.get_default_timezone())
        )
        .values("account_id", "day")
        .annotate(
            credits=Sum(Case(When(amount_fen__gt=0, then=F("amount_fen")), default=zero)),
            debits=Sum(Case(When(amount_fen__lt=0, then=-F("amount_fen")), default=zero)),
            n=Count("id"),
        )
        .order_by()
    )
    posted_sql, posted_params = posted.query.sql_with_params()
    days_sql, days_params = (
        AccountDay.objects.values_list("account_id", "day", "credits_fen", "debits_fen", "postings")
        .order_by()
        .query.sql_with_params()
    )
    # Only the ORM's own SQL is interpolated; its values travel as parameters.
    both_sides = (
        "SELECT account_id, day, SUM(credits), SUM(debits), SUM(n), SUM(side) FROM ("  # noqa: S608
        f"SELECT t.*, 1 AS side FROM ({posted_sql}) t UNION ALL "
        "SELECT r.account_id, r.day, -r.credits_fen, -r.debits_fen, -r.postings, 2 "
        f"FROM ({days_sql}) r"
        ") both_sides GROUP BY account_id, day "
        "HAVING SUM(credits) <> 0 OR SUM(debits) <> 0 OR SUM(n) <> 0 "
        "ORDER BY account_id, day"
    )
    with connection.cursor() as cursor:
        cursor.execute(both_sides, [*posted_params, *days_params])
        rows = cursor.fetchall()
    problems = []
    for account_id, day, credits, debits, count, side in rows:
        day = str(day)
        # side 1: postings without a roll-up row; 2: a roll-up row without postings; 3: both
        problems.append(
            Problem(
                kind=FindingKind.DAY_TOTALS_MISMATCH,
                fingerprint=f"day_totals_mismatch:account:{account_id}:{day}",
                summary=(
                    f"account #{account_id}'s totals for {day} differ from its postings by "
                    f"{int(credits)} fen of credits, {int(debits)} fen of debits and "
                    f"{int(count)} posting(s)"
                ),
                objects=[ref(LedgerAccount, account_id)],
                details={
                    "day": day,
                    "credits_difference_fen": int(credits),
                    "debits_difference_fen": int(debits),
                    "postings_difference": int(count),
                    "roll_up_row": int(side) != 1,
                    "postings_on_day": int(side) != 2,
                },
            )
        )
    return problems


def _escrow_problem(merchant_id: int, account_id: int | None, balance: int, expected: int):
    objects = [ref(Merchant, merchant_id)]
    if account_id:
        objects.append(ref(LedgerAccount, account_id))
    return Problem(
        kind=FindingKind.ESCROW_MISMATCH,
        fingerprint=f"escrow_mismatch:merchant:{merchant_id}",
        summary=(
            f"merchant #{merchant_id} has {balance} fen in escrow but {expected} fen "
            "of paid, uncleared orders"
        ),
        objects=objects,
        details={"escrow_balance_fen": balance, "open_orders_fen": expected},
    )


def check_escrow() -> list[Problem]:
    """A buyer's escrow balance equals amount - refunded over its paid, uncleared orders."""
    held = Order.objects.filter(status__in=ESCROW_HELD_STATUSES)
    escrow = LedgerAccount.objects.filter(kind=AccountKind.MERCHANT_ESCROW)
    order, account = quoted_table(Order), quoted_table(LedgerAccount)
    statuses = ", ".join(["%s"] * len(ESCROW_HELD_STATUSES))
    # The held orders summed per buyer once and joined to the escrow accounts:
    # a sum per account scans the status index once for each of them.
    sql = f"""
        SELECT a.merchant_id, a.id, a.balance_fen, CAST(COALESCE(h.held, 0) AS BIGINT)
        FROM {account} a
        LEFT JOIN (SELECT buyer_id, SUM(amount_fen - refunded_fen) AS held FROM {order}
                   WHERE status IN ({statuses}) GROUP BY buyer_id) h ON h.buyer_id = a.merchant_id
        WHERE a.kind = %s AND a.balance_fen <> COALESCE(h.held, 0)
        ORDER BY a.merchant_id, a.department_id, a.id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ESCROW_HELD_STATUSES, AccountKind.MERCHANT_ESCROW])
        rows = cursor.fetchall()
    problems = [_escrow_problem(*row) for row in rows]
    # Buyers with money owed in escrow but no escrow account at all.
    orphans = (
        held.exclude(buyer_id__in=escrow.values("merchant_id"))
        .values("buyer_id")
        .annotate(s=Sum(F("amount_fen") - F("refunded_fen")))
        .exclude(s=0)
        .values_list("buyer_id", "s")
    )
    problems += [_escrow_problem(buyer_id, None, 0, total) for buyer_id, total in orphans]
    return problems


def check_clearing_postings() -> list[Problem]:
    """A cleared or settled order has exactly one (unreversed) clearing entry, which takes
    amount - refunded out of escrow (none when nothing is left to clear, as clearing
    posts no entry for a zero gross); an order not cleared has none."""
    order, entry, posting, account = (
        quoted_table(m) for m in (Order, JournalEntry, Posting, LedgerAccount)
    )
    # One grouped pass over the clearing entries joined to the orders: at scale
    # this is several times faster than a correlated count per order. Only the
    # escrow lines of the clearing entries are joined (the escrow accounts as a
    # set), not every posting summed per entry first: 4 s instead of 10 s over
    # 5,000,000 postings. An entry with several escrow lines is counted once.
    sql = f"""
        SELECT o.id, o.number, o.status, COALESCE(c.n, 0), COALESCE(c.esc, 0),
               o.amount_fen, o.refunded_fen
        FROM {order} o
        LEFT JOIN (
            SELECT e.order_id, COUNT(DISTINCT e.id) AS n,
                   CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) AS esc
            FROM {entry} e
            LEFT JOIN {posting} p ON p.entry_id = e.id
                AND p.account_id IN (SELECT a.id FROM {account} a WHERE a.kind = %s)
            WHERE e.purpose = %s AND e.order_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {entry} r WHERE r.reverses_id = e.id)
            GROUP BY e.order_id
        ) c ON c.order_id = o.id
        WHERE o.status IN (%s, %s)
          AND (COALESCE(c.n, 0) <> CASE WHEN o.amount_fen > o.refunded_fen THEN 1 ELSE 0 END
               OR COALESCE(c.esc, 0) <> o.refunded_fen - o.amount_fen)
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [AccountKind.MERCHANT_ESCROW, EntryPurpose.CLEARING, *CLEARED_STATUSES])
        # SUM is NUMERIC on PostgreSQL; money stays integer fen here
        cleared = [(*row[:3], int(row[3]), int(row[4]), *row[5:]) for row in cursor.fetchall()]
    problems = [
        Problem(
            kind=FindingKind.CLEARING_POSTINGS,
            fingerprint=f"clearing_postings:order:{order_id}",
            summary=(
                f"{status} order {number} has {entries} clearing entr"
                f"{'y' if entries == 1 else 'ies'} taking {-escrow_out} fen from escrow "
                f"(expected {1 if amount > refunded else 0} taking {amount - refunded} fen)"
            ),
            objects=[ref(Order, order_id)],
            details={
                "status": status,
                "clearing_entries": entries,
                "escrow_debit_fen": escrow_out,
                "expected_escrow_debit_fen": refunded - amount,
            },
        )
        for order_id, number, status, entries, escrow_out, amount, refunded in cleared
    ]
    early = (
        JournalEntry.objects.filter(purpose=EntryPurpose.CLEARING, order__isnull=False)
        .exclude(order__status__in=CLEARED_STATUSES)
        .values_list("order_id", "order__number", "order__status", "id")
    )
    problems += [
        Problem(
            kind=FindingKind.CLEARING_POSTINGS,
            fingerprint=f"clearing_postings:order:{order_id}",
            summary=f"order {number} is {status} yet has clearing entry #{entry_id}",
            objects=[ref(Order, order_id), ref(JournalEntry, entry_id)],
            details={"status": status, "clearing_entry_id": entry_id},
        )
        for order_id, number, status, entry_id in early
    ]
    return problems


def _scenario_in_force() -> Callable[[Scenario], bool]:
    """publicdata's rule when it exists; until then, a scenario stands or falls with its grant."""
    from publicdata import rules

    rule = getattr(rules, "scenario_in_force", None)
    if rule is not None:
        return rule
    now = timezone.now()
    return lambda s: s.grant.status == "active" and s.grant.valid_from <= now < s.grant.valid_until


def check_public_data_listings() -> list[Problem]:
    """No listed product built on public data whose grant or any scenario is not in force."""
    now = timezone.now()
    public = Product.objects.filter(status=ProductStatus.LISTED).filter(
        Q(source_kind=DataSourceKind.PUBLIC) | Q(grant__isnull=False)
    )
    reasons: dict[int, list[str]] = {}
    grant_in_force = Q(
        grant__status="active", grant__valid_from__lte=now, grant__valid_until__gt=now
    )
    for product_id, grant_id, grant_status in public.exclude(grant_in_force).values_list(
        "id", "grant_id", "grant__status"
    ):
        reasons.setdefault(product_id, []).append(
            "no grant" if grant_id is None else f"grant #{grant_id} not in force ({grant_status})"
        )
    # Scenarios are few (one per assessed use), so the rule is asked once per scenario.
    in_force = _scenario_in_force()
    scenarios = Scenario.objects.filter(
        Exists(
            Product.scenarios.through.objects.filter(scenario_id=OuterRef("pk"), product__in=public)
        )
    ).select_related("grant", "assessment", "authorization")
    lapsed = [s.pk for s in scenarios if not in_force(s)]
    if lapsed:
        links = Product.scenarios.through.objects.filter(
            scenario_id__in=lapsed, product__in=public
        ).values_list("product_id", "scenario_id")
        for product_id, scenario_id in links:
            reasons.setdefault(product_id, []).append(f"scenario #{scenario_id} not in force")
    titles = dict(Product.objects.filter(pk__in=reasons).values_list("id", "title"))
    grants = dict(Product.objects.filter(pk__in=reasons).values_list("id", "grant_id"))
    problems = []
    for product_id, why in sorted(reasons.items()):
        objects = [ref(Product, product_id)]
        if grants.get(product_id):
            objects.append(ref(Grant, grants[product_id]))
        problems.append(
            Problem(
                kind=FindingKind.PUBLIC_DATA_NOT_IN_FORCE,
                fingerprint=f"public_data_not_in_force:product:{product_id}",
                summary=f"listed product '{titles.get(product_id)}': {'; '.join(why)}",
                objects=objects,
                details={"reasons": why},
            )
        )
    return problems


def check_self_dealing() -> list[Problem]:
    """Buyer and seller of a paid order are one party: the same organisation code
    (characters 9-17 of the credit code, the 组织机构代码), the same bank account
    number, or an owner with the same e-mail address (one person behind both)."""
    order, merchant, user = quoted_table(Order), quoted_table(Merchant), quoted_table(User)
    # The pairs of merchants that share something are found first (few: a
    # merchant mostly shares only with itself), then the paid orders between
    # them in one hash join, instead of judging each of a million trading pairs.
    sql = f"""
        WITH shared AS (
            SELECT b.id AS buyer_id, s.id AS seller_id, 1 AS org, 0 AS bank, 0 AS owner
            FROM {merchant} b JOIN {merchant} s
              ON SUBSTR(b.credit_code, 9, 9) = SUBSTR(s.credit_code, 9, 9)
            UNION ALL
            SELECT b.id, s.id, 0, 1, 0
            FROM {merchant} b JOIN {merchant} s
              ON b.bank_account_number <> ''
             AND REPLACE(b.bank_account_number, ' ', '') = REPLACE(s.bank_account_number, ' ', '')
            UNION ALL
            SELECT ub.merchant_id, us.merchant_id, 0, 0, 1
            FROM {user} ub JOIN {user} us ON LOWER(ub.email) = LOWER(us.email)
            WHERE ub.email <> '' AND ub.merchant_role = 'owner' AND us.merchant_role = 'owner'
              AND ub.merchant_id IS NOT NULL AND us.merchant_id IS NOT NULL
        ), pairs AS (
            SELECT buyer_id, seller_id, MAX(org) AS org, MAX(bank) AS bank, MAX(owner) AS owner
            FROM shared GROUP BY buyer_id, seller_id
        )
        SELECT o.buyer_id, o.seller_id, COUNT(*), MIN(o.id), MAX(o.id), p.org, p.bank, p.owner
        FROM {order} o
        JOIN pairs p ON p.buyer_id = o.buyer_id AND p.seller_id = o.seller_id
        WHERE o.paid_at IS NOT NULL
        GROUP BY o.buyer_id, o.seller_id, p.org, p.bank, p.owner
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    pairs: dict[tuple[int, int], dict] = {}
    for buyer, seller, count, first, last, org, bank, owner in rows:
        key = (min(buyer, seller), max(buyer, seller))
        pair = pairs.setdefault(key, {"orders": 0, "order_ids": [], "shared": set()})
        pair["orders"] += count
        pair["order_ids"] += [first, last]
        for flag, name in ((org, "organisation code"), (bank, "bank account"), (owner, "owner")):
            if flag:
                pair["shared"].add(name)
    return [
        Problem(
            kind=FindingKind.SELF_DEALING,
            fingerprint=f"self_dealing:merchants:{a}:{b}",
            summary=(
                f"merchants #{a} and #{b} trade with each other and share "
                f"{', '.join(sorted(pair['shared']))} ({pair['orders']} paid order(s))"
            ),
            objects=[ref(Merchant, a), ref(Merchant, b)]
            + [ref(Order, i) for i in sorted(set(pair["order_ids"]))],
            details={"shared": sorted(pair["shared"]), "paid_orders": pair["orders"]},
        )
        for (a, b), pair in sorted(pairs.items())
    ]


# PostgreSQL: the pairs of merchants who sold to each other at all come first
# (a set intersection over the paid orders), and only their orders are then
# matched within the window. Probing each of a million paid orders for a
# reverse one read 13 million index and heap pages to find, as a rule, none.
_ORDER = quoted_table(Order)
_MUTUAL_PAIRS_SQL = f"""
SELECT seller_id, buyer_id FROM {_ORDER} WHERE paid_at IS NOT NULL AND seller_id < buyer_id
INTERSECT
SELECT buyer_id, seller_id FROM {_ORDER} WHERE paid_at IS NOT NULL AND seller_id > buyer_id
"""  # noqa: S608 (only the model's table name is interpolated)
_MATCHED_SQL = f"""
SELECT o.seller_id, o.buyer_id, COUNT(*)
FROM {_ORDER} o
JOIN (VALUES {{pairs}}) AS m (seller_id, buyer_id)
  ON m.seller_id = o.seller_id AND m.buyer_id = o.buyer_id
WHERE o.paid_at IS NOT NULL AND EXISTS (
    SELECT 1 FROM {_ORDER} r
    WHERE r.seller_id = o.buyer_id AND r.buyer_id = o.seller_id
      AND r.paid_at >= o.paid_at - INTERVAL '1 second' * %s
      AND r.paid_at <= o.paid_at + INTERVAL '1 second' * %s
)
GROUP BY o.seller_id, o.buyer_id
"""  # noqa: S608 (only the model's table name and placeholders are interpolated)
_PAIRS_PER_STATEMENT = 500


def _circular_trade_rows(window: dt.timedelta) -> list[tuple[int, int, int]]:
    """(seller a, buyer b, a < b, orders of a to b matched by one of b to a within the window)."""
    if connection.vendor == "postgresql":
        rows: list[tuple[int, int, int]] = []
        with connection.cursor() as cursor:
            cursor.execute(_MUTUAL_PAIRS_SQL)
            pairs = sorted(cursor.fetchall())
            for start in range(0, len(pairs), _PAIRS_PER_STATEMENT):
                some = pairs[start : start + _PAIRS_PER_STATEMENT]
                statement = _MATCHED_SQL.replace(
                    "{pairs}", ", ".join(["(%s::bigint, %s::bigint)"] * len(some))
                )
                seconds = window.total_seconds()
                cursor.execute(statement, [*(v for pair in some for v in pair), seconds, seconds])
                rows.extend(cursor.fetchall())
        return sorted(rows)
    back = Order.objects.filter(
        seller_id=OuterRef("buyer_id"),
        buyer_id=OuterRef("seller_id"),
        paid_at__gte=OuterRef("paid_at") - window,
        paid_at__lte=OuterRef("paid_at") + window,
    )
    return list(
        Order.objects.filter(paid_at__isnull=False, seller_id__lt=F("buyer_id"))
        .filter(Exists(back))
        .values("seller_id", "buyer_id")
        .annotate(n=Count("id"))
        .values_list("seller_id", "buyer_id", "n")
        .order_by("seller_id", "buyer_id")
    )


def check_circular_trades() -> list[Problem]:
    """A sells to B and B sells to A, both paid within N days of each other."""
    window = dt.timedelta(days=setting("EXCHANGE_CIRCULAR_TRADE_DAYS"))
    problems = []
    for a, b, n in _circular_trade_rows(window):
        problems.append(
            Problem(
                kind=FindingKind.CIRCULAR_TRADE,
                fingerprint=f"circular_trade:merchants:{a}:{b}",
                summary=(
                    f"merchants #{a} and #{b} sold to each other within {window.days} days "
                    f"({n} order(s) of #{a} matched by one of #{b})"
                ),
                objects=[ref(Merchant, a), ref(Merchant, b)],
                details={"window_days": window.days, "matched_orders": n},
            )
        )
    return problems


def check_order_amounts() -> list[Problem]:
    """One-off, subscription and free orders cost the contract's price x quantity."""
    # The snapshot holds the price in yuan with exactly two decimals ("12.34"),
    # so dropping the point gives fen without leaving SQL.
    contract_price = Cast(
        Replace(KT(CONTRACT_PRICE_PATH), Value("."), Value("")), BigIntegerField()
    )
    price = Coalesce(contract_price, F("plan__price_fen"))
    rows = (
        Order.objects.filter(plan__kind__in=PRICED_PLAN_KINDS)
        .annotate(expected=price * F("quantity"))
        .exclude(amount_fen=F("expected"))
        .values_list("id", "number", "amount_fen", "expected", "quantity", "plan_id")
    )
    return [
        Problem(
            kind=FindingKind.AMOUNT_MISMATCH,
            fingerprint=f"amount_mismatch:order:{order_id}",
            summary=f"order {number} charges {amount} fen; price x {quantity} is {expected} fen",
            objects=[ref(Order, order_id)],
            details={
                "amount_fen": amount,
                "expected_fen": expected,
                "quantity": quantity,
                "plan_id": plan_id,
            },
        )
        for order_id, number, amount, expected, quantity, plan_id in rows
    ]


def stuck_order_limits() -> dict[str, tuple[str, int]]:
    """ORDER_STATE_LIMITS with the delivered limit extended by the auto-accept period."""
    from django.conf import settings

    limits = dict(ORDER_STATE_LIMITS)
    column, days = limits[OrderStatus.DELIVERED]
    limits[OrderStatus.DELIVERED] = (column, days + settings.EXCHANGE_AUTO_ACCEPT_DAYS)
    return limits


def check_stuck_orders() -> list[Problem]:
    """No order (without an open dispute, which has its own clock) sits in a state too long."""
    now = timezone.now()
    problems = []
    for status, (column, days) in stuck_order_limits().items():
        since = Coalesce(column, "updated_at")
        rows = (
            Order.objects.filter(status=status, is_disputed=False)
            .annotate(since=since)
            .filter(since__lt=now - dt.timedelta(days=days))
            .values_list("id", "number", "since", "buyer_id", "seller_id")
        )
        for order_id, number, since_at, buyer_id, seller_id in rows:
            waited = (now - since_at).days
            problems.append(
                Problem(
                    kind=FindingKind.STUCK_ORDER,
                    fingerprint=f"stuck_order:order:{order_id}:{status}",
                    summary=f"order {number} has been {status} for {waited} days (limit {days})",
                    objects=[
                        ref(Order, order_id),
                        ref(Merchant, buyer_id),
                        ref(Merchant, seller_id),
                    ],
                    details={
                        "status": status,
                        "since": since_at.isoformat(),
                        "days": waited,
                        "limit_days": days,
                    },
                )
            )
    return problems


# Run in this order; each in its own savepoint so one failing check is
# reported on the run without hiding the others.
CHECKS: dict[str, Callable[[], list[Problem]]] = {
    "entries_balance": check_entries_balance,
    "ledger_balance": check_ledger_balance,
    "account_balances": check_account_balances,
    "account_days": check_account_days,
    "escrow": check_escrow,
    "clearing_postings": check_clearing_postings,
    "public_data_listings": check_public_data_listings,
    "self_dealing": check_self_dealing,
    "circular_trades": check_circular_trades,
    "order_amounts": check_order_amounts,
    "stuck_orders": check_stuck_orders,
}
