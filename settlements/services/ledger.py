"""The double-entry ledger: the only code that inserts journal entries one at a time.

Set-based jobs (clearing) insert many entries per statement but keep the same
rules: balanced entries, unique idempotency keys, balances moved in the same
transaction, accounts locked in primary-key order.

Each posting also moves its account's totals for the local day it was posted
on (`AccountDay`, a roll-up the statements read), in the same transaction and
after the accounts' locks, so a day's totals never disagree with its postings.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Merchant
from publicdata.models import Department
from settlements.choices import AccountKind
from settlements.exceptions import LedgerImbalance
from settlements.models import AccountDay, JournalEntry, LedgerAccount, Posting


def account_get(
    *, kind: str, merchant: Merchant | int | None = None, department: Department | int | None = None
) -> LedgerAccount:
    """The ledger account of this kind for this holder, created on first use."""
    merchant_id = getattr(merchant, "pk", merchant)
    department_id = getattr(department, "pk", department)
    lookup = {"kind": kind, "merchant_id": merchant_id, "department_id": department_id}
    account = LedgerAccount.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(**lookup)
    except IntegrityError:
        # Another transaction created it between our read and our insert.
        return LedgerAccount.objects.get(**lookup)


def exchange_account(kind: str) -> LedgerAccount:
    if kind not in (AccountKind.EXCHANGE_FEE, AccountKind.BANK_CLEARING):
        raise ValueError(f"{kind} is not an exchange-wide account")
    return account_get(kind=kind)


@dataclass(frozen=True)
class Line:
    account: LedgerAccount
    amount_fen: int


@transaction.atomic
def journal_post(
    *,
    idempotency_key: str,
    purpose: str,
    lines: Sequence[Line],
    order_id: int | None = None,
    clearing_batch_id: int | None = None,
    reverses: JournalEntry | None = None,
    memo: str = "",
) -> tuple[JournalEntry, bool]:
    """Post one balanced entry; return (entry, created).

    Posting the same idempotency key again returns the existing entry and
    changes nothing, so callers may retry freely.
    """
    nonzero = [line for line in lines if line.amount_fen != 0]
    if len(nonzero) < 2:
        raise LedgerImbalance(f"{idempotency_key}: an entry needs at least two non-zero lines")
    if sum(line.amount_fen for line in nonzero) != 0:
        raise LedgerImbalance(f"{idempotency_key}: postings sum to non-zero")
    existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                idempotency_key=idempotency_key,
                purpose=purpose,
                order_id=order_id,
                clearing_batch_id=clearing_batch_id,
                reverses=reverses,
                memo=memo[:300],
            )
    except IntegrityError:
        return JournalEntry.objects.get(idempotency_key=idempotency_key), False
    postings = Posting.objects.bulk_create(
        [Posting(entry=entry, account=line.account, amount_fen=line.amount_fen) for line in nonzero]
    )
    deltas: dict[int, int] = defaultdict(int)
    for line in nonzero:
        deltas[line.account.pk] += line.amount_fen
    # Primary-key order, so two entries touching the same accounts never deadlock.
    for account_id in sorted(deltas):
        LedgerAccount.objects.filter(pk=account_id).update(
            balance_fen=F("balance_fen") + deltas[account_id]
        )
    # Under the accounts' locks just taken: the day totals of these accounts
    # are moved by one transaction at a time, in the same order.
    account_days_add(
        (p.account_id, timezone.localdate(p.created_at), p.amount_fen) for p in postings
    )
    return entry, True


@transaction.atomic
def journal_reverse(*, entry: JournalEntry, memo: str = "") -> tuple[JournalEntry, bool]:
    """Correct a mistake by posting the mirror image of `entry` (entries are never edited)."""
    lines = [Line(p.account, -p.amount_fen) for p in entry.postings.select_related("account")]
    return journal_post(
        idempotency_key=f"reversal:{entry.pk}",
        purpose="reversal",
        lines=lines,
        order_id=entry.order_id,
        reverses=entry,
        memo=memo or f"reverses {entry.idempotency_key}",
    )


def account_balance(account: LedgerAccount) -> int:
    """Constant-time balance: the running figure kept with every posting."""
    return LedgerAccount.objects.values_list("balance_fen", flat=True).get(pk=account.pk)


DAY_TABLE = AccountDay._meta.db_table
# Adds to the day's totals; the first posting of an account's day creates the row.
_DAYS_UPSERT = f"""
INSERT INTO {DAY_TABLE} (account_id, day, credits_fen, debits_fen, postings)
VALUES {{values}}
ON CONFLICT (account_id, day) DO UPDATE SET
    credits_fen = {DAY_TABLE}.credits_fen + excluded.credits_fen,
    debits_fen = {DAY_TABLE}.debits_fen + excluded.debits_fen,
    postings = {DAY_TABLE}.postings + excluded.postings
"""  # noqa: S608 (only the model's table name is interpolated; values are parameters)
# Rows per statement when a seeding adds many days at once.
_DAYS_BATCH = 1000


def day_totals(
    postings: Iterable[tuple[int, dt.date, int]],
) -> dict[tuple[int, dt.date], tuple[int, int, int]]:
    """(account, local day, amount) triples summed into {(account, day): (credits, debits, n)}."""
    totals: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for account_id, day, amount in postings:
        row = totals[(account_id, day)]
        if amount > 0:
            row[0] += amount
        else:
            row[1] -= amount
        row[2] += 1
    return {key: (c, d, n) for key, (c, d, n) in totals.items()}


def account_days_add(postings: Iterable[tuple[int, dt.date, int]]) -> None:
    """Move the day totals by these (account, local day, fen) postings, in (account, day) order.

    Call it in the transaction that inserts the postings, after locking their
    accounts: the account lock is what serialises writers of the same rows.
    """
    account_days_add_totals(day_totals(postings))


def account_days_add_totals(totals: Mapping[tuple[int, dt.date], tuple[int, int, int]]) -> None:
    rows = sorted(totals.items())
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _DAYS_BATCH):
            batch = rows[start : start + _DAYS_BATCH]
            params: list = []
            for (account_id, day), (credits, debits, count) in batch:
                params += [account_id, adapt(day), credits, debits, count]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
            cursor.execute(_DAYS_UPSERT.replace("{values}", values), params)
