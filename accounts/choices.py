from django.db import models
from django.utils.translation import gettext_lazy as _


class MerchantStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    EXITED = "exited", _("Exited")


MERCHANT_TRANSITIONS: dict[str, set[str]] = {
    MerchantStatus.APPLIED: {MerchantStatus.ACTIVE, MerchantStatus.EXITED},
    MerchantStatus.ACTIVE: {MerchantStatus.SUSPENDED, MerchantStatus.EXITED},
    MerchantStatus.SUSPENDED: {MerchantStatus.ACTIVE, MerchantStatus.EXITED},
    MerchantStatus.EXITED: set(),
}


class MerchantKind(models.TextChoices):
    """The kinds of 数商 the report names; a merchant may be several."""

    SUPPLIER = "supplier", _("Data supplier")
    TECHNICAL = "technical", _("Technical")
    APPLICATION = "application", _("Application")
    SERVICE = "service", _("Service")


# Kind -> the boolean column that stores it (indexable on every database).
KIND_FIELDS = {
    MerchantKind.SUPPLIER: "is_supplier",
    MerchantKind.TECHNICAL: "is_technical",
    MerchantKind.APPLICATION: "is_application",
    MerchantKind.SERVICE: "is_service",
}


class Region(models.TextChoices):
    """Hunan's 14 cities and prefectures (市州), keyed by administrative division code."""

    CHANGSHA = "430100", _("Changsha")
    ZHUZHOU = "430200", _("Zhuzhou")
    XIANGTAN = "430300", _("Xiangtan")
    HENGYANG = "430400", _("Hengyang")
    SHAOYANG = "430500", _("Shaoyang")
    YUEYANG = "430600", _("Yueyang")
    CHANGDE = "430700", _("Changde")
    ZHANGJIAJIE = "430800", _("Zhangjiajie")
    YIYANG = "430900", _("Yiyang")
    CHENZHOU = "431000", _("Chenzhou")
    YONGZHOU = "431100", _("Yongzhou")
    HUAIHUA = "431200", _("Huaihua")
    LOUDI = "431300", _("Loudi")
    XIANGXI = "433100", _("Xiangxi Tujia and Miao Autonomous Prefecture")


class MerchantRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    STAFF = "staff", _("Staff")


class ApplicationStatus(models.TextChoices):
    """Where a company's application to join the exchange (入驻申请) stands."""

    SUBMITTED = "submitted", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected, awaiting correction")


APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    ApplicationStatus.SUBMITTED: {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED},
    # A rejected company corrects its application and sends it again.
    ApplicationStatus.REJECTED: {ApplicationStatus.SUBMITTED},
    ApplicationStatus.APPROVED: set(),
}
