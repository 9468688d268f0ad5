from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import StatusEvent, TimeStampedModel, event_actor_field
from marketplace.choices import (
    DisputeOutcome,
    OrderStatus,
    PaymentOutcome,
    RefundStatus,
    UsageSource,
)
from products.choices import DeliveryMode


class Order(TimeStampedModel):
    """An order from a buyer merchant for one pricing plan of a listed product.

    Invariants: the amount is computed by the server from the plan; the contract
    snapshot is frozen at order time; buyer and seller are different merchants.
    Clearing reads the denormalised columns (seller, board, delivery mode, grant's
    department and share) so that a business day clears in a few set-based statements.
    """

    # Unique through Meta.constraints: the same index, without the pattern (LIKE)
    # index PostgreSQL adds for unique=True, which no lookup uses (numbers are
    # found whole, or searched anywhere in them) and every order pays for.
    number = models.CharField(_("order number"), max_length=32)
    # Indexed by (buyer, created_at) and (seller, created_at) below: a single-column
    # index too would only add work to every status change, clearing's above all.
    buyer = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("buyer"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="purchases",
    )
    seller = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("seller"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="sales",
    )
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    plan = models.ForeignKey(
        "products.PricingPlan",
        verbose_name=_("plan"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    quantity = models.PositiveIntegerField(_("quantity or periods"), default=1)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    # fen: what the buyer pays, computed by the server
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    # fen: refunded to the buyer so far; clearing takes amount - refunded
    refunded_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_PAYMENT,
    )
    is_disputed = models.BooleanField(
        _("open dispute"), default=False, help_text=_("An open dispute freezes clearing.")
    )
    contract = models.JSONField(_("contract snapshot"), default=dict)
    board = models.ForeignKey(
        "products.Board",
        verbose_name=_("board"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    delivery_mode = models.CharField(
        _("delivery mode"), max_length=24, choices=DeliveryMode.choices
    )
    # Public-data links are empty on most orders: partial indexes (below) hold
    # only the orders that have them.
    grant = models.ForeignKey(
        "publicdata.Grant",
        verbose_name=_("grant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    scenario = models.ForeignKey(
        "publicdata.Scenario",
        verbose_name=_("scenario"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    department = models.ForeignKey(
        "publicdata.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text=_("The data holder paid a revenue share, for public-data products."),
    )
    department_share_bps = models.PositiveIntegerField(_("department share (bps)"), default=0)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    clearing_batch = models.ForeignKey(
        "settlements.ClearingBatch",
        verbose_name=_("clearing batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        # Not indexed (see Meta.indexes): a batch's orders are found by its day's
        # acceptance times (order_clearing_pick), as orders_settle does.
        db_index=False,
    )
    delivery_note = models.TextField(
        _("delivery note"), blank=True, help_text=_("What the seller delivered and where.")
    )
    renewal_of = models.OneToOneField(
        "self",
        verbose_name=_("renews order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal",
        help_text=_("The subscription order this one continues; one renewal per order."),
    )
    billed_month = models.DateField(
        _("billed month"),
        null=True,
        blank=True,
        help_text=_("Metered orders: the first day of the month whose usage this order bills."),
    )

    merchant_scope = ("buyer", "seller")

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The three picks below leave status out of every index, and the
            # clearing batch is not indexed either: clearing and settling then
            # change no indexed column, so PostgreSQL rewrites a million orders
            # in place on their own pages (HOT, given the table's fillfactor)
            # instead of adding an entry to each of the table's indexes.
            # Clearing picks a day's accepted orders by acceptance time.
            models.Index(
                fields=["accepted_at"],
                name="order_clearing_pick",
                condition=models.Q(accepted_at__isnull=False),
            ),
            models.Index(
                fields=["grant"], name="order_grant", condition=models.Q(grant__isnull=False)
            ),
            models.Index(
                fields=["scenario"],
                name="order_scenario",
                condition=models.Q(scenario__isnull=False),
            ),
            models.Index(
                fields=["department"],
                name="order_department",
                condition=models.Q(department__isnull=False),
            ),
            models.Index(fields=["buyer", "created_at"], name="order_buyer_created"),
            models.Index(fields=["seller", "created_at"], name="order_seller_created"),
            # behind the operators' paid-date and amount filters
            models.Index(fields=["paid_at"], name="order_paid_at"),
            models.Index(fields=["amount_fen"], name="order_amount"),
            # auto-acceptance picks delivered, not yet accepted orders by delivery time
            models.Index(
                fields=["delivered_at"],
                name="order_accept_pick",
                condition=models.Q(delivered_at__isnull=False, accepted_at__isnull=True),
            ),
            # renewal picks subscriptions by the end of their period
            models.Index(
                fields=["period_end"],
                name="order_renewal_pick",
                condition=models.Q(period_end__isnull=False),
            ),
            # the operators' "open disputes" filter: few rows, so a partial index
            models.Index(
                fields=["created_at"],
                condition=models.Q(is_disputed=True),
                name="order_disputed",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="one_order_per_number"),
            models.CheckConstraint(
                condition=~models.Q(buyer=models.F("seller")), name="order_buyer_is_not_seller"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=0)
                & models.Q(refunded_fen__gte=0)
                & models.Q(refunded_fen__lte=models.F("amount_fen")),
                name="order_amounts_sane",
            ),
            # the monthly usage bill is made once per (plan, buyer, month)
            models.UniqueConstraint(
                fields=["plan", "buyer", "billed_month"],
                condition=models.Q(billed_month__isnull=False),
                name="order_one_usage_bill_per_month",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def escrow_fen(self) -> int:
        """fen still held in the buyer's escrow for this order (until clearing)."""
        if self.status in (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.ACCEPTED):
            return self.amount_fen - self.refunded_fen
        return 0


class OrderEvent(StatusEvent):
    """An order's status change. The busiest event table: two rows or more per
    order, a million at each night's clearing, nearly all by the system itself.
    So it keeps only the indexes it is read by: by order, and by the person who
    made a change (never the system's, actor NULL); events are sealed and
    listed by id, never looked up by time."""

    subject = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="events"
    )
    actor = event_actor_field(db_index=False)  # the partial index below: people's changes only
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    merchant_scope = ("subject__buyer", "subject__seller")

    class Meta(StatusEvent.Meta):
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
        indexes = [
            models.Index(
                fields=["actor"], name="order_event_actor", condition=models.Q(actor__isnull=False)
            )
        ]


class OrderIdempotencyKey(models.Model):
    """The answer given to one order-creation request, replayed for retries.

    Invariant: one row per (buyer merchant, key); a retry with the same body
    gets the stored status and body, another body is refused. Kept at least
    24 hours (the purge task deletes older rows).
    """

    merchant = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        related_name="order_idempotency_keys",
    )
    key = models.CharField(_("idempotency key"), max_length=100)
    # sha256 of the canonical JSON of the request body
    request_hash = models.CharField(_("request hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True)
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="idempotency_keys",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    merchant_scope = ("merchant",)

    class Meta:
        verbose_name = _("order idempotency key")
        verbose_name_plural = _("order idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="order_idem_key_per_merchant")
        ]

    def __str__(self) -> str:
        return self.key


class PaymentNotification(models.Model):
    """One accepted notification from the payment channel.

    Invariant: the nonce is unique, so a captured notification replayed later
    is refused; the row is written in the same transaction as the payment.
    """

    nonce = models.CharField(_("nonce"), max_length=64, unique=True)
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="payment_notifications",
    )
    channel_reference = models.CharField(_("channel transaction reference"), max_length=64)
    # fen: what the channel says it collected
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    sent_at = models.DateTimeField(_("sent at (channel clock)"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=PaymentOutcome.choices)

    merchant_scope = ()

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel_reference} ({self.nonce})"


class Refund(models.Model):
    """A refund of part or all of an order's escrow back to the buyer.

    Invariant: completed refunds of an order never add up to more than its
    amount (Order.refunded_fen carries the running total under the row lock);
    each completed refund posts exactly one ledger entry keyed by its id.
    """

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="refunds"
    )
    # fen: asked for, or refunded once completed
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    merchant_scope = ("order__buyer", "order__seller")

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="refund_positive")
        ]

    def __str__(self) -> str:
        from core.formatting import format_yuan

        return f"{self.order} {self._meta.verbose_name} {format_yuan(self.amount_fen)}"


class RefundEvent(StatusEvent):
    subject = models.ForeignKey(
        Refund, verbose_name=_("refund"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__order__buyer", "subject__order__seller")

    class Meta(StatusEvent.Meta):
        verbose_name = _("refund status change")
        verbose_name_plural = _("refund status changes")


class Dispute(models.Model):
    """A buyer's dispute over a delivered order; while open it freezes clearing.

    Invariant: at most one open dispute per order (the database enforces it),
    and Order.is_disputed is True exactly while one is open.
    """

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="disputes"
    )
    reason = models.TextField(_("reason"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True, db_index=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=DisputeOutcome.choices, blank=True
    )
    # fen: what the resolution returned to the buyer
    refund_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    merchant_scope = ("order__buyer", "order__seller")

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(outcome=""), name="one_open_dispute_per_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order} {self._meta.verbose_name}"


class UsageRecord(models.Model):
    """Calls a buyer made to a metered product, reported by the seller's gateway.

    Invariant: (seller, record id) is unique, so a gateway may resend a record
    safely; a record is billed into at most one order.
    """

    seller = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("seller"),
        on_delete=models.PROTECT,
        related_name="usage_reported",
    )
    buyer = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("buyer"),
        on_delete=models.PROTECT,
        related_name="usage_made",
    )
    plan = models.ForeignKey(
        "products.PricingPlan",
        verbose_name=_("plan"),
        on_delete=models.PROTECT,
        related_name="usage_records",
    )
    record_id = models.CharField(_("gateway record id"), max_length=64)
    calls = models.PositiveIntegerField(_("calls"))
    # Products served through the exchange's gateway are billed from its counts
    # (delivery.services.gateway); the seller's own reports are labelled as such.
    source = models.CharField(
        _("measured by"), max_length=16, choices=UsageSource.choices, default=UsageSource.SELLER
    )
    used_at = models.DateTimeField(_("used at"))
    billed_order = models.ForeignKey(
        Order,
        verbose_name=_("billed order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="usage_records",
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)

    merchant_scope = ("seller", "buyer")

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the monthly bill groups a month's unbilled usage per (plan, buyer)
            models.Index(fields=["used_at", "plan", "buyer"], name="usage_billing_pick"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["seller", "record_id"], name="usage_record_once"),
            models.CheckConstraint(
                condition=~models.Q(buyer=models.F("seller")), name="usage_buyer_is_not_seller"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.calls}"
