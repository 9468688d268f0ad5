from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import StatusEvent, TimeStampedModel
from core.scoping import PUBLIC
from products.choices import (
    OPEN_REVISION_STATUSES,
    DataSourceKind,
    DataTheme,
    DeliveryMode,
    Grade,
    PlanKind,
    ProductStatus,
    RevisionStatus,
    SubscriptionPeriod,
    SuspensionCause,
    Verdict,
)

# 说明书 the product manual: the sections the exchange requires before review.
MANUAL_SECTIONS = (
    "manual_data_source",
    "manual_content",
    "manual_coverage",
    "manual_update_frequency",
    "manual_quality",
    "manual_usage_restrictions",
)
# What a merchant describes about a product. Once listed, changing any of these
# (or the plans) makes a new version that is reviewed before it is sold.
CONTENT_FIELDS = (
    "title",
    "title_en",
    "summary",
    "summary_en",
    "coverage_start",
    "coverage_end",
    *MANUAL_SECTIONS,
    "industry",
    "board",
    "source_kind",
    "grade",
    "delivery_mode",
    "volume_bytes",
    "sample",
    "tags",
)
PLAN_TERMS_FIELDS = (
    "name",
    "kind",
    "period",
    "price_fen",
    "unit_price_fen",
    "included_calls",
    "monthly_cap_fen",
)


class Industry(models.Model):
    """An industry (transport, weather, finance, ...), kept as data operators edit.

    Invariant: the code never changes once products use it (it appears in the
    exported catalog as the theme's identifier).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    # The published theme this industry corresponds to in the exported catalog.
    data_theme = models.CharField(
        _("EU data theme"), max_length=4, choices=DataTheme.choices, blank=True
    )
    is_active = models.BooleanField(pgettext_lazy("reference data in use", "active"), default=True)

    merchant_scope = PUBLIC

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Board(models.Model):
    """交易专板 trading board: a themed section run with one partner department."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    department = models.ForeignKey(
        "publicdata.Department",
        verbose_name=_("partner department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="boards",
    )
    industries = models.ManyToManyField(
        Industry, verbose_name=_("industries"), related_name="boards", blank=True
    )
    is_active = models.BooleanField(_("open for new products"), default=True)

    merchant_scope = PUBLIC

    class Meta:
        verbose_name = _("trading board")
        verbose_name_plural = _("trading boards")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ProductContent(models.Model):
    """The described substance of a product, shared by products and their revisions."""

    title = models.CharField(_("title"), max_length=200)
    # The catalog other exchanges read carries both languages when given.
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    summary_en = models.TextField(_("summary in English"), blank=True)
    coverage_start = models.DateField(_("data covers from"), null=True, blank=True)
    coverage_end = models.DateField(_("data covers until"), null=True, blank=True)
    # 说明书 the product manual, in the sections the exchange requires.
    manual_data_source = models.TextField(_("manual: data source"), blank=True)
    manual_content = models.TextField(_("manual: content and fields"), blank=True)
    manual_coverage = models.TextField(_("manual: coverage period and region"), blank=True)
    manual_update_frequency = models.TextField(_("manual: update frequency"), blank=True)
    manual_quality = models.TextField(_("manual: quality"), blank=True)
    manual_usage_restrictions = models.TextField(_("manual: usage restrictions"), blank=True)
    source_kind = models.CharField(
        _("data source"), max_length=16, choices=DataSourceKind.choices, default=DataSourceKind.OWN
    )
    grade = models.CharField(
        _("classification grade"),
        max_length=16,
        choices=Grade.choices,
        default=Grade.GENERAL,
        db_index=True,
    )
    delivery_mode = models.CharField(
        _("delivery mode"), max_length=24, choices=DeliveryMode.choices, db_index=True
    )
    volume_bytes = models.BigIntegerField(_("volume (bytes)"), default=0)
    sample = models.TextField(_("sample"), blank=True)
    tags = models.CharField(_("tags"), max_length=500, blank=True, help_text=_("Comma-separated."))

    class Meta:
        abstract = True

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]


class Product(TimeStampedModel, ProductContent):
    """数据产品 data product offered by one provider merchant.

    Invariants: status changes only through products.services, each recorded as
    a ProductEvent; core-grade data is never submitted or listed; the
    registration number (登记号) is issued once, at first listing, and never
    reused; once listed, the content columns are the listed version's and change
    only when a reviewed ProductRevision is approved (plans sold before stay as
    they were, switched off, so orders keep pointing at what was bought).
    `min_price_fen` is the cheapest plan on sale, kept by the plan services.
    """

    provider = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), on_delete=models.PROTECT, related_name="products"
    )
    board = models.ForeignKey(
        Board,
        verbose_name=_("trading board"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    version = models.PositiveIntegerField(
        pgettext_lazy("product version number", "version"), default=1
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ProductStatus.choices,
        default=ProductStatus.DRAFT,
        db_index=True,
    )
    registration_number = models.CharField(
        _("registration number"),
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Issued at the first listing: HNDP-year-serial, such as HNDP-2026-000123."),
    )
    listed_at = models.DateTimeField(_("first listed at"), null=True, blank=True, db_index=True)
    suspension_cause = models.CharField(
        _("suspended because of"), max_length=16, choices=SuspensionCause.choices, blank=True
    )
    # fen: the cheapest plan on sale (one-off or per-period price, or per-call
    # price for metered plans); null while the product has no plan on sale.
    min_price_fen = models.BigIntegerField(_("starting price (fen)"), null=True, blank=True)
    delisting_requested_at = models.DateTimeField(
        _("delisting requested at"), null=True, blank=True
    )
    delisting_request_reason = models.TextField(_("delisting request reason"), blank=True)
    grant = models.ForeignKey(
        "publicdata.Grant",
        verbose_name=_("authorization grant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    scenarios = models.ManyToManyField(
        "publicdata.Scenario",
        verbose_name=_("scenarios served"),
        related_name="products",
        blank=True,
    )

    merchant_scope = ("provider",)
    # The market shows every listed product to every merchant (core.scoping.visible_to).
    merchant_published = Q(status=ProductStatus.LISTED)

    class Meta:
        verbose_name = _("data product")
        verbose_name_plural = _("data products")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The catalog and the operators' list: by status, then newest listed
            # or newest created, cheapest first; ids break ties for cursors.
            models.Index(fields=["status", "listed_at", "id"], name="product_status_listed"),
            models.Index(fields=["status", "created_at", "id"], name="product_status_created"),
            models.Index(fields=["status", "min_price_fen", "id"], name="product_status_price"),
            # the DCAT catalog walks listed products by id (keyset pages)
            models.Index(fields=["status", "id"], name="product_status_id"),
            models.Index(fields=["listed_at", "id"], name="product_listed_id"),
            models.Index(fields=["created_at", "id"], name="product_created_id"),
            models.Index(fields=["min_price_fen", "id"], name="product_price_id"),
            models.Index(fields=["title", "id"], name="product_title_id"),
            models.Index(fields=["updated_at", "id"], name="product_updated_id"),
            models.Index(fields=["industry", "status"], name="product_industry_status"),
            models.Index(fields=["board", "status"], name="product_board_status"),
            models.Index(fields=["provider", "status"], name="product_provider_status"),
            # The few products whose provider asked for delisting: without it the market's
            # filter walks every listed product to find none (2 s over 385,900).
            models.Index(
                fields=["listed_at", "id"],
                condition=Q(delisting_requested_at__isnull=False),
                name="product_delisting_asked",
            ),
            # Products built on public data are few (19 of 3,859 at the report's scale):
            # buyers browsing them get their own short index in the market's order.
            models.Index(
                fields=["listed_at", "id"],
                condition=Q(source_kind="public"),
                name="product_public_listed",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(volume_bytes__gte=0), name="product_volume_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[ProductStatus.LISTED, ProductStatus.SUSPENDED])
                | (Q(registration_number__isnull=False) & Q(listed_at__isnull=False)),
                name="product_on_exchange_is_registered",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PlanTerms(models.Model):
    """The terms of a pricing plan, shared by plans on sale and plans in a revision."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PlanKind.choices)
    period = models.CharField(
        _("subscription period"), max_length=16, choices=SubscriptionPeriod.choices, blank=True
    )
    # fen: the one-off price or the price per subscription period
    price_fen = models.BigIntegerField(_("price (fen)"), default=0)
    # fen: metered plans charge this per call beyond the included calls
    unit_price_fen = models.BigIntegerField(_("price per call (fen)"), default=0)
    included_calls = models.PositiveIntegerField(_("included calls"), default=0)
    # fen: metered bill for one month never exceeds this; null means no cap
    monthly_cap_fen = models.BigIntegerField(_("monthly cap (fen)"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def headline_price_fen(self) -> int:
        """What the catalog shows as this plan's price: per call for metered plans."""
        if self.kind == PlanKind.METERED:
            return self.unit_price_fen
        return self.price_fen

    def terms(self) -> dict:
        return {field: getattr(self, field) for field in PLAN_TERMS_FIELDS}


class PricingPlan(TimeStampedModel, PlanTerms):
    """A way to buy a product. Money in integer fen (分).

    Invariants: prices are never negative; a free plan costs 0; a plan of a
    product that has been listed is never edited, only switched off, so that
    orders keep the terms they were placed under.
    """

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="plans"
    )
    is_active = models.BooleanField(_("on sale"), default=True)

    merchant_scope = ("product__provider",)
    # The plans on sale of listed products: what buyers order and take keys for.
    merchant_published = Q(is_active=True, product__status=ProductStatus.LISTED)

    class Meta:
        verbose_name = _("pricing plan")
        verbose_name_plural = _("pricing plans")
        ordering = ["product_id", "id"]
        indexes = [
            models.Index(fields=["product", "is_active"], name="plan_product_active"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_fen__gte=0)
                & models.Q(unit_price_fen__gte=0)
                & (models.Q(monthly_cap_fen__isnull=True) | models.Q(monthly_cap_fen__gte=0)),
                name="plan_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=PlanKind.FREE)
                | (models.Q(price_fen=0) & models.Q(unit_price_fen=0)),
                name="free_plan_costs_nothing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} / {self.name or self.get_kind_display()}"


class ProductEvent(StatusEvent):
    """A product's listing status change. Insert-only."""

    subject = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__provider",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("product status change")
        verbose_name_plural = _("product status changes")


class ProductRevision(TimeStampedModel, ProductContent):
    """A proposed new version of a listed product (修订), reviewed before it sells.

    Invariants: at most one open revision per product; while it is open the
    product keeps selling its listed version unchanged; approval copies the
    content onto the product, switches the old plans off, puts the revision's
    plans on sale and records a ProductVersion.
    """

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="revisions"
    )
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), on_delete=models.PROTECT, related_name="+"
    )
    board = models.ForeignKey(
        Board,
        verbose_name=_("trading board"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    number = models.PositiveIntegerField(_("version it would become"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RevisionStatus.choices,
        default=RevisionStatus.DRAFT,
        db_index=True,
    )
    change_note = models.TextField(_("what changes and why"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("product revision")
        verbose_name_plural = _("product revisions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(status__in=OPEN_REVISION_STATUSES),
                name="one_open_revision_per_product",
            ),
            models.CheckConstraint(
                condition=Q(volume_bytes__gte=0), name="revision_volume_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(
            _("%(product)s, version %(number)s") % {"product": self.product, "number": self.number}
        )


class RevisionPlan(PlanTerms):
    """A pricing plan as a revision proposes it; put on sale when the revision is approved."""

    revision = models.ForeignKey(
        ProductRevision,
        verbose_name=_("revision"),
        on_delete=models.CASCADE,
        related_name="plans",
    )

    merchant_scope = ("revision__product__provider",)

    class Meta:
        verbose_name = _("proposed pricing plan")
        verbose_name_plural = _("proposed pricing plans")
        ordering = ["revision_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_fen__gte=0)
                & models.Q(unit_price_fen__gte=0)
                & (models.Q(monthly_cap_fen__isnull=True) | models.Q(monthly_cap_fen__gte=0)),
                name="revision_plan_prices_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.revision} / {self.name or self.get_kind_display()}"


class RevisionEvent(StatusEvent):
    """A revision's status change. Insert-only."""

    subject = models.ForeignKey(
        ProductRevision,
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        related_name="events",
    )

    merchant_scope = ("subject__product__provider",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("revision status change")
        verbose_name_plural = _("revision status changes")


class ProductVersion(models.Model):
    """A version of a product as it was listed: frozen content and plans. Insert-only.

    Version 1 is recorded at first listing, each approved revision adds the next.
    Orders name (product, version) to know exactly what was on sale.
    """

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(pgettext_lazy("product version number", "version"))
    content = models.JSONField(_("content as listed"))
    plans = models.JSONField(_("plans on sale (with their ids)"))
    review = models.ForeignKey(
        "products.ProductReview",
        verbose_name=_("approving review"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    listed_at = models.DateTimeField(_("went on sale at"))

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("product version")
        verbose_name_plural = _("product versions")
        ordering = ["product_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="product_version_unique")
        ]

    def __str__(self) -> str:
        return str(
            _("%(product)s, version %(number)s") % {"product": self.product, "number": self.number}
        )


class ProductReview(TimeStampedModel):
    """One review per submission (of a product or of a revision of it).

    Invariants: at most one pending review per product; the verdict is decided
    once; important-grade data needs approvals from two different operators
    (`first_approver` then `decided_by`); comments are required to reject.
    """

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="reviews"
    )
    revision = models.ForeignKey(
        ProductRevision,
        verbose_name=_("revision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    version = models.PositiveIntegerField(_("version under review"))
    grade = models.CharField(_("grade at submission"), max_length=16, choices=Grade.choices)
    required_approvals = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    # 登记互认: the product is registered at a trusted partner exchange, whose
    # review stands for the quality checks; ours checks compliance only.
    compliance_only = models.BooleanField(_("shortened review (compliance only)"), default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_started_at = models.DateTimeField(_("review started at"), null=True, blank=True)
    compliance_checklist = models.JSONField(_("compliance checklist"), default=dict, blank=True)
    quality_checklist = models.JSONField(_("quality checklist"), default=dict, blank=True)
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first approver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_approved_at = models.DateTimeField(_("first approved at"), null=True, blank=True)
    verdict = models.CharField(
        _("verdict"), max_length=16, choices=Verdict.choices, default=Verdict.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comments = models.TextField(_("reviewer's comments"), blank=True)

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("listing review")
        verbose_name_plural = _("listing reviews")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(verdict=Verdict.PENDING),
                name="one_pending_review_per_product",
            ),
            models.CheckConstraint(
                condition=Q(first_approver__isnull=True)
                | Q(decided_by__isnull=True)
                | ~Q(first_approver=models.F("decided_by")),
                name="review_two_different_approvers",
            ),
        ]

    def __str__(self) -> str:
        return str(
            _("%(product)s, version %(number)s: %(verdict)s")
            % {
                "product": self.product,
                "number": self.version,
                "verdict": self.get_verdict_display(),
            }
        )


class RegistrationCounter(models.Model):
    """The last registration serial issued in a year. Only ever counts up.

    A row per year, locked FOR UPDATE while a number is issued, so two listings
    never get the same serial, and a number is never issued twice (a rolled-back
    listing rolls its increment back with it, so no number is ever skipped or
    handed out to two products).
    """

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last_serial = models.PositiveIntegerField(_("last serial issued"), default=0)

    merchant_scope = ()

    class Meta:
        verbose_name = _("registration number counter")
        verbose_name_plural = _("registration number counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_serial}"
