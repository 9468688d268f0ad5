from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import StatusEvent, TimeStampedModel
from core.scoping import PUBLIC
from products.choices import (
    DataSourceKind,
    DeliveryMode,
    Grade,
    PlanKind,
    ProductStatus,
    SubscriptionPeriod,
    SuspensionCause,
)


class Industry(models.Model):
    """An industry (transport, weather, finance, ...), kept as data operators edit."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

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

    merchant_scope = PUBLIC

    class Meta:
        verbose_name = _("trading board")
        verbose_name_plural = _("trading boards")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    """数据产品 data product offered by one provider merchant.

    Invariant: status changes only through products.services, each recorded as a
    ProductEvent; core-grade data is never listed; the registration number (登记号)
    is issued once, at first listing, and never reused.
    """

    provider = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    # 说明书 the product manual, in the sections the exchange requires.
    manual_data_source = models.TextField(_("manual: data source"), blank=True)
    manual_content = models.TextField(_("manual: content and fields"), blank=True)
    manual_coverage = models.TextField(_("manual: coverage period and region"), blank=True)
    manual_update_frequency = models.TextField(_("manual: update frequency"), blank=True)
    manual_quality = models.TextField(_("manual: quality"), blank=True)
    manual_usage_restrictions = models.TextField(_("manual: usage restrictions"), blank=True)
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
    source_kind = models.CharField(
        _("data source"), max_length=16, choices=DataSourceKind.choices, default=DataSourceKind.OWN
    )
    grade = models.CharField(
        _("classification grade"), max_length=16, choices=Grade.choices, default=Grade.GENERAL
    )
    delivery_mode = models.CharField(
        _("delivery mode"), max_length=24, choices=DeliveryMode.choices
    )
    volume_bytes = models.BigIntegerField(_("volume (bytes)"), default=0)
    sample = models.TextField(_("sample"), blank=True)
    tags = models.CharField(_("tags"), max_length=500, blank=True, help_text=_("Comma-separated."))
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ProductStatus.choices,
        default=ProductStatus.DRAFT,
        db_index=True,
    )
    registration_number = models.CharField(
        _("registration number"), max_length=32, unique=True, null=True, blank=True
    )
    listed_at = models.DateTimeField(_("first listed at"), null=True, blank=True, db_index=True)
    suspension_cause = models.CharField(
        _("suspended because of"), max_length=16, choices=SuspensionCause.choices, blank=True
    )
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

    class Meta:
        verbose_name = _("data product")
        verbose_name_plural = _("data products")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class PricingPlan(TimeStampedModel):
    """A way to buy a product. Money in integer fen (分).

    Invariant: prices are never negative; a free plan costs 0.
    """

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="plans"
    )
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
    is_active = models.BooleanField(_("on sale"), default=True)

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("pricing plan")
        verbose_name_plural = _("pricing plans")
        ordering = ["product_id", "id"]
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
