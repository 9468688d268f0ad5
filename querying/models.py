"""The query service's records: data sets, query templates, budgets and runs.

The rows of a loaded data set are not here: they live in a PostgreSQL schema of
their own (`Dataset.schema_name`), owned by the query role, which the web
process's role cannot read. These tables hold only what describes them.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import StatusEvent, TimeStampedModel
from querying.choices import (
    ACTIVE_RUN_STATUSES,
    DatasetStatus,
    RunStatus,
    SourceFormat,
    TemplateStatus,
)

# Epsilon is kept as an exact decimal (6 places), so that reserving, spending
# and releasing a budget adds up exactly, however many runs there are; delta
# (20 places) is a probability, often around one in a million.


class Dataset(TimeStampedModel):
    """One product version's data, loaded into a schema of its own.

    Invariants: one data set per (product, version); the declared columns
    (name, type, bounds of numeric columns) and the privacy unit column are
    fixed once data is loaded; `schema_name` is unique and never reused.
    """

    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="query_datasets",
    )
    version = models.PositiveIntegerField(pgettext_lazy("product version number", "version"))
    schema_name = models.CharField(_("database schema"), max_length=63, unique=True)
    # [{"name": "income", "type": "float", "lower": 0, "upper": 100000}, ...]
    columns = models.JSONField(_("declared columns"))
    unit_column = models.CharField(_("privacy unit column"), max_length=63)
    status = models.CharField(
        _("status"), max_length=16, choices=DatasetStatus.choices, default=DatasetStatus.DECLARED
    )
    source_format = models.CharField(
        _("file format"), max_length=16, choices=SourceFormat.choices, blank=True
    )
    bytes_total = models.BigIntegerField(_("file size (bytes)"), default=0)
    bytes_read = models.BigIntegerField(_("bytes loaded"), default=0)
    rows_loaded = models.BigIntegerField(_("rows loaded"), default=0)
    load_error = models.TextField(_("load error"), blank=True)
    loaded_at = models.DateTimeField(_("loaded at"), null=True, blank=True)
    # epsilon a buyer may spend on this product per budget period (a month)
    budget_epsilon = models.DecimalField(
        _("privacy budget per buyer per month (epsilon)"),
        default=Decimal("10"),
        max_digits=12,
        decimal_places=6,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("query data set")
        verbose_name_plural = _("query data sets")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="dataset_per_version"),
            models.CheckConstraint(
                condition=Q(budget_epsilon__gt=0), name="dataset_budget_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} v{self.version}"

    @property
    def progress_percent(self) -> int:
        if self.status == DatasetStatus.LOADED:
            return 100
        if not self.bytes_total:
            return 0
        return min(99, self.bytes_read * 100 // self.bytes_total)

    def column(self, name) -> dict | None:
        return next((c for c in self.columns if c["name"] == name), None)

    def column_type(self, name: str) -> str:
        """The declared type of a column a checked template names (it exists)."""
        column = self.column(name)
        if column is None:
            raise KeyError(name)
        return column["type"]


class DatasetEvent(StatusEvent):
    subject = models.ForeignKey(
        Dataset, verbose_name=_("query data set"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__product__provider",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("data set status change")
        verbose_name_plural = _("data set status changes")


class QueryTemplate(TimeStampedModel):
    """A parameterised aggregate query a provider offers over one data set.

    Invariants: buyers never send SQL, only values for the declared parameters;
    aggregates run over bounded numeric columns only; the privacy cost is
    computed by the engine when the template is submitted and frozen with it;
    an approved template is never edited, only retired.
    """

    dataset = models.ForeignKey(
        Dataset,
        verbose_name=_("query data set"),
        on_delete=models.PROTECT,
        related_name="templates",
    )
    # denormalised from the data set: budgets, orders and scoping go by product
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="query_templates",
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # [{"function": "count"}, {"function": "avg", "column": "income"}]
    aggregates = models.JSONField(_("aggregates computed"))
    # ["region", "year"]
    dimensions = models.JSONField(_("group by (dimensions)"), default=list, blank=True)
    # [{"column": "age", "op": "ge", "parameter": "min_age"}]
    filters = models.JSONField(_("filters (with parameters)"), default=list, blank=True)
    min_group_size = models.PositiveIntegerField(_("minimum group size (k)"), default=10)
    epsilon_per_aggregate = models.DecimalField(
        _("epsilon per aggregate"), default=Decimal("0.5"), max_digits=12, decimal_places=6
    )
    delta = models.DecimalField(
        _("delta (privacy)"), default=Decimal(0), max_digits=22, decimal_places=20
    )
    # what the engine says one run costs, computed at submission
    cost_epsilon = models.DecimalField(
        _("privacy cost per run (epsilon)"), null=True, max_digits=12, decimal_places=6
    )
    cost_delta = models.DecimalField(
        _("privacy cost per run (delta)"), null=True, max_digits=22, decimal_places=20
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT
    )
    compliance_checklist = models.JSONField(_("compliance checklist"), default=dict, blank=True)
    privacy_checklist = models.JSONField(_("privacy checklist"), default=dict, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_comments = models.TextField(_("reviewer's comments"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    merchant_scope = ("product__provider",)

    class Meta:
        verbose_name = _("query template")
        verbose_name_plural = _("query templates")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "status"], name="qtemplate_product_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(epsilon_per_aggregate__gt=0), name="qtemplate_epsilon_positive"
            ),
            models.CheckConstraint(
                condition=Q(delta__gte=0) & Q(delta__lt=1), name="qtemplate_delta_range"
            ),
            models.CheckConstraint(condition=Q(min_group_size__gte=1), name="qtemplate_k_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def parameters(self) -> list[str]:
        return [f["parameter"] for f in self.filters]


class QueryTemplateEvent(StatusEvent):
    subject = models.ForeignKey(
        QueryTemplate,
        verbose_name=_("query template"),
        on_delete=models.PROTECT,
        related_name="events",
    )

    merchant_scope = ("subject__product__provider",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("query template status change")
        verbose_name_plural = _("query template status changes")


class PrivacyBudget(models.Model):
    """A buyer's privacy budget on one product for one month.

    Invariant: reserved + spent never exceeds the limit; the database refuses
    it too, so no interleaving of runs can overspend. Runs reserve under this
    row's lock, then spend on success or release on failure.
    """

    buyer = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("buyer"),
        on_delete=models.PROTECT,
        related_name="privacy_budgets",
    )
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="privacy_budgets",
    )
    period_start = models.DateField(_("budget period (month)"))
    limit_epsilon = models.DecimalField(_("limit (epsilon)"), max_digits=12, decimal_places=6)
    reserved_epsilon = models.DecimalField(
        _("reserved (epsilon)"), default=Decimal(0), max_digits=12, decimal_places=6
    )
    spent_epsilon = models.DecimalField(
        _("spent (epsilon)"), default=Decimal(0), max_digits=12, decimal_places=6
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    merchant_scope = ("buyer",)

    class Meta:
        verbose_name = _("privacy budget")
        verbose_name_plural = _("privacy budgets")
        ordering = ["-period_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "product", "period_start"], name="budget_per_buyer_product_month"
            ),
            models.CheckConstraint(
                condition=Q(reserved_epsilon__gte=0)
                & Q(spent_epsilon__gte=0)
                & Q(limit_epsilon__gte=F("reserved_epsilon") + F("spent_epsilon")),
                name="budget_never_overspent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.buyer} / {self.product} / {self.period_start:%Y-%m}"

    @property
    def remaining_epsilon(self) -> Decimal:
        return self.limit_epsilon - self.reserved_epsilon - self.spent_epsilon


class QueryRun(TimeStampedModel):
    """One run of an approved template by a buyer, with its aggregate result.

    Invariants: at most one queued or running run per (buyer, product); the
    result holds aggregates only, never rows; a run answered from the stored
    answer of the same template and parameters in the same month (`cached_from`)
    costs no epsilon; each succeeded run is one usage record of the metered plan.
    """

    buyer = models.ForeignKey(
        "accounts.Merchant", verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "products.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    template = models.ForeignKey(
        QueryTemplate,
        verbose_name=_("query template"),
        on_delete=models.PROTECT,
        related_name="runs",
    )
    order = models.ForeignKey(
        "marketplace.Order",
        verbose_name=_("order in force"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    parameters = models.JSONField(_("run parameters"), default=dict, blank=True)
    # sha256 of the canonical JSON of the parameters: the cache key with the template
    parameters_hash = models.CharField(_("parameters hash"), max_length=64)
    period_start = models.DateField(_("budget month"))
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    epsilon = models.DecimalField(
        _("epsilon charged"), default=Decimal(0), max_digits=12, decimal_places=6
    )
    delta = models.DecimalField(
        _("delta charged"), default=Decimal(0), max_digits=22, decimal_places=20
    )
    result = models.JSONField(_("result (aggregates)"), null=True, blank=True)
    result_digest = models.CharField(_("result digest (sha256)"), max_length=64, blank=True)
    suppressed_groups = models.PositiveIntegerField(_("groups suppressed"), default=0)
    cached_from = models.ForeignKey(
        "self",
        verbose_name=_("answered from run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    usage_record = models.ForeignKey(
        "marketplace.UsageRecord",
        verbose_name=_("usage record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    merchant_scope = ("buyer",)

    class Meta:
        verbose_name = _("query run")
        verbose_name_plural = _("query runs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["buyer", "template", "parameters_hash", "period_start"],
                name="qrun_cache_pick",
                condition=Q(status=RunStatus.SUCCEEDED, cached_from__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "product"],
                condition=Q(status__in=ACTIVE_RUN_STATUSES),
                name="qrun_one_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(epsilon__gte=0) & Q(delta__gte=0), name="qrun_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} #{self.pk}"


class QueryRunEvent(StatusEvent):
    """A run's status change; the final one carries the audit record (sealed in the chain)."""

    subject = models.ForeignKey(
        QueryRun, verbose_name=_("query run"), on_delete=models.PROTECT, related_name="events"
    )

    merchant_scope = ("subject__buyer",)

    class Meta(StatusEvent.Meta):
        verbose_name = _("query run status change")
        verbose_name_plural = _("query run status changes")
