from django.db import models
from django.utils.translation import gettext_lazy as _


class TrustLevel(models.TextChoices):
    """How far the exchange relies on a partner's own review (登记互认)."""

    TRUSTED = "trusted", _("Trusted: listings published, registrations recognised")
    STANDARD = "standard", _("Standard: listings published, registrations not recognised")
    REVIEW_ALL = "review_all", _("Every listing goes to an operator's review first")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class RecordStatus(models.TextChoices):
    """A partner's listing as it stands in our market."""

    LISTED = "listed", _("Listed in our market")
    PENDING_REVIEW = "pending_review", _("Waiting for an operator's review")
    REFUSED = "refused", _("Refused")
    DELISTED = "delisted", _("Delisted (gone from the partner's catalog)")


# Any status may follow a change at the partner (a new version is judged
# afresh); an operator approves or refuses what waits for review.
RECORD_TRANSITIONS: dict[str, set[str]] = {
    RecordStatus.LISTED: {RecordStatus.PENDING_REVIEW, RecordStatus.REFUSED, RecordStatus.DELISTED},
    RecordStatus.PENDING_REVIEW: {RecordStatus.LISTED, RecordStatus.REFUSED, RecordStatus.DELISTED},
    RecordStatus.REFUSED: {RecordStatus.LISTED, RecordStatus.PENDING_REVIEW, RecordStatus.DELISTED},
    RecordStatus.DELISTED: {RecordStatus.LISTED, RecordStatus.PENDING_REVIEW, RecordStatus.REFUSED},
}


class PartnerGrade(models.TextChoices):
    """The classification grade a partner states (GB/T 43697 一般/重要/核心), or none."""

    GENERAL = "general", _("General")
    IMPORTANT = "important", _("Important")
    CORE = "core", _("Core")
    UNSTATED = "unstated", _("Not stated")


class RecognitionStatus(models.TextChoices):
    RECOGNISED = "recognised", _("Recognised")
    WITHDRAWN = "withdrawn", _("Withdrawn (no longer in the partner's catalog)")
