from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    """Ledger accounts. Balances are credit-positive: what the exchange owes the holder.

    Merchant, department and fee-income balances are >= 0 in normal operation;
    bank clearing is the counterpart for money entering and leaving the
    exchange's bank account, so money held shows there as a negative balance.
    """

    MERCHANT_AVAILABLE = "merchant_available", _("Merchant: available")
    MERCHANT_ESCROW = "merchant_escrow", _("Merchant: escrow")
    MERCHANT_PAYABLE = "merchant_payable", _("Merchant: payable")
    EXCHANGE_FEE = "exchange_fee", _("Exchange fee income")
    DEPARTMENT_SHARE = "department_share", _("Department revenue share payable")
    BANK_CLEARING = "bank_clearing", _("Bank clearing")


MERCHANT_ACCOUNT_KINDS = (
    AccountKind.MERCHANT_AVAILABLE,
    AccountKind.MERCHANT_ESCROW,
    AccountKind.MERCHANT_PAYABLE,
)
EXCHANGE_ACCOUNT_KINDS = (AccountKind.EXCHANGE_FEE, AccountKind.BANK_CLEARING)


class EntryPurpose(models.TextChoices):
    PAYMENT = "payment", _("Payment into escrow")
    REFUND = "refund", _("Refund from escrow")
    CLEARING = "clearing", _("Clearing")
    PAYOUT = "payout", _("Payout")
    DISPUTE = "dispute", _("Dispute resolution")
    REVERSAL = "reversal", _("Reversal")
    ADJUSTMENT = "adjustment", _("Adjustment")


class ClearingStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPUTED = "computed", _("Computed")
    CONFIRMED = "confirmed", _("Confirmed")
    SETTLED = "settled", _("Settled")


CLEARING_TRANSITIONS: dict[str, set[str]] = {
    ClearingStatus.RUNNING: {ClearingStatus.COMPUTED},
    ClearingStatus.COMPUTED: {ClearingStatus.CONFIRMED, ClearingStatus.RUNNING},
    ClearingStatus.CONFIRMED: {ClearingStatus.SETTLED},
    ClearingStatus.SETTLED: set(),
}


class ChunkStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Pending (in the bank file)")
    PAID = "paid", _("Paid")
    CARRIED_OVER = "carried_over", _("Carried over (under the minimum)")


PAYOUT_TRANSITIONS: dict[str, set[str]] = {
    PayoutStatus.PENDING: {PayoutStatus.PAID},
    PayoutStatus.CARRIED_OVER: set(),
    PayoutStatus.PAID: set(),
}


class CostCategory(models.TextChoices):
    """Cost lines a merchant books against a product for 数据资产入表."""

    ACQUISITION = "acquisition", _("Data acquisition")
    PROCESSING = "processing", _("Processing and labelling")
    STORAGE = "storage", _("Storage")
    COMPUTE = "compute", _("Compute")
    LABOUR = "labour", _("Labour")
    COMPLIANCE = "compliance", _("Compliance and assessment")
    OTHER = "other", _("Other")
