"""Partner exchanges, the harvest of their catalogs, and recognised registrations (登记互认)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import StatusEvent, TimeStampedModel
from interchange.choices import (
    PartnerGrade,
    RecognitionStatus,
    RecordStatus,
    RunStatus,
    TrustLevel,
)
from products.choices import DeliveryMode


class PartnerExchange(TimeStampedModel):
    """Another data exchange whose DCAT catalog we harvest, registered by an operator.

    Invariant: `last_good_run` is the latest run that read every page; the next
    run asks the partner only for what changed since that run started.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    catalog_url = models.URLField(_("catalog URL"), max_length=500, unique=True)
    changes_url = models.URLField(
        _("change feed URL"),
        max_length=500,
        blank=True,
        help_text=_("Where the partner lists delistings; without it every run reads everything."),
    )
    trust_level = models.CharField(
        _("trust level"), max_length=16, choices=TrustLevel.choices, default=TrustLevel.STANDARD
    )
    harvest_every_minutes = models.PositiveIntegerField(
        _("harvest every (minutes)"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(60 * 24 * 31)],
    )
    is_active = models.BooleanField(_("harvested"), default=True)
    last_good_run = models.ForeignKey(
        "interchange.HarvestRun",
        verbose_name=_("last good run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    merchant_scope = ()

    class Meta:
        verbose_name = _("partner exchange")
        verbose_name_plural = _("partner exchanges")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(harvest_every_minutes__gte=5), name="partner_harvest_interval_sane"
            )
        ]

    def __str__(self) -> str:
        return self.name


class HarvestRun(models.Model):
    """One harvest of one partner: what it asked for, what it found, what went wrong.

    `errors` lists {"where": page or record IRI, "reason": ...}; a refused
    record is counted and named there, and the run goes on.
    """

    partner = models.ForeignKey(
        PartnerExchange, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="runs"
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    full = models.BooleanField(_("full run"), default=False)
    changes_since = models.DateTimeField(_("changes since"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages read"), default=0)
    bytes_read = models.BigIntegerField(_("bytes read"), default=0)
    new_count = models.PositiveIntegerField(_("new"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    delisted_count = models.PositiveIntegerField(_("delisted"), default=0)
    refused_count = models.PositiveIntegerField(_("refused"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # Renewed at every page by the worker reading the run; a run `running` with
    # no heartbeat past EXCHANGE_JOBS_STALE_SECONDS lost its worker and is
    # resumed by interchange.services.harvest_runs_recover.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    # Which worker owns the run: the recovery's resume moves it on, and a
    # worker whose attempt is no longer the run's stops at its next page.
    attempt = models.PositiveIntegerField(_("attempt"), default=0)

    merchant_scope = ()

    class Meta:
        verbose_name = _("harvest run")
        verbose_name_plural = _("harvest runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["partner", "started_at"], name="harvest_run_partner")]

    def __str__(self) -> str:
        return f"{self.partner} {self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"


class PartnerRecord(TimeStampedModel):
    """A partner's dataset as harvested: the raw record, its hash, and our listing of it.

    Identity: the partner's dataset IRI, else its dct:identifier. The raw
    record is the dataset's description as canonical N-Triples; its SHA-256
    tells a real change from a re-read. Records are never deleted: one that
    vanishes from the partner is delisted.
    """

    partner = models.ForeignKey(
        PartnerExchange,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="records",
    )
    iri = models.URLField(_("partner's IRI"), max_length=500)
    identifier = models.CharField(_("partner's identifier"), max_length=200, blank=True)
    registration_number = models.CharField(
        _("partner's registration number"), max_length=64, blank=True, db_index=True
    )
    raw = models.TextField(_("raw record (N-Triples)"))
    content_hash = models.CharField(_("SHA-256 of the raw record"), max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=RecordStatus.choices, db_index=True
    )
    status_reason = models.TextField(_("why"), blank=True)
    title = models.CharField(_("title"), max_length=500)
    title_en = models.CharField(_("title in English"), max_length=500, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    summary_en = models.TextField(_("summary in English"), blank=True)
    publisher_name = models.CharField(_("publisher"), max_length=300, blank=True)
    publisher_credit_code = models.CharField(
        _("publisher's credit code"), max_length=18, blank=True, db_index=True
    )
    industry = models.ForeignKey(
        "products.Industry",
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="partner_records",
    )
    grade = models.CharField(
        _("classification grade"), max_length=16, choices=PartnerGrade.choices, db_index=True
    )
    delivery_mode = models.CharField(
        _("delivery mode"), max_length=24, choices=DeliveryMode.choices, db_index=True
    )
    tags = models.CharField(_("keywords"), max_length=1000, blank=True)
    landing_page = models.URLField(_("landing page at the partner"), max_length=500, blank=True)
    partner_modified = models.DateTimeField(_("modified at the partner"), null=True, blank=True)
    first_run = models.ForeignKey(
        HarvestRun,
        verbose_name=_("first harvested in"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_changed_run = models.ForeignKey(
        HarvestRun,
        verbose_name=_("last changed in"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    merchant_scope = ()

    class Meta:
        verbose_name = _("partner listing")
        verbose_name_plural = _("partner listings")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "iri"], name="partner_record_iri_unique")
        ]
        indexes = [
            models.Index(fields=["partner", "identifier"], name="partner_record_identifier"),
            models.Index(fields=["status", "updated_at", "id"], name="partner_record_status"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.partner})"

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]


class PartnerRecordEvent(StatusEvent):
    """A partner listing's status change in our market. Insert-only."""

    subject = models.ForeignKey(
        PartnerRecord, verbose_name=_("partner listing"), on_delete=models.PROTECT,
        related_name="events",
    )  # fmt: skip

    merchant_scope = ()

    class Meta(StatusEvent.Meta):
        verbose_name = _("partner listing status change")
        verbose_name_plural = _("partner listing status changes")


class RegistrationRecognition(TimeStampedModel):
    """登记互认: a product of ours recorded as already registered at a trusted partner.

    Invariant: made only after the partner's catalog was seen to list that
    registration number for the same provider (credit code); a product with a
    recognised registration goes through the shortened, compliance-only review.
    """

    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="registration_recognitions",
    )
    partner = models.ForeignKey(
        PartnerExchange,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="recognitions",
    )
    partner_record = models.ForeignKey(
        PartnerRecord,
        verbose_name=_("partner's listing it was checked against"),
        on_delete=models.PROTECT,
        related_name="recognitions",
    )
    registration_number = models.CharField(_("partner's registration number"), max_length=64)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RecognitionStatus.choices,
        default=RecognitionStatus.RECOGNISED,
    )
    requested_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("recognised registration")
        verbose_name_plural = _("recognised registrations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "partner"], name="one_recognition_per_product_and_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} = {self.partner} {self.registration_number}"
