from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import StatusEvent, TimeStampedModel
from core.scoping import PUBLIC
from products.choices import DeliveryMode
from settlements.choices import (
    AccountKind,
    ChunkStatus,
    ClearingStatus,
    CostCategory,
    EntryPurpose,
    PayoutStatus,
)


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

    # Unique through Meta.constraints rather than unique=True: the same index,
    # without the extra LIKE index PostgreSQL would get for a unique CharField.
    idempotency_key = models.CharField(_("idempotency key"), max_length=120)
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
        db_index=False,  # partial index below: only reversals carry it
    )
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    # Merchants read their postings (statements); whole entries are for operators.
    merchant_scope = ()

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="one_entry_per_key")
        ]
        indexes = [
            models.Index(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="entry_reverses"
            )
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class Posting(models.Model):
    """One line of a journal entry: `amount_fen` credited (+) or debited (-) to an account."""

    # No database foreign-key checks on the two hottest columns of the ledger:
    # clearing writes millions of postings a night and a per-row FK check
    # doubled that cost. Integrity holds by construction instead: postings are
    # written only with ids taken from the same statement's entries and a join
    # on the accounts, and neither entries nor accounts can ever be deleted
    # (PostgreSQL triggers, migrations 0002 and 0004). The ledger audit checks
    # it again (tests: test_every_posting_points_at_a_real_entry_and_account).
    entry = models.ForeignKey(
        JournalEntry,
        verbose_name=pgettext_lazy("journal entry of a posting", "entry"),
        on_delete=models.PROTECT,
        related_name="postings",
        db_constraint=False,
    )
    account = models.ForeignKey(
        LedgerAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="postings",
        db_constraint=False,
        db_index=False,  # the (account, created_at, id) index below serves every lookup by account
    )
    # fen, signed: positive raises what the exchange owes the account holder
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    merchant_scope = ("account__merchant",)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["id"]
        # One index per account's postings, in posting order: a statement reads its
        # period's range and pages through it in order, without sorting the account's
        # whole history (one index, not two, keeps the clearing's inserts lean).
        indexes = [
            models.Index(fields=["account", "created_at", "id"], name="posting_account_time")
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount_fen}"


class AccountDay(models.Model):
    """One ledger account's postings of one local day (Asia/Shanghai), summed.

    A roll-up derived from the postings, not a ledger row: it records no money
    of its own, and a statement reads it instead of adding up a period's
    postings. Invariant: `credits_fen` is the sum of the day's positive postings
    on the account, `debits_fen` the sum of its negative ones as a positive
    figure, `postings` their number. Every writer of postings moves it in the
    same transaction (`settlements.services.ledger`, the clearing chunk, the
    demo seeder), after taking the accounts' row locks in primary-key order;
    the audit checks it against the postings (finding `day_totals_mismatch`).
    """

    account = models.ForeignKey(
        LedgerAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="days",
        db_index=False,  # the unique (account, day) index serves every lookup by account
    )
    day = models.DateField(_("business day"))
    # fen: sum of the day's credits (positive postings)
    credits_fen = models.BigIntegerField(_("credits (fen)"), default=0)
    # fen: sum of the day's debits (negative postings), as a positive figure
    debits_fen = models.BigIntegerField(_("debits (fen)"), default=0)
    postings = models.BigIntegerField(_("postings"), default=0)

    merchant_scope = ("account__merchant",)

    class Meta:
        verbose_name = _("account day totals")
        verbose_name_plural = _("account day totals")
        ordering = ["account_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="one_total_per_account_day")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} · {self.day}"


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
        indexes = [models.Index(fields=["status", "business_date"], name="batch_status_date")]

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


class FeeSchedule(TimeStampedModel):
    """The exchange's commission rate (bps) for a board and delivery mode from a date.

    Invariant: for one (board, delivery mode) at most one row starts on a given
    day. The rate for an order is the most specific row in force on its
    business day: board and mode > board only > mode only > neither; among
    rows of one specificity the latest `effective_from` wins.
    """

    board = models.ForeignKey(
        "products.Board",
        verbose_name=_("trading board"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fee_schedules",
        help_text=_("Empty: any board."),
    )
    delivery_mode = models.CharField(
        _("delivery mode"),
        max_length=24,
        choices=DeliveryMode.choices,
        blank=True,
        help_text=_("Empty: any delivery mode."),
    )
    fee_bps = models.PositiveIntegerField(
        _("commission (bps)"), help_text=_("Basis points of the gross: 100 bps = 1 %.")
    )
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(
        _("in force until"),
        null=True,
        blank=True,
        help_text=_("First business day no longer covered; empty: open-ended."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    merchant_scope = PUBLIC

    class Meta:
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")
        ordering = ["-effective_from", "-id"]
        indexes = [
            models.Index(fields=["effective_from"], name="fee_effective_from"),
            models.Index(fields=["delivery_mode"], name="fee_delivery_mode"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(fee_bps__lte=10_000), name="fee_bps_at_most_whole"),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gt=models.F("effective_from")),
                name="fee_period_not_empty",
            ),
            models.UniqueConstraint(
                fields=["board", "delivery_mode", "effective_from"],
                condition=Q(board__isnull=False),
                name="one_fee_per_board_mode_day",
            ),
            models.UniqueConstraint(
                fields=["delivery_mode", "effective_from"],
                condition=Q(board__isnull=True),
                name="one_fee_per_any_board_mode_day",
            ),
        ]

    def __str__(self) -> str:
        board = self.board or _("any board")
        mode = self.get_delivery_mode_display() if self.delivery_mode else _("any mode")
        terms = _("%(bps)s bps from %(day)s") % {"bps": self.fee_bps, "day": self.effective_from}
        return f"{board} · {mode}: {terms}"


class ClearingChunk(models.Model):
    """One order-id range of a clearing batch, the unit a worker clears in one transaction.

    Invariant: a chunk is `done` exactly when its postings, balance moves and
    order updates are committed, in the same transaction; a crashed worker
    leaves it `pending`, so the run resumes where it stopped.
    """

    batch = models.ForeignKey(
        ClearingBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="chunks"
    )
    seq = models.PositiveIntegerField(_("sequence"))
    first_order_id = models.BigIntegerField(_("first order id"))
    last_order_id = models.BigIntegerField(_("last order id (inclusive)"))
    status = models.CharField(
        _("status"), max_length=16, choices=ChunkStatus.choices, default=ChunkStatus.PENDING
    )
    planned_orders = models.PositiveIntegerField(_("orders when planned"), default=0)
    cleared_orders = models.PositiveIntegerField(_("orders cleared"), default=0)
    entries_created = models.PositiveIntegerField(_("entries posted"), default=0)
    postings_created = models.PositiveIntegerField(_("postings written"), default=0)
    gross_fen = models.BigIntegerField(_("gross (fen)"), default=0)
    fee_fen = models.BigIntegerField(_("exchange fees (fen)"), default=0)
    share_fen = models.BigIntegerField(_("department shares (fen)"), default=0)
    net_fen = models.BigIntegerField(_("seller net (fen)"), default=0)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("planned at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When its task last reached the broker (empty: never did). The recovery
    # job queues a pending chunk again once this is older than its deadline.
    queued_at = models.DateTimeField(_("last queued at"), null=True, blank=True)
    times_queued = models.PositiveIntegerField(_("times queued"), default=0)

    merchant_scope = ()

    class Meta:
        verbose_name = _("clearing chunk")
        verbose_name_plural = _("clearing chunks")
        ordering = ["batch_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "seq"], name="one_chunk_per_batch_seq"),
            models.CheckConstraint(
                condition=Q(last_order_id__gte=models.F("first_order_id")),
                name="chunk_range_not_empty",
            ),
        ]
        indexes = [models.Index(fields=["batch", "status"], name="chunk_batch_status")]

    def __str__(self) -> str:
        return f"{self.batch} #{self.seq} [{self.first_order_id}..{self.last_order_id}]"


class Payout(TimeStampedModel):
    """结算 a payout instruction: what the exchange wires one merchant for one batch.

    Invariant: one per (batch, merchant). `amount_fen` = this batch's seller net
    + amounts carried in from earlier payouts under the minimum. A payout under
    `EXCHANGE_PAYOUT_MINIMUM_FEN` is `carried_over` into the merchant's next
    payout (`carried_into`); marking a pending payout paid posts payable ->
    bank clearing under the key "payout:<id>", once.
    """

    batch = models.ForeignKey(
        ClearingBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="payouts"
    )
    merchant = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.PROTECT,
        related_name="payouts",
    )
    # fen: the seller net this batch credited to the merchant's payable account
    net_fen = models.BigIntegerField(_("batch net (fen)"))
    # fen: earlier payouts under the minimum, rolled into this one
    carried_in_fen = models.BigIntegerField(_("carried in (fen)"), default=0)
    # fen: net + carried in; what the bank file pays
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    status = models.CharField(
        _("status"), max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    carried_into = models.ForeignKey(
        "self",
        verbose_name=_("carried into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="carried_from",
    )
    bank_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    merchant_scope = ("merchant",)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "merchant"], name="one_payout_per_batch"),
            models.CheckConstraint(
                condition=Q(net_fen__gte=0, carried_in_fen__gte=0)
                & Q(amount_fen=models.F("net_fen") + models.F("carried_in_fen")),
                name="payout_amount_adds_up",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status"], name="payout_merchant_status"),
            models.Index(fields=["status", "created_at"], name="payout_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} · {self.batch}"


class PayoutEvent(StatusEvent):
    subject = models.ForeignKey(
        Payout, verbose_name=_("payout"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__merchant",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("payout status change")
        verbose_name_plural = _("payout status changes")


class ProductCostLine(TimeStampedModel):
    """A cost a merchant booked against one of its products, for 数据资产入表.

    Invariant: the amount is >= 0 fen and the product belongs to the merchant
    entering it (enforced by scoping in the admin and the API).
    """

    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="cost_lines",
    )
    incurred_on = models.DateField(_("incurred on"))
    category = models.CharField(_("category"), max_length=16, choices=CostCategory.choices)
    # fen
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    description = models.CharField(_("description"), max_length=300, blank=True)

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("product cost line")
        verbose_name_plural = _("product cost lines")
        ordering = ["-incurred_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="cost_line_not_negative")
        ]
        indexes = [
            models.Index(fields=["product", "incurred_on"], name="cost_line_product_day"),
            models.Index(fields=["category"], name="cost_line_category"),
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.get_category_display()} · {self.incurred_on}"
