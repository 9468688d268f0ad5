"""The double-entry ledger: the only code that inserts journal entries one at a time.

Set-based jobs (clearing) insert many entries per statement but keep the same
rules: balanced entries, unique idempotency keys, balances moved in the same
transaction, accounts locked in primary-key order.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import Merchant
from publicdata.models import Department
from settlements.choices import AccountKind
from settlements.exceptions import LedgerImbalance
from settlements.models import JournalEntry, LedgerAccount, Posting


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
    Posting.objects.bulk_create(
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
