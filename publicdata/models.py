from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choices import Region
from core.models import StatusEvent, TimeStampedModel
from core.scoping import PUBLIC
from products.choices import Grade
from publicdata.choices import (
    AssessmentVerdict,
    DepartmentLevel,
    GrantStatus,
    ScenarioPurpose,
    ScenarioStatus,
)


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
    grant is in force (pending, active or suspended) over any moment of time. On
    PostgreSQL an exclusion constraint, `grant_one_in_force_per_industry_department`,
    holds it (added by migration 0002 only on PostgreSQL, so it is not declared in
    Meta); on every database `publicdata.services.grant_create` checks first under a
    lock on the department row. The window is half-open: [valid_from, valid_until).
    The catalog entries covered all belong to the grant's department.
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
        indexes = [
            # behind the window filters (active at a date, overlapping a range)
            models.Index(fields=["valid_from", "valid_until"], name="grant_window_idx"),
            # the hourly expiry sweep looks for grants in force whose window ended
            models.Index(fields=["status", "valid_until"], name="grant_status_until_idx"),
        ]
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

    def covers(self, at) -> bool:
        """The moment `at` lies inside the grant's half-open window."""
        return self.valid_from <= at < self.valid_until


class GrantEvent(StatusEvent):
    """A grant's status change (activation, suspension, revocation, expiry). Insert-only."""

    subject = models.ForeignKey(
        Grant, verbose_name=_("grant"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__grantee",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("grant status change")
        verbose_name_plural = _("grant status changes")


class Scenario(TimeStampedModel):
    """应用场景 an application scenario under a grant.

    Invariant (一场景一评估一授权 one scenario, one assessment, one authorization):
    exactly one assessment, at most one authorization, issued only after a passing
    assessment and with a window inside the grant's. A failed assessment ends the
    scenario for good; trying again means proposing a new scenario. A public-interest
    scenario is served free of charge.
    """

    grant = models.ForeignKey(
        Grant, verbose_name=_("grant"), on_delete=models.PROTECT, related_name="scenarios"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=ScenarioPurpose.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ScenarioStatus.choices,
        default=ScenarioStatus.PROPOSED,
        db_index=True,
    )

    merchant_scope = ("grant__grantee",)

    class Meta:
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ScenarioEvent(StatusEvent):
    """A scenario's status change (assessed, failed, authorized, expired). Insert-only."""

    subject = models.ForeignKey(
        Scenario, verbose_name=_("scenario"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__grant__grantee",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("scenario status change")
        verbose_name_plural = _("scenario status changes")


class ScenarioAssessment(models.Model):
    """The one assessment (评估) of a scenario: who assessed it, when, what risks, verdict.

    Invariant: one per scenario (the one-to-one key), never replaced.
    """

    scenario = models.OneToOneField(
        Scenario,
        verbose_name=_("scenario"),
        on_delete=models.PROTECT,
        related_name="assessment",
    )
    assessor = models.CharField(
        _("assessor"), max_length=200, help_text=_("The body or expert panel that assessed.")
    )
    assessed_on = models.DateField(_("assessed on"))
    risk_findings = models.TextField(_("risk findings"))
    verdict = models.CharField(_("verdict"), max_length=8, choices=AssessmentVerdict.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    merchant_scope = ("scenario__grant__grantee",)

    class Meta:
        verbose_name = _("scenario assessment")
        verbose_name_plural = _("scenario assessments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.scenario} / {self.get_verdict_display()}"


class ScenarioAuthorization(models.Model):
    """The one authorization (授权) of a scenario, with its window.

    Invariant: one per scenario, only after a passing assessment, its half-open
    window [valid_from, valid_until) inside the grant's window.
    """

    scenario = models.OneToOneField(
        Scenario,
        verbose_name=_("scenario"),
        on_delete=models.PROTECT,
        related_name="authorization",
    )
    document_number = models.CharField(_("authorization document number"), max_length=60)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), db_index=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    merchant_scope = ("scenario__grant__grantee",)

    class Meta:
        verbose_name = _("scenario authorization")
        verbose_name_plural = _("scenario authorizations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="scenario_authorization_window_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_number} ({self.scenario})"

    def covers(self, at) -> bool:
        return self.valid_from <= at < self.valid_until
