# Only table names taken from the models and fixed fragments are interpolated;
# every value travels as a parameter.
# ruff: noqa: S608
"""The SQL of a clearing chunk: a few set-based statements, never a loop per order.

Table names come from the models, so a renamed table cannot silently miss.
PostgreSQL chains the entry and posting inserts with data-modifying CTEs (one
statement, RETURNING only the rows it wrote); SQLite, which has no such CTEs
and serialises writers anyway, runs the same steps one after another.

Money is integer fen. For a gross g >= 0 and a rate r in bps the floor of
g * r / 10000 is computed as (g / 10000) * r + (g % 10000) * r / 10000, which
is exact for non-negative integers and never overflows a 64-bit column (the
SQL doubles % because both drivers use %(name)s parameters).
"""

from marketplace.services.batch_moves import BATCH_ORDERS, CLEARABLE, ORDER
from settlements.choices import AccountKind, EntryPurpose
from settlements.models import AccountDay, JournalEntry, LedgerAccount, Posting

DAY = AccountDay._meta.db_table
ENTRY = JournalEntry._meta.db_table
POSTING = Posting._meta.db_table
ACCOUNT = LedgerAccount._meta.db_table
# Read only, to find who still needs an account: the tables the accounts' keys point at.
MERCHANT = LedgerAccount._meta.get_field("merchant").related_model._meta.db_table
DEPARTMENT = LedgerAccount._meta.get_field("department").related_model._meta.db_table

ESCROW = AccountKind.MERCHANT_ESCROW.value
PAYABLE = AccountKind.MERCHANT_PAYABLE.value
SHARE = AccountKind.DEPARTMENT_SHARE.value
CLEARING_PURPOSE = EntryPurpose.CLEARING.value

# The orders a batch takes: marketplace defines them (that local day's
# accepted, undisputed, uncleared orders); settlements only reads them.
ELIGIBLE = CLEARABLE

PLAN_CHUNKS = f"""
SELECT bucket, MIN(id), MAX(id), COUNT(*) FROM (
    SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %(chunk_size)s AS bucket
    FROM {ORDER} WHERE {ELIGIBLE}
) numbered
GROUP BY bucket ORDER BY bucket
"""

# Accounts the day needs, created before the chunks run so that parallel
# chunks rarely insert the same account; ordered so that, when they do, they
# wait for each other in one order instead of deadlocking.
ENSURE_ACCOUNTS = f"""
INSERT INTO {ACCOUNT} (kind, merchant_id, department_id, balance_fen, updated_at)
SELECT kind, merchant_id, department_id, 0, %(now)s FROM (
    SELECT DISTINCT '{ESCROW}' AS kind, buyer_id AS merchant_id,
           CAST(NULL AS BIGINT) AS department_id FROM {{source}}
    UNION
    SELECT DISTINCT '{PAYABLE}', seller_id, CAST(NULL AS BIGINT) FROM {{source}}
    UNION
    SELECT DISTINCT '{SHARE}', CAST(NULL AS BIGINT), department_id FROM {{source}}
    WHERE department_id IS NOT NULL
) needed
WHERE true
ORDER BY kind, merchant_id, department_id
ON CONFLICT DO NOTHING
"""
# The day's: asked from the other side, the merchants and departments that
# have no such account yet and an order of the day. Nearly all have one, so
# this is an anti-join over the accounts and an index probe for the few left,
# instead of three DISTINCT passes over the day's million orders (2.4 s, with
# both clearing workers waiting for it).
_WITHOUT_ACCOUNT = (
    "NOT EXISTS (SELECT 1 FROM {account} a WHERE a.kind = '{kind}' AND a.{column} = x.id)"
)
ENSURE_ACCOUNTS_FOR_DAY = f"""
INSERT INTO {ACCOUNT} (kind, merchant_id, department_id, balance_fen, updated_at)
SELECT kind, merchant_id, department_id, 0, %(now)s FROM (
    SELECT '{ESCROW}' AS kind, x.id AS merchant_id, CAST(NULL AS BIGINT) AS department_id
    FROM {MERCHANT} x
    WHERE {_WITHOUT_ACCOUNT.format(account=ACCOUNT, kind=ESCROW, column="merchant_id")}
      AND EXISTS (SELECT 1 FROM {ORDER} WHERE {ORDER}.buyer_id = x.id AND {ELIGIBLE})
    UNION ALL
    SELECT '{PAYABLE}', x.id, CAST(NULL AS BIGINT) FROM {MERCHANT} x
    WHERE {_WITHOUT_ACCOUNT.format(account=ACCOUNT, kind=PAYABLE, column="merchant_id")}
      AND EXISTS (SELECT 1 FROM {ORDER} WHERE {ORDER}.seller_id = x.id AND {ELIGIBLE})
    UNION ALL
    SELECT '{SHARE}', CAST(NULL AS BIGINT), x.id FROM {DEPARTMENT} x
    WHERE {_WITHOUT_ACCOUNT.format(account=ACCOUNT, kind=SHARE, column="department_id")}
      AND EXISTS (SELECT 1 FROM {ORDER} WHERE {ORDER}.department_id = x.id AND {ELIGIBLE})
) needed
WHERE true
ORDER BY kind, merchant_id, department_id
ON CONFLICT DO NOTHING
"""
ENSURE_ACCOUNTS_FOR_CHUNK = ENSURE_ACCOUNTS.replace("{source}", "clearing_work")

CREATE_WORK = """
CREATE TEMP TABLE clearing_work (
    order_id BIGINT NOT NULL, buyer_id BIGINT NOT NULL, seller_id BIGINT NOT NULL,
    department_id BIGINT, gross BIGINT NOT NULL, fee BIGINT NOT NULL,
    share BIGINT NOT NULL, net BIGINT NOT NULL
)
"""
CREATE_DELTA = """
CREATE TEMP TABLE clearing_delta (
    account_id BIGINT NOT NULL, delta BIGINT NOT NULL,
    postings BIGINT NOT NULL, debits BIGINT NOT NULL,
    credit_fen BIGINT NOT NULL, debit_fen BIGINT NOT NULL
)
"""
DROP_TEMP = ("DROP TABLE clearing_work", "DROP TABLE clearing_delta")


def rates_cte(rates) -> tuple[str, dict]:
    """The fee rates in force as an inline table (board 0 = any board, mode '' = any).

    A row that matches nothing keeps the VALUES list non-empty on a day without rates.
    """
    rows = [(-1, "", 0), *[(r.board_id, r.delivery_mode, r.fee_bps) for r in rates]]
    values = ", ".join(
        f"(CAST(%(rb{i})s AS BIGINT), CAST(%(rm{i})s AS VARCHAR(24)), CAST(%(rr{i})s AS INTEGER))"
        for i in range(len(rows))
    )
    params = {}
    for i, (board, mode, bps) in enumerate(rows):
        params.update({f"rb{i}": board, f"rm{i}": mode, f"rr{i}": bps})
    return f"rates(board_id, delivery_mode, bps) AS (VALUES {values})", params


def _priced(source: str) -> str:
    """Fee, share and net for each row of `source` (id, ids, gross, share_bps, board, mode)."""
    fee_bps = (
        "CASE WHEN p.fee_bps + p.share_bps > 10000 THEN 10000 - p.share_bps ELSE p.fee_bps END"
    )
    fee = f"((p.gross / 10000) * ({fee_bps}) + ((p.gross %% 10000) * ({fee_bps})) / 10000)"
    share = "((p.gross / 10000) * p.share_bps + ((p.gross %% 10000) * p.share_bps) / 10000)"
    return f"""
    SELECT p.id, p.buyer_id, p.seller_id, p.department_id, p.gross,
           {fee} AS fee, {share} AS share, p.gross - {fee} - {share} AS net
    FROM (
        SELECT s.id, s.buyer_id, s.seller_id, s.department_id, s.gross, s.share_bps,
               COALESCE(f1.bps, f2.bps, f3.bps, f4.bps, 0) AS fee_bps
        FROM {source} s
        LEFT JOIN rates f1 ON f1.board_id = s.board_id AND f1.delivery_mode = s.delivery_mode
        LEFT JOIN rates f2 ON f2.board_id = s.board_id AND f2.delivery_mode = ''
        LEFT JOIN rates f3 ON f3.board_id = 0 AND f3.delivery_mode = s.delivery_mode
        LEFT JOIN rates f4 ON f4.board_id = 0 AND f4.delivery_mode = ''
    ) p
    """


# The columns an order contributes; a share without a department is no share.
_ORDER_COLUMNS = f"""
    {ORDER}.id, {ORDER}.buyer_id, {ORDER}.seller_id, {ORDER}.department_id,
    {ORDER}.amount_fen - {ORDER}.refunded_fen AS gross,
    CASE WHEN {ORDER}.department_id IS NULL THEN 0
         WHEN {ORDER}.department_share_bps > 10000 THEN 10000
         ELSE {ORDER}.department_share_bps END AS share_bps,
    COALESCE({ORDER}.board_id, 0) AS board_id, {ORDER}.delivery_mode
"""
# The orders the chunk has just cleared (marketplace's orders_clear moved them
# in this transaction), priced into the work table.
COLLECT_CLEARED = f"""
WITH {{rates}},
picked AS (
    SELECT {_ORDER_COLUMNS} FROM {ORDER}
    WHERE {ORDER}.id BETWEEN %(first_id)s AND %(last_id)s
      AND {ORDER}.clearing_batch_id = %(batch_id)s
)
INSERT INTO clearing_work (order_id, buyer_id, seller_id, department_id, gross, fee, share, net)
{_priced("picked")}
"""

_NEW_ENTRIES = f"""
INSERT INTO {ENTRY}
    (idempotency_key, purpose, order_id, clearing_batch_id, reverses_id, memo, created_at)
SELECT 'clearing:order:' || CAST(order_id AS VARCHAR(20)), '{CLEARING_PURPOSE}', order_id,
       %(batch_id)s, NULL, '', %(now)s
FROM clearing_work WHERE gross > 0
ON CONFLICT (idempotency_key) DO NOTHING
"""

# Four legs per order: buyer's escrow -gross; exchange fee +fee; department
# share +share; seller's payable +net. Zero legs are left out.
_LEG_ACCOUNT = (
    "CASE l.leg WHEN 1 THEN ea.id WHEN 2 THEN %(fee_account_id)s WHEN 3 THEN da.id ELSE pa.id END"
)
_LEG_AMOUNT = "CASE l.leg WHEN 1 THEN -w.gross WHEN 2 THEN w.fee WHEN 3 THEN w.share ELSE w.net END"
_LEGS_FROM = f"""
    JOIN {ACCOUNT} ea ON ea.kind = '{ESCROW}' AND ea.merchant_id = w.buyer_id
    JOIN {ACCOUNT} pa ON pa.kind = '{PAYABLE}' AND pa.merchant_id = w.seller_id
    LEFT JOIN {ACCOUNT} da ON da.kind = '{SHARE}' AND da.department_id = w.department_id
    CROSS JOIN (SELECT 1 AS leg UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) l
"""
_NEW_POSTINGS = f"""
INSERT INTO {POSTING} (entry_id, account_id, amount_fen, created_at)
SELECT e.id, {_LEG_ACCOUNT}, {_LEG_AMOUNT}, %(now)s
FROM {{entries}} e JOIN clearing_work w ON w.order_id = e.order_id
{_LEGS_FROM}
WHERE {_LEG_AMOUNT} <> 0
ORDER BY e.id, l.leg
"""
_DELTA_COLUMNS = (
    "account_id, SUM(amount_fen), COUNT(*), SUM(CASE WHEN amount_fen < 0 THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN amount_fen > 0 THEN amount_fen ELSE 0 END), "
    "SUM(CASE WHEN amount_fen < 0 THEN -amount_fen ELSE 0 END)"
)

PG_POST = f"""
WITH entries AS ({_NEW_ENTRIES} RETURNING id, order_id),
lines AS ({_NEW_POSTINGS.replace("{entries}", "entries")} RETURNING account_id, amount_fen)
INSERT INTO clearing_delta (account_id, delta, postings, debits, credit_fen, debit_fen)
SELECT {_DELTA_COLUMNS} FROM lines GROUP BY account_id
"""

LITE_MAX_IDS = (
    f"SELECT (SELECT COALESCE(MAX(id), 0) FROM {ENTRY}), "
    f"(SELECT COALESCE(MAX(id), 0) FROM {POSTING})"
)
LITE_INSERT_ENTRIES = _NEW_ENTRIES
LITE_INSERT_POSTINGS = _NEW_POSTINGS.replace(
    "{entries}",
    f"(SELECT id, order_id FROM {ENTRY} WHERE id > %(entries_before)s "
    "AND clearing_batch_id = %(batch_id)s)",
)
LITE_DELTA = f"""
INSERT INTO clearing_delta (account_id, delta, postings, debits, credit_fen, debit_fen)
SELECT {_DELTA_COLUMNS} FROM {POSTING} WHERE id > %(postings_before)s GROUP BY account_id
"""

# Accounts are locked in primary-key order, so chunks sharing the fee account
# (all of them) queue for it instead of deadlocking; the lock is taken last and
# held only until the commit that follows.
PG_LOCK_ACCOUNTS = f"""
SELECT id FROM {ACCOUNT} WHERE id IN (SELECT account_id FROM clearing_delta)
ORDER BY id FOR UPDATE
"""
APPLY_BALANCES = f"""
UPDATE {ACCOUNT} AS a SET balance_fen = a.balance_fen + d.delta, updated_at = %(now)s
FROM clearing_delta AS d WHERE a.id = d.account_id
"""
# The chunk's postings all carry one timestamp, so one local day: its totals
# move under the account locks taken above, in account order.
APPLY_DAY_TOTALS = f"""
INSERT INTO {DAY} (account_id, day, credits_fen, debits_fen, postings)
SELECT account_id, %(day)s, credit_fen, debit_fen, postings FROM clearing_delta
WHERE true
ORDER BY account_id
ON CONFLICT (account_id, day) DO UPDATE SET
    credits_fen = {DAY}.credits_fen + excluded.credits_fen,
    debits_fen = {DAY}.debits_fen + excluded.debits_fen,
    postings = {DAY}.postings + excluded.postings
"""

WORK_ORDERS = "SELECT COUNT(*) FROM clearing_work"
# What the chunk's postings moved, by account kind: read from the rows the
# posting INSERT itself returned (clearing_delta), so the chunk totals are the
# ledger's own figures, not a second computation of them.
DELTA_BY_KIND = f"""
SELECT a.kind, COALESCE(SUM(d.delta), 0)
FROM clearing_delta d JOIN {ACCOUNT} a ON a.id = d.account_id
GROUP BY a.kind
"""
DELTA_TOTALS = """
SELECT COALESCE(SUM(delta), 0), COALESCE(SUM(postings), 0), COALESCE(SUM(debits), 0)
FROM clearing_delta
"""

# The batch totals recomputed from every clearing posting of the batch: the
# check behind clearing_batch_verify (a full scan; the finalizer adds up the
# chunks' figures instead).
BATCH_TOTALS_FROM_POSTINGS = f"""
SELECT a.kind, COALESCE(SUM(p.amount_fen), 0)
FROM {ENTRY} e
JOIN {POSTING} p ON p.entry_id = e.id
JOIN {ACCOUNT} a ON a.id = p.account_id
WHERE e.clearing_batch_id = %(batch_id)s AND e.purpose = '{CLEARING_PURPOSE}'
GROUP BY a.kind
"""
BATCH_ORDER_COUNT = f"SELECT COUNT(*) FROM {ORDER} WHERE {BATCH_ORDERS}"
