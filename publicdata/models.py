from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choices import Region
from core.models import StatusEvent, TimeStampedModel
from core.scoping import PUBLIC
from products.choices import Grade
from publicdata.choices import DepartmentLevel, GrantStatus, ScenarioPurpose


class Department(models.Model):
    """A government unit that holds public data (the data holder)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=DepartmentLevel.choices)
    region = models.CharField(_("region"), max_length=6, choices=Region.choices, blank=True)

    merchant_scope = PUBLIC

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CatalogEntry(models.Model):
    """数据目录 a data resource a department has registered; the unit a grant covers."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="entries"
    )
    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    fields = models.TextField(_("fields"), blank=True)
    grade = models.CharField(
        _("grade"), max_length=16, choices=Grade.choices, default=Grade.GENERAL
    )
    update_frequency = models.CharField(_("update frequency"), max_length=60, blank=True)

    merchant_scope = PUBLIC

    class Meta:
        verbose_name = _("data catalog entry")
        verbose_name_plural = _("data catalog entries")
        ordering = ["department_id", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Grant(TimeStampedModel):
    """公共数据授权运营 a department's grant to one operator for one industry.

    Invariant (一行业一部门一授权): for one industry and one department, at most one
    grant is in force over any moment of time; the database enforces it.
    """

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="grants"
    )
    industry = models.ForeignKey(
        "products.Industry",
        verbose_name=_("industry"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    grantee = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("grantee (operator)"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    entries = models.ManyToManyField(
        CatalogEntry, verbose_name=_("catalog entries covered"), related_name="grants", blank=True
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    revenue_share_bps = models.PositiveIntegerField(
        _("department revenue share (basis points)"), default=0
    )
    # fen: no plan of a product under this grant may cost more
    fee_ceiling_fen = models.BigIntegerField(_("fee ceiling (fen)"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=GrantStatus.choices,
        default=GrantStatus.PENDING,
        db_index=True,
    )

    merchant_scope = ("grantee",)

    class Meta:
        verbose_name = _("authorization grant")
        verbose_name_plural = _("authorization grants")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="grant_window_not_empty",
            ),
            models.CheckConstraint(
                condition=models.Q(revenue_share_bps__lte=10_000)
                & models.Q(fee_ceiling_fen__gte=0),
                name="grant_share_and_ceiling_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} / {self.industry} -> {self.grantee}"


class GrantEvent(StatusEvent):
    subject = models.ForeignKey(
        Grant, verbose_name=_("grant"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__grantee",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("grant status change")
        verbose_name_plural = _("grant status changes")


class Scenario(TimeStampedModel):
    """应用场景 an application scenario under a grant (一场景一评估一授权)."""

    grant = models.ForeignKey(
        Grant, verbose_name=_("grant"), on_delete=models.PROTECT, related_name="scenarios"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=ScenarioPurpose.choices)

    merchant_scope = ("grant__grantee",)

    class Meta:
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
