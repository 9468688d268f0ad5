from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import StatusEvent, TimeStampedModel
from marketplace.choices import OrderStatus


class Order(TimeStampedModel):
    """An order from a buyer merchant for one pricing plan of a listed product.

    Invariants: the amount is computed by the server from the plan; the contract
    snapshot is frozen at order time; buyer and seller are different merchants.
    Clearing reads the denormalised columns (seller, board, delivery mode, grant's
    department and share) so that a business day clears in a few set-based statements.
    """

    number = models.CharField(_("order number"), max_length=32, unique=True)
    buyer = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("buyer"),
        on_delete=models.PROTECT,
        related_name="purchases",
    )
    seller = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("seller"),
        on_delete=models.PROTECT,
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
        "products.Board", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    delivery_mode = models.CharField(_("delivery mode"), max_length=24)
    grant = models.ForeignKey(
        "publicdata.Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    scenario = models.ForeignKey(
        "publicdata.Scenario",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    department = models.ForeignKey(
        "publicdata.Department",
        null=True,
        blank=True,
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
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )

    merchant_scope = ("buyer", "seller")

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            # clearing picks a day's accepted orders by this index
            models.Index(fields=["status", "accepted_at"], name="order_clearing_pick"),
            models.Index(fields=["buyer", "created_at"], name="order_buyer_created"),
            models.Index(fields=["seller", "created_at"], name="order_seller_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(buyer=models.F("seller")), name="order_buyer_is_not_seller"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=0)
                & models.Q(refunded_fen__gte=0)
                & models.Q(refunded_fen__lte=models.F("amount_fen")),
                name="order_amounts_sane",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderEvent(StatusEvent):
    subject = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__buyer", "subject__seller")

    class Meta(StatusEvent.Meta):
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
