from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    LISTED = "listed", _("Listed")
    SUSPENDED = "suspended", _("Suspended")
    DELISTED = "delisted", _("Delisted")


class DataSourceKind(models.TextChoices):
    OWN = "own", _("Enterprise's own data")
    CONSENT = "consent", _("Collected with consent")
    PUBLIC = "public", _("Public data under an authorized-operation grant")


class Grade(models.TextChoices):
    """数据分类分级: core data is never traded; important data needs two reviewers."""

    GENERAL = "general", _("General")
    IMPORTANT = "important", _("Important")
    CORE = "core", _("Core")


class DeliveryMode(models.TextChoices):
    FILE = "file", _("File data set")
    API = "api", _("API")
    REPORT = "report", _("Data report")
    MODEL = "model", _("Model")
    PRIVACY_COMPUTING = "privacy_computing", _("Privacy-computing service")


class PlanKind(models.TextChoices):
    FREE = "free", _("Free")
    ONE_OFF = "one_off", _("One-off")
    SUBSCRIPTION = "subscription", _("Subscription")
    METERED = "metered", _("Metered per call")


class SubscriptionPeriod(models.TextChoices):
    MONTH = "month", _("Monthly")
    QUARTER = "quarter", _("Quarterly")
    YEAR = "year", _("Yearly")


# Listing lifecycle. A rejected review sends the product back to draft with the
# reviewer's comments on the review record; delisting is final.
PRODUCT_TRANSITIONS: dict[str, set[str]] = {
    ProductStatus.DRAFT: {ProductStatus.SUBMITTED},
    ProductStatus.SUBMITTED: {ProductStatus.IN_REVIEW, ProductStatus.DRAFT},
    ProductStatus.IN_REVIEW: {ProductStatus.LISTED, ProductStatus.DRAFT},
    ProductStatus.LISTED: {ProductStatus.SUSPENDED, ProductStatus.DELISTED},
    ProductStatus.SUSPENDED: {ProductStatus.LISTED, ProductStatus.DELISTED},
    ProductStatus.DELISTED: set(),
}


class SuspensionCause(models.TextChoices):
    """Why a product is suspended, so that lifting one cause does not lift another."""

    OPERATOR = "operator", _("Operator decision")
    MERCHANT = "merchant", _("Provider suspended or exited")
    GRANT = "grant", _("Grant or scenario not in force")
