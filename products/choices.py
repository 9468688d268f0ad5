from django.db import models
from django.utils.functional import Promise
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


class DataTheme(models.TextChoices):
    """The EU Data Theme vocabulary DCAT-AP asks catalogs to classify by.

    Each industry maps to the theme that fits best, so a partner catalog can
    browse our products by a scheme it already knows.
    """

    AGRICULTURE = "AGRI", _("Agriculture, fisheries, forestry and food")
    ECONOMY = "ECON", _("Economy and finance")
    EDUCATION = "EDUC", _("Education, culture and sport")
    ENERGY = "ENER", _("Energy")
    ENVIRONMENT = "ENVI", _("Environment")
    GOVERNMENT = "GOVE", _("Government and public sector")
    HEALTH = "HEAL", _("Health")
    INTERNATIONAL = "INTR", _("International issues")
    JUSTICE = "JUST", _("Justice, legal system and public safety")
    REGIONS = "REGI", _("Regions and cities")
    POPULATION = "SOCI", _("Population and society")
    SCIENCE = "TECH", _("Science and technology")
    TRANSPORT = "TRAN", _("Transport")


class DeliveryMode(models.TextChoices):
    FILE = "file", _("File data set")
    API = "api", _("API")
    REPORT = "report", _("Data report")
    MODEL = "model", _("Model")
    PRIVACY_COMPUTING = "privacy_computing", _("Privacy-computing service")


# Delivery modes that are a service answering requests (DCAT: dcat:DataService)
# rather than a body of data handed over (dcat:Dataset with a distribution).
SERVICE_DELIVERY_MODES = frozenset({DeliveryMode.API, DeliveryMode.PRIVACY_COMPUTING})


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

# Statuses in which a product is (or was) on the exchange and has a registration number.
ON_EXCHANGE = (ProductStatus.LISTED, ProductStatus.SUSPENDED)


class RevisionStatus(models.TextChoices):
    """A proposed new version of a listed product, reviewed like a first listing."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved (now the listed version)")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A rejected revision goes back to draft, as a rejected product does; an
# approved one has become the listed version; a withdrawn one is abandoned.
REVISION_TRANSITIONS: dict[str, set[str]] = {
    RevisionStatus.DRAFT: {RevisionStatus.SUBMITTED, RevisionStatus.WITHDRAWN},
    RevisionStatus.SUBMITTED: {
        RevisionStatus.IN_REVIEW,
        RevisionStatus.DRAFT,
        RevisionStatus.WITHDRAWN,
    },
    RevisionStatus.IN_REVIEW: {
        RevisionStatus.APPROVED,
        RevisionStatus.DRAFT,
        RevisionStatus.WITHDRAWN,
    },
    RevisionStatus.APPROVED: set(),
    RevisionStatus.WITHDRAWN: set(),
}

OPEN_REVISION_STATUSES = (
    RevisionStatus.DRAFT,
    RevisionStatus.SUBMITTED,
    RevisionStatus.IN_REVIEW,
)


class Verdict(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the merchant")


# The reviewer ticks every item before approving; a rejection may leave items
# unticked, and the comments say what to fix.
COMPLIANCE_CHECKLIST: dict[str, str | Promise] = {
    "source_lawful": _("The data source is lawful and documented"),
    "personal_information": _("No personal information without consent or anonymisation"),
    "grade_confirmed": _("The classification grade is confirmed"),
    "usage_restrictions": _("Usage restrictions are stated and lawful"),
    "public_data_rules": _("Public data: grant, raw data stays in its domain (or not public)"),
}
QUALITY_CHECKLIST: dict[str, str | Promise] = {
    "manual_complete": _("Every section of the product manual is filled in"),
    "sample_matches": _("The sample matches the described content and fields"),
    "coverage_stated": _("Coverage period, region and update frequency are stated"),
    "pricing_clear": _("Pricing plans are clear and consistent"),
}


class SuspensionCause(models.TextChoices):
    """Why a product is suspended, so that lifting one cause does not lift another."""

    OPERATOR = "operator", _("Operator decision")
    MERCHANT = "merchant", _("Provider suspended or exited")
    GRANT = "grant", _("Grant or scenario not in force")
