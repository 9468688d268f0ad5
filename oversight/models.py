"""Audit sweeps, findings, the hash chain over recorded history, and statistics."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import StatusEvent
from oversight.choices import (
    FINDING_UNRESOLVED,
    AuditRunStatus,
    AuditTrigger,
    FindingKind,
    FindingStatus,
    Severity,
)


class AuditRun(models.Model):
    """One audit sweep over the whole exchange.

    Invariant: at most one run is `running` at a time (a partial unique
    constraint), so two sweeps never race on the same findings. A run only
    reads the exchange's data and writes findings; it never repairs anything.
    """

    trigger = models.CharField(
        _("started by"), max_length=16, choices=AuditTrigger.choices, default=AuditTrigger.SCHEDULE
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AuditRunStatus.choices,
        default=AuditRunStatus.QUEUED,
        db_index=True,
    )
    full_chain_verify = models.BooleanField(
        _("full chain verification"),
        default=False,
        help_text=_("Re-hash every sealed row instead of the rolling share."),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # kind -> number of problems this sweep saw (new or already known)
    counts = models.JSONField(_("problems per kind"), default=dict, blank=True)
    new_findings = models.PositiveIntegerField(_("new findings"), default=0)
    updated_findings = models.PositiveIntegerField(_("findings seen again"), default=0)
    seals_verified = models.PositiveIntegerField(_("chain seals verified"), default=0)
    # The chain's head when the run finished: the next run checks that this
    # seal is still there unchanged, so cutting seals off the end is noticed.
    chain_head_sequence = models.PositiveBigIntegerField(_("chain head"), null=True, blank=True)
    chain_head_digest = models.CharField(_("chain head digest"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    # When its task last reached the broker (empty: never did); the recovery
    # job queues a run still `queued` again once this is older than its deadline.
    queued_at = models.DateTimeField(_("last queued at"), null=True, blank=True)

    merchant_scope = ()

    class Meta:
        verbose_name = _("audit run")
        verbose_name_plural = _("audit runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=AuditRunStatus.RUNNING),
                name="one_audit_run_running",
            )
        ]

    def __str__(self) -> str:
        return str(
            _("audit #%(pk)s (%(status)s)") % {"pk": self.pk, "status": self.get_status_display()}
        )

    @property
    def total_problems(self) -> int:
        return sum(self.counts.values()) if self.counts else 0


class AuditFinding(models.Model):
    """One problem an audit sweep found, followed until an operator resolves it.

    Invariant: among unresolved findings (open or acknowledged) a fingerprint
    occurs once, so a problem seen by many sweeps is one finding whose
    `last_seen_at` moves; status changes only through oversight.services,
    each recorded as an AuditFindingEvent.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=FindingKind.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    # Stable name of the problem, such as "balance_mismatch:account:12"; the
    # same problem seen again yields the same fingerprint.
    fingerprint = models.CharField(_("fingerprint"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # The main object concerned, and every object concerned as
    # [{"model": "app.model", "id": n}, ...].
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("object type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    object_id = models.BigIntegerField(
        pgettext_lazy("audit finding", "object id"), null=True, blank=True
    )
    objects_concerned = models.JSONField(_("objects concerned"), default=list, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), db_index=True)
    last_seen_at = models.DateTimeField(_("last seen"), db_index=True)
    first_run = models.ForeignKey(
        AuditRun, verbose_name=_("first run"), on_delete=models.PROTECT, related_name="+"
    )
    last_run = models.ForeignKey(
        AuditRun,
        verbose_name=_("last run"),
        on_delete=models.PROTECT,
        related_name="findings_seen",
    )
    times_seen = models.PositiveIntegerField(_("times seen"), default=1)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    merchant_scope = ()

    class Meta:
        verbose_name = _("audit finding")
        verbose_name_plural = _("audit findings")
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=Q(status__in=FINDING_UNRESOLVED),
                name="one_unresolved_finding_per_fingerprint",
            )
        ]
        indexes = [
            models.Index(fields=["kind", "status"], name="finding_kind_status"),
            models.Index(fields=["severity", "status"], name="finding_severity_status"),
            models.Index(fields=["status", "last_seen_at"], name="finding_status_seen"),
            models.Index(fields=["content_type", "object_id"], name="finding_object"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class AuditFindingEvent(StatusEvent):
    """An audit finding's status change (open, acknowledged, resolved). Insert-only."""

    subject = models.ForeignKey(
        AuditFinding, verbose_name=_("finding"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ()

    class Meta(StatusEvent.Meta):
        verbose_name = _("audit finding status change")
        verbose_name_plural = _("audit finding status changes")


class ChainSeal(models.Model):
    """可追溯 one link of the hash chain over the exchange's recorded history.

    A seal covers a batch of rows of one table (an event table or the journal)
    with ids in [first_id, last_id]. `merkle_root` is the Merkle root of the
    rows' leaf hashes in id order; `digest` = sha256 of the previous seal's
    digest and this seal's fields (see oversight.services.chain), so changing,
    inserting or removing a covered row, or editing or dropping a seal, breaks
    every digest after it. Invariant: sequences are contiguous from 1, and for
    one table the seals' id ranges follow each other without overlap.
    """

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    table = models.CharField(_("covered table"), max_length=64, db_index=True)
    first_id = models.BigIntegerField(_("first id"))
    last_id = models.BigIntegerField(_("last id"))
    row_count = models.PositiveIntegerField(_("rows"))
    merkle_root = models.CharField(_("Merkle root"), max_length=64)
    previous_digest = models.CharField(_("previous digest"), max_length=64)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    sealed_at = models.DateTimeField(_("sealed at"), db_index=True)
    # Not part of the digest: when an audit last re-hashed the covered rows.
    verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)

    merchant_scope = ()

    class Meta:
        verbose_name = _("chain seal")
        verbose_name_plural = _("chain seals")
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["table", "first_id"], name="seal_table_range_once"),
            models.CheckConstraint(
                condition=Q(last_id__gte=models.F("first_id")), name="seal_range_not_empty"
            ),
        ]
        indexes = [
            models.Index(fields=["table", "last_id"], name="seal_table_last"),
            models.Index(fields=["verified_at"], name="seal_verified"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.table} [{self.first_id}..{self.last_id}]"


class StatsSnapshot(models.Model):
    """The exchange's statistics as computed by one refresh.

    The stats endpoint and the dashboard read only the latest snapshot, so
    they cost one indexed row read whatever the exchange's size. Invariant:
    `document` holds every figure of one refresh, computed in one transaction.
    """

    computed_at = models.DateTimeField(_("computed at"), db_index=True)
    duration_ms = models.PositiveIntegerField(_("took (ms)"), default=0)
    document = models.JSONField(_("figures"), default=dict)

    merchant_scope = ()

    class Meta:
        verbose_name = _("statistics snapshot")
        verbose_name_plural = _("statistics dashboard")
        ordering = ["-computed_at", "-id"]
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return str(_("statistics at %(at)s") % {"at": f"{self.computed_at:%Y-%m-%d %H:%M}"})
