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


class Upstream(models.Model):
    """The upstream endpoint behind the gateway for one API product.

    Invariants: one per product; the base URL passed `upstream_url_check` when
    saved (https; loopback only where allowed); the secret is stored sealed
    under the master key, never in clear.
    """

    product = models.OneToOneField(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="upstream",
    )
    base_url = models.CharField(_("base URL"), max_length=500)
    header_name = models.CharField(_("header name"), max_length=100)
    secret_sealed = models.TextField(_("secret (sealed)"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("upstream endpoint")
        verbose_name_plural = _("upstream endpoints")
        ordering = ["product_id"]

    def __str__(self) -> str:
        return self.base_url


class ApiKey(models.Model):
    """A buyer's key to call one product through the gateway.

    Invariants: only the SHA-256 of the key is stored (the key is shown once);
    a key expires with its period (the subscription's end, or the month's end
    for a metered plan); a revoked key stays revoked.
    """

    buyer = models.ForeignKey(
        "accounts.Merchant", verbose_name=_("buyer"), on_delete=models.PROTECT,
        related_name="api_keys",
    )  # fmt: skip
    product = models.ForeignKey(
        "products.Product", verbose_name=_("product"), on_delete=models.PROTECT,
        related_name="api_keys",
    )  # fmt: skip
    plan = models.ForeignKey(
        "products.PricingPlan", verbose_name=_("plan"), on_delete=models.PROTECT,
        related_name="api_keys",
    )  # fmt: skip
    order = models.ForeignKey(
        "marketplace.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text=_("The subscription order; empty for a metered plan."),
    )
    prefix = models.CharField(_("key begins with"), max_length=16)
    key_sha256 = models.CharField(_("key (SHA-256)"), max_length=64, unique=True)
    issued_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued to"), null=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("revoked by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    revoke_reason = models.TextField(_("why revoked"), blank=True)

    merchant_scope = ("buyer", "product__provider")

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and self.expires_at > timezone.now()


class GatewayCall(models.Model):
    """One buyer call through the gateway, the exchange's own measure of usage.

    Invariants: (key, call id) is unique, so a client's retry with the same
    X-Call-Id is the same call and counted at most once (`is_counted` moves
    under a conditional UPDATE).
    """

    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), on_delete=models.PROTECT, related_name="calls"
    )
    call_id = models.CharField(_("call id"), max_length=64)
    buyer = models.ForeignKey(
        "accounts.Merchant", verbose_name=_("buyer"), on_delete=models.PROTECT,
        related_name="+", db_index=False,
    )  # fmt: skip
    plan = models.ForeignKey(
        "products.PricingPlan", verbose_name=_("plan"), on_delete=models.PROTECT,
        related_name="gateway_calls", db_index=False,
    )  # fmt: skip
    month = models.DateField(_("month"))
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=1000)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    is_counted = models.BooleanField(_("counted"), default=False)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    response_bytes = models.PositiveIntegerField(_("answer size (bytes)"), null=True, blank=True)
    created_at = models.DateTimeField(_("called at"), auto_now_add=True, db_index=True)

    merchant_scope = ("buyer", "plan__product__provider")

    class Meta:
        verbose_name = _("gateway call")
        verbose_name_plural = _("gateway calls")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["api_key", "call_id"], name="gateway_call_once")
        ]
        indexes = [models.Index(fields=["plan", "buyer", "month"], name="gateway_call_month")]

    def __str__(self) -> str:
        return self.call_id


class GatewayUsage(models.Model):
    """Counted gateway calls of one buyer under one plan in one month (Asia/Shanghai).

    Invariant: equals the number of that month's counted GatewayCalls; the
    monthly cap is enforced by a conditional UPDATE on this row. The monthly
    bill of a metered plan is made from it.
    """

    buyer = models.ForeignKey(
        "accounts.Merchant", verbose_name=_("buyer"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    plan = models.ForeignKey(
        "products.PricingPlan", verbose_name=_("plan"), on_delete=models.PROTECT,
        related_name="gateway_usage",
    )  # fmt: skip
    month = models.DateField(_("month"))
    calls = models.PositiveIntegerField(_("calls"), default=0)

    merchant_scope = ("buyer", "plan__product__provider")

    class Meta:
        verbose_name = _("gateway usage")
        verbose_name_plural = _("gateway usage")
        ordering = ["-month", "plan_id", "buyer_id"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "plan", "month"], name="gateway_usage_once")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.buyer_id} {self.month:%Y-%m}: {self.calls}"
