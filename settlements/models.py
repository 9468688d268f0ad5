from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import StatusEvent, TimeStampedModel
from settlements.choices import AccountKind, ClearingStatus, EntryPurpose


class LedgerAccount(models.Model):
    """An account of the double-entry ledger.

    Invariant: `balance_fen` equals the sum of the account's postings; it is
    changed only in the transaction that inserts those postings, so balances
    read in constant time. One account per (kind, merchant) or (kind, department);
    one exchange-wide account per exchange kind.
    """

    kind = models.CharField(_("kind"), max_length=24, choices=AccountKind.choices)
    merchant = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    department = models.ForeignKey(
        "publicdata.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    # fen, credit-positive (see AccountKind)
    balance_fen = models.BigIntegerField(_("balance (fen)"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    merchant_scope = ("merchant",)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["kind", "merchant_id", "department_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "merchant"],
                condition=Q(merchant__isnull=False),
                name="one_account_per_merchant_kind",
            ),
            models.UniqueConstraint(
                fields=["kind", "department"],
                condition=Q(department__isnull=False),
                name="one_account_per_department_kind",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(merchant__isnull=True, department__isnull=True),
                name="one_exchange_account_per_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=[
                            AccountKind.MERCHANT_AVAILABLE,
                            AccountKind.MERCHANT_ESCROW,
                            AccountKind.MERCHANT_PAYABLE,
                        ],
                        merchant__isnull=False,
                        department__isnull=True,
                    )
                    | Q(
                        kind=AccountKind.DEPARTMENT_SHARE,
                        merchant__isnull=True,
                        department__isnull=False,
                    )
                    | Q(
                        kind__in=[AccountKind.EXCHANGE_FEE, AccountKind.BANK_CLEARING],
                        merchant__isnull=True,
                        department__isnull=True,
                    )
                ),
                name="account_holder_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        holder = self.merchant or self.department or _("exchange")
        return f"{self.get_kind_display()} · {holder}"


class JournalEntry(models.Model):
    """A balanced journal entry. Insert-only: the database refuses UPDATE and DELETE.

    Invariant: its postings sum to zero; `idempotency_key` (such as
    "payment:order:42") is unique, so a repeated job cannot post twice.
    """

    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=EntryPurpose.choices)
    order = models.ForeignKey(
        "marketplace.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
    )
    clearing_batch = models.ForeignKey(
        "settlements.ClearingBatch",
        verbose_name=_("clearing batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
    )
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
    )
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True, db_index=True)

    # Merchants read their postings (statements); whole entries are for operators.
    merchant_scope = ()

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.idempotency_key


class Posting(models.Model):
    """One line of a journal entry: `amount_fen` credited (+) or debited (-) to an account."""

    entry = models.ForeignKey(
        JournalEntry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="postings"
    )
    account = models.ForeignKey(
        LedgerAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="postings"
    )
    # fen, signed: positive raises what the exchange owes the account holder
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    merchant_scope = ("account__merchant",)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="posting_account_id")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount_fen}"


class ClearingBatch(TimeStampedModel):
    """清算 one clearing batch per business day (Asia/Shanghai).

    Invariant: one batch per business date; every order it clears is cleared
    exactly once, and its totals equal the sums of its clearing postings.
    """

    business_date = models.DateField(_("business date"), unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ClearingStatus.choices, default=ClearingStatus.RUNNING
    )
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    gross_fen = models.BigIntegerField(_("gross (fen)"), default=0)
    fee_fen = models.BigIntegerField(_("exchange fees (fen)"), default=0)
    share_fen = models.BigIntegerField(_("department shares (fen)"), default=0)
    net_fen = models.BigIntegerField(_("seller net (fen)"), default=0)

    merchant_scope = ()

    class Meta:
        verbose_name = _("clearing batch")
        verbose_name_plural = _("clearing batches")
        ordering = ["-business_date"]

    def __str__(self) -> str:
        return str(self.business_date)


class ClearingBatchEvent(StatusEvent):
    subject = models.ForeignKey(
        ClearingBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ()

    class Meta(StatusEvent.Meta):
        verbose_name = _("clearing status change")
        verbose_name_plural = _("clearing status changes")
