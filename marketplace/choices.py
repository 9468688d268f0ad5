from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    PAID = "paid", _("Paid (in escrow)")
    DELIVERED = "delivered", _("Delivered")
    ACCEPTED = "accepted", _("Accepted")
    CLEARED = "cleared", _("Cleared")
    SETTLED = "settled", _("Settled")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


# The legal status moves of an order. Clearing (settlements) relies on
# ACCEPTED -> CLEARED and CLEARED -> SETTLED. A refund is possible until the
# order is cleared; a partial refund keeps the status, a full one ends in
# REFUNDED. A dispute is a flag (Order.is_disputed), not a status, so that it
# can be opened on a delivered order and frozen orders keep their place.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.DELIVERED, OrderStatus.REFUNDED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.ACCEPTED, OrderStatus.REFUNDED}),
    OrderStatus.ACCEPTED: frozenset({OrderStatus.CLEARED, OrderStatus.REFUNDED}),
    OrderStatus.CLEARED: frozenset({OrderStatus.SETTLED}),
    OrderStatus.SETTLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

# Statuses in which money sits in the buyer's escrow and may still be refunded.
REFUNDABLE_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.ACCEPTED})


class DisputeOutcome(models.TextChoices):
    """How an operator settles a dispute."""

    RELEASE = "release", _("Release to the seller")
    REFUND = "refund", _("Refund the buyer")
    SPLIT = "split", _("Split: partial refund, the rest released")


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested by the buyer")
    COMPLETED = "completed", _("Refunded")
    DECLINED = "declined", _("Declined")


# A refund starts requested (by the buyer, or by the seller or an operator who
# decides it at once) and is decided once: completed or declined.
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    RefundStatus.REQUESTED: frozenset({RefundStatus.COMPLETED, RefundStatus.DECLINED}),
    RefundStatus.COMPLETED: frozenset(),
    RefundStatus.DECLINED: frozenset(),
}


class UsageSource(models.TextChoices):
    """Who measured a usage record: bills and statements say which."""

    GATEWAY = "gateway", _("Measured by the exchange's gateway")
    SELLER = "seller", _("Reported by the seller")


class PaymentOutcome(models.TextChoices):
    """What a payment-channel notification did, kept for the audit trail."""

    PAID = "paid", _("Order paid")
    DUPLICATE = "duplicate", _("Already paid: nothing changed")
