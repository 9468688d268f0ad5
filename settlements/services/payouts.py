"""结算 Settlement: confirming a computed batch, payout instructions and their payment.

Confirmation turns the batch's seller nets into one payout instruction per
merchant (plus what earlier batches carried over); instructions under
`EXCHANGE_PAYOUT_MINIMUM_FEN` are carried into the merchant's next payout.
Marking a payout paid posts payable -> bank clearing once ("payout:<id>");
when no payout of the batch is pending any more, the batch and its orders
move to settled.
"""

import csv
import io
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import Conflict
from core.money import fen_to_yuan
from core.transitions import lock_one, transition
from marketplace.services.batch_moves import orders_settle
from settlements.choices import (
    CLEARING_TRANSITIONS,
    PAYOUT_TRANSITIONS,
    AccountKind,
    ClearingStatus,
    EntryPurpose,
    PayoutStatus,
)
from settlements.models import ClearingBatch, Payout, PayoutEvent
from settlements.services import clearing_sql as sql
from settlements.services.clearing import lock_batch
from settlements.services.ledger import Line, account_get, exchange_account, journal_post

BATCH_NET_BY_MERCHANT = f"""
SELECT a.merchant_id, SUM(p.amount_fen)
FROM {sql.ENTRY} e
JOIN {sql.POSTING} p ON p.entry_id = e.id
JOIN {sql.ACCOUNT} a ON a.id = p.account_id
WHERE e.clearing_batch_id = %(batch_id)s AND e.purpose = '{sql.CLEARING_PURPOSE}'
  AND a.kind = '{sql.PAYABLE}'
GROUP BY a.merchant_id
ORDER BY a.merchant_id
"""  # noqa: S608 - table names from the models; values are parameters


def _actor_or_none(actor: User):
    return actor if getattr(actor, "pk", None) else None


def _payouts_build(*, batch: ClearingBatch, actor: User) -> list[Payout]:
    """One payout per merchant with a net in the batch; small ones carried over."""
    with connection.cursor() as cursor:
        cursor.execute(BATCH_NET_BY_MERCHANT, {"batch_id": batch.pk})
        nets = {merchant_id: int(net) for merchant_id, net in cursor.fetchall() if net}
    if not nets:
        return []
    # Carried amounts wait on earlier payouts; locking them keeps two
    # confirmations from rolling the same carry into two payouts.
    carried = list(
        Payout.objects.select_for_update()
        .filter(merchant_id__in=nets, status=PayoutStatus.CARRIED_OVER, carried_into=None)
        .order_by("pk")
    )
    carried_by_merchant: dict[int, list[Payout]] = defaultdict(list)
    for payout in carried:
        carried_by_merchant[payout.merchant_id].append(payout)
    minimum = settings.EXCHANGE_PAYOUT_MINIMUM_FEN
    payouts = []
    for merchant_id, net in nets.items():
        carried_in = sum(p.amount_fen for p in carried_by_merchant[merchant_id])
        amount = net + carried_in
        payouts.append(
            Payout(
                batch=batch,
                merchant_id=merchant_id,
                net_fen=net,
                carried_in_fen=carried_in,
                amount_fen=amount,
                status=PayoutStatus.PENDING if amount >= minimum else PayoutStatus.CARRIED_OVER,
            )
        )
    payouts = Payout.objects.bulk_create(payouts)
    by_merchant = {p.merchant_id: p for p in payouts}
    for payout in carried:
        payout.carried_into = by_merchant[payout.merchant_id]
    Payout.objects.bulk_update(carried, ["carried_into", "updated_at"])
    PayoutEvent.objects.bulk_create(
        [
            PayoutEvent(
                subject=p,
                actor=_actor_or_none(actor),
                from_status="",
                to_status=p.status,
                reason=f"batch {batch.business_date} confirmed",
            )
            for p in payouts
        ]
    )
    return payouts


@transaction.atomic
def clearing_batch_confirm(*, actor: User, batch: ClearingBatch, reason: str = "") -> ClearingBatch:
    """computed -> confirmed: the operator accepts the totals; payouts are drawn up.

    Invariant: payouts are built exactly once per batch, in the transaction
    that confirms it. Confirming a confirmed batch is a no-op.
    """
    batch = lock_batch(batch.pk)
    changed = transition(
        batch,
        to=ClearingStatus.CONFIRMED,
        actor=actor,
        transitions=CLEARING_TRANSITIONS,
        reason=reason or "totals confirmed",
    )
    if changed:
        _payouts_build(batch=batch, actor=actor)
        if _batch_settle_if_paid(batch=batch, actor=actor):
            batch.refresh_from_db()
    return batch


def _batch_settle_if_paid(*, batch: ClearingBatch, actor: User) -> bool:
    """confirmed -> settled once no payout of the batch is pending; its orders follow."""
    batch = lock_batch(batch.pk)
    if batch.status != ClearingStatus.CONFIRMED:
        return False
    if batch.payouts.filter(status=PayoutStatus.PENDING).exists():
        return False
    orders_settle(
        batch_id=batch.pk,
        business_date=batch.business_date,
        actor=_actor_or_none(actor),
        now=timezone.now(),
        reason=f"batch {batch.business_date} settled",
    )
    transition(
        batch,
        to=ClearingStatus.SETTLED,
        actor=actor,
        transitions=CLEARING_TRANSITIONS,
        reason="every payout paid or carried over",
    )
    return True


@transaction.atomic
def payout_mark_paid(*, actor: User, payout: Payout, bank_reference: str = "") -> Payout:
    """pending -> paid: the bank has wired it. Posts payable -> bank clearing once.

    Invariant: a payout's ledger entry has the key "payout:<id>", so marking it
    paid twice posts once; a carried-over payout is never paid itself.
    """
    payout = lock_one(Payout, payout.pk)
    if payout.status == PayoutStatus.PAID:
        return payout
    if payout.status != PayoutStatus.PENDING:
        raise Conflict(
            _("this payout was carried over into a later one; pay that one instead"),
            code="payout_carried_over",
            extra={"carried_into": payout.carried_into_id},
        )
    journal_post(
        idempotency_key=f"payout:{payout.pk}",
        purpose=EntryPurpose.PAYOUT,
        lines=[
            Line(
                account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=payout.merchant_id),
                -payout.amount_fen,
            ),
            Line(exchange_account(AccountKind.BANK_CLEARING), payout.amount_fen),
        ],
        memo=f"payout of batch {payout.batch.business_date}",
    )
    transition(
        payout,
        to=PayoutStatus.PAID,
        actor=actor,
        transitions=PAYOUT_TRANSITIONS,
        reason=bank_reference or "paid",
        changes={"paid_at": timezone.now(), "bank_reference": bank_reference[:64]},
    )
    _batch_settle_if_paid(batch=payout.batch, actor=actor)
    return payout


# The bank's batch-import format, fixed by the bank and read by its program, not by people:
# these English column names in this order, plain yuan ("1234.56"), ISO dates, UTF-8 without
# a byte-order mark. It is the one CSV of the exchange that is not in the reader's language;
# docs/settlements.md ("The bank payout file") describes it. Do not translate these names.
PAYOUT_CSV_COLUMNS = [
    "reference",
    "business_date",
    "payee_name",
    "payee_bank",
    "payee_account",
    "amount_yuan",
    "currency",
    "memo",
]


# 数据交易结算: fixed text of the bank file, the same whatever the operator's language.
PAYOUT_MEMO = "数据交易结算"


def payout_csv(*, batch: ClearingBatch) -> str:
    """The bank payout file of a batch: one line per pending or paid payout, in yuan.

    The reference "payout:<id>" travels with the wire, so the bank's answer
    can be matched back and a re-sent file cannot pay twice at the bank either.
    The file is for the bank's batch import, not for people, so it keeps the
    bank's fixed machine format (docs/settlements.md, "The bank payout file"):
    English column names, plain yuan ("1234.56", no symbol or separators), ISO
    dates, UTF-8 without a BOM, which import programs would read as part of the
    first column's name.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAYOUT_CSV_COLUMNS)
    payouts = (
        batch.payouts.exclude(status=PayoutStatus.CARRIED_OVER)
        .select_related("merchant")
        .order_by("merchant_id")
    )
    for payout in payouts:
        merchant = payout.merchant
        writer.writerow(
            [
                f"payout:{payout.pk}",
                batch.business_date.isoformat(),
                merchant.bank_account_name or merchant.legal_name,
                merchant.bank_name,
                merchant.bank_account_number,
                fen_to_yuan(payout.amount_fen),
                "CNY",
                # The payee reads the memo on its bank statement: Chinese, whoever exports.
                f"{PAYOUT_MEMO} {batch.business_date}",
            ]
        )
    return out.getvalue()
