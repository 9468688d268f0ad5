"""Delivered files, their uploads, download grants and the download log.

Files are stored encrypted (see delivery/crypto.py) through the "deliverables"
storage alias, as parts of `chunk_bytes` plain bytes each:
`<file_id>/<part number>`. Nothing here is ever served straight from storage.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import StatusEvent
from delivery.choices import UploadStatus


class Deliverable(models.Model):
    """One version of a product's delivered file, as it arrived at the exchange.

    Invariants: the content, its SHA-256 and size are fixed once written; a new
    upload for the product makes the next version and marks this one
    superseded, it never replaces it; (product, version) is unique.
    """

    file_id = models.UUIDField(_("file id"), unique=True, editable=False)
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="deliverables",
    )
    version = models.PositiveIntegerField(pgettext_lazy("version of a delivered file", "version"))
    file_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    chunk_bytes = models.PositiveIntegerField(_("part size (bytes)"))
    part_count = models.PositiveIntegerField(_("parts"))
    # The file's data key, sealed under the master key (base64); see delivery/crypto.py.
    wrapped_key = models.TextField(_("wrapped data key"))
    master_key_id = models.CharField(_("master key id"), max_length=16)
    note = models.TextField(_("what this version changes"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("arrived at"), auto_now_add=True, db_index=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("delivered file")
        verbose_name_plural = _("delivered files")
        ordering = ["product_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="deliverable_version_once"),
            # at most one current (not superseded) version per product
            models.UniqueConstraint(
                fields=["product"],
                condition=models.Q(superseded_at__isnull=True),
                name="deliverable_one_current",
            ),
            models.CheckConstraint(
                condition=models.Q(size_bytes__gte=0), name="deliverable_size_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} v{self.version}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class UploadSession(models.Model):
    """A resumable upload: the seller sends the file in numbered chunks, in any order.

    Invariants: every chunk but the last is exactly `chunk_bytes` long; the
    declared size fixes the number of chunks; completion checks that all have
    arrived, hashes the whole file and makes one Deliverable with the same
    file id and data key, so the parts need no copying.
    """

    file_id = models.UUIDField(_("file id"), unique=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="upload_sessions",
    )
    file_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size_bytes = models.BigIntegerField(_("declared size (bytes)"))
    expected_sha256 = models.CharField(_("expected SHA-256"), max_length=64, blank=True)
    note = models.TextField(_("what this version changes"), blank=True)
    chunk_bytes = models.PositiveIntegerField(_("chunk size (bytes)"))
    wrapped_key = models.TextField(_("wrapped data key"))
    master_key_id = models.CharField(_("master key id"), max_length=16)
    status = models.CharField(
        _("status"), max_length=16, choices=UploadStatus.choices, default=UploadStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    deliverable = models.OneToOneField(
        Deliverable,
        verbose_name=_("delivered file"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="upload_session",
    )

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("upload session")
        verbose_name_plural = _("upload sessions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="upload_expiry_pick")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def chunk_count(self) -> int:
        return max(1, -(-self.size_bytes // self.chunk_bytes))


class UploadSessionEvent(StatusEvent):
    subject = models.ForeignKey(
        UploadSession,
        verbose_name=_("upload session"),
        on_delete=models.PROTECT,
        related_name="events",
    )

    merchant_scope = ("subject__product__provider",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("upload status change")
        verbose_name_plural = _("upload status changes")


class UploadChunk(models.Model):
    """One received chunk of an upload session; sent again, it replaces the stored part."""

    session = models.ForeignKey(
        UploadSession, verbose_name=_("upload session"), on_delete=models.CASCADE,
        related_name="chunks",
    )  # fmt: skip
    index = models.PositiveIntegerField(_("chunk number"))
    size_bytes = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    received_at = models.DateTimeField(_("received at"), auto_now=True)

    merchant_scope = ("session__product__provider",)

    class Meta:
        verbose_name = _("upload chunk")
        verbose_name_plural = _("upload chunks")
        ordering = ["session_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["session", "index"], name="upload_chunk_once")
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.index}"


class DownloadGrant(models.Model):
    """A signed, expiring link to one order's file, for the buyer's people only.

    Invariants: the grant names one version (the current one when issued), so
    what the buyer receives is fixed by its hash; only the SHA-256 of the link's
    random secret is stored, so the table cannot be turned back into links.
    """

    order = models.ForeignKey(
        "marketplace.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="download_grants",
    )
    deliverable = models.ForeignKey(
        Deliverable,
        verbose_name=_("delivered file"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    issued_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued to"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    secret_sha256 = models.CharField(_("secret (SHA-256)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("expires at"))

    merchant_scope = ("order__buyer", "order__seller")

    class Meta:
        verbose_name = _("download grant")
        verbose_name_plural = _("download grants")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.deliverable_id}"


class Download(models.Model):
    """One request through a grant: who, when, which bytes, how many were sent.

    Invariants: written before the first byte is sent and finished once when
    the stream ends or breaks off; `is_complete` means every byte asked for
    was sent. Rows are evidence: never edited afterwards, never deleted.
    """

    grant = models.ForeignKey(
        DownloadGrant, verbose_name=_("download grant"), on_delete=models.PROTECT,
        related_name="downloads",
    )  # fmt: skip
    order = models.ForeignKey(
        "marketplace.Order", verbose_name=_("order"), on_delete=models.PROTECT,
        related_name="downloads",
    )  # fmt: skip
    deliverable = models.ForeignKey(
        Deliverable, verbose_name=_("delivered file"), on_delete=models.PROTECT,
        related_name="downloads",
    )  # fmt: skip
    downloaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("downloaded by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    range_start = models.BigIntegerField(_("first byte"))
    range_end = models.BigIntegerField(_("last byte"))
    bytes_requested = models.BigIntegerField(_("bytes asked for"))
    bytes_sent = models.BigIntegerField(_("bytes sent"), default=0)
    is_complete = models.BooleanField(_("complete"), default=False)

    merchant_scope = ("order__buyer", "order__seller")

    class Meta:
        verbose_name = _("download")
        verbose_name_plural = _("downloads")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.deliverable_id} {self.range_start}-{self.range_end}"
