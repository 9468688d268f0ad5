from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.choices import OrderStatus


class FindingKind(models.TextChoices):
    """What an audit check found wrong. Each check reports one kind."""

    ENTRY_UNBALANCED = "entry_unbalanced", _("Journal entry does not sum to zero")
    LEDGER_UNBALANCED = "ledger_unbalanced", _("Ledger as a whole does not sum to zero")
    BALANCE_MISMATCH = "balance_mismatch", _("Account balance differs from its postings")
    DAY_TOTALS_MISMATCH = "day_totals_mismatch", _("Account's day totals differ from its postings")
    ESCROW_MISMATCH = "escrow_mismatch", _("Escrow differs from paid, uncleared orders")
    CLEARING_POSTINGS = "clearing_postings", _("Cleared order without exactly one clearing")
    PUBLIC_DATA_NOT_IN_FORCE = (
        "public_data_not_in_force",
        _("Listed public-data product whose grant or scenario is not in force"),
    )
    SELF_DEALING = "self_dealing", _("Buyer and seller are the same party")
    CIRCULAR_TRADE = "circular_trade", _("Two merchants sell to each other")
    AMOUNT_MISMATCH = "amount_mismatch", _("Order amount differs from the plan's price")
    STUCK_ORDER = "stuck_order", _("Order stuck in a state beyond its time limit")
    CHAIN_BROKEN = "chain_broken", _("Hash chain broken: a recorded row was changed or removed")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


# How bad each kind is. Money that does not add up and a broken chain are
# critical: they mean the books or the history can no longer be trusted.
KIND_SEVERITY: dict[str, str] = {
    FindingKind.ENTRY_UNBALANCED: Severity.CRITICAL,
    FindingKind.LEDGER_UNBALANCED: Severity.CRITICAL,
    FindingKind.BALANCE_MISMATCH: Severity.CRITICAL,
    FindingKind.DAY_TOTALS_MISMATCH: Severity.CRITICAL,
    FindingKind.ESCROW_MISMATCH: Severity.CRITICAL,
    FindingKind.CLEARING_POSTINGS: Severity.CRITICAL,
    FindingKind.CHAIN_BROKEN: Severity.CRITICAL,
    FindingKind.PUBLIC_DATA_NOT_IN_FORCE: Severity.HIGH,
    FindingKind.SELF_DEALING: Severity.HIGH,
    FindingKind.AMOUNT_MISMATCH: Severity.HIGH,
    FindingKind.CIRCULAR_TRADE: Severity.MEDIUM,
    FindingKind.STUCK_ORDER: Severity.MEDIUM,
}


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


FINDING_TRANSITIONS: dict[str, set[str]] = {
    FindingStatus.OPEN: {FindingStatus.ACKNOWLEDGED, FindingStatus.RESOLVED},
    FindingStatus.ACKNOWLEDGED: {FindingStatus.RESOLVED},
    FindingStatus.RESOLVED: set(),
}

# A finding in these statuses is "live": a later sweep updates it instead of
# opening a second one for the same fingerprint.
FINDING_UNRESOLVED = (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED)


class AuditRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


class AuditTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Scheduled (beat)")
    OPERATOR = "operator", _("Started by an operator")
    DEMO = "demo", _("Demo seeding")


# How long an order may sit in a state before the audit calls it stuck:
# status -> (timestamp column the clock starts from, days allowed). The
# delivered limit is the auto-accept period plus two days of slack, read from
# settings at audit time (see oversight.services.audit.stuck_order_limits).
ORDER_STATE_LIMITS: dict[str, tuple[str, int]] = {
    OrderStatus.PENDING_PAYMENT: ("created_at", 2),
    OrderStatus.PAID: ("paid_at", 14),
    OrderStatus.DELIVERED: ("delivered_at", 2),  # + EXCHANGE_AUTO_ACCEPT_DAYS
    OrderStatus.ACCEPTED: ("accepted_at", 3),
}
