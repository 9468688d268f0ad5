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
