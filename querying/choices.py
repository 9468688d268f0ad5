from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ColumnType(models.TextChoices):
    """The types a declared data set column may have (what PostgreSQL stores)."""

    INTEGER = "integer", _("Whole number")
    FLOAT = "float", _("Decimal number")
    STRING = "string", _("Text (string)")
    DATE = "date", _("Calendar date")
    BOOLEAN = "boolean", _("Yes or no")


# PostgreSQL column type and SmartNoise metadata type of each declared type.
PG_TYPES = {
    ColumnType.INTEGER: "bigint",
    ColumnType.FLOAT: "double precision",
    ColumnType.STRING: "text",
    ColumnType.DATE: "date",
    ColumnType.BOOLEAN: "boolean",
}
ENGINE_TYPES = {
    ColumnType.INTEGER: "int",
    ColumnType.FLOAT: "float",
    ColumnType.STRING: "string",
    ColumnType.DATE: "datetime",
    ColumnType.BOOLEAN: "boolean",
}
NUMERIC_TYPES = frozenset({ColumnType.INTEGER, ColumnType.FLOAT})


class SourceFormat(models.TextChoices):
    CSV = "csv", _("CSV with a header row")
    PARQUET = "parquet", _("Parquet")


class DatasetStatus(models.TextChoices):
    DECLARED = "declared", _("Declared, no data yet")
    LOADING = "loading", _("Loading the file")
    LOADED = "loaded", _("Loaded, ready for queries")
    FAILED = "failed", _("Load failed")


# A failed load may be tried again with a corrected file; a loaded data set is
# final (new data is a new product version with a schema of its own).
DATASET_TRANSITIONS: dict[str, frozenset[str]] = {
    DatasetStatus.DECLARED: frozenset({DatasetStatus.LOADING}),
    DatasetStatus.LOADING: frozenset({DatasetStatus.LOADED, DatasetStatus.FAILED}),
    DatasetStatus.FAILED: frozenset({DatasetStatus.LOADING}),
    DatasetStatus.LOADED: frozenset(),
}


class Aggregate(models.TextChoices):
    COUNT = "count", _("Count of rows")
    SUM = "sum", _("Sum of a column")
    AVG = "avg", _("Average of a column")


class FilterOp(models.TextChoices):
    EQ = "eq", "="
    NE = "ne", "<>"
    LT = "lt", "<"
    LE = "le", "<="
    GT = "gt", ">"
    GE = "ge", ">="


SQL_OPS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved for buyers")
    RETIRED = "retired", _("Retired")


# Reviewed like a listing: a rejection sends the template back to draft with the
# reviewer's comments; an approved template is never edited, only retired.
TEMPLATE_TRANSITIONS: dict[str, frozenset[str]] = {
    TemplateStatus.DRAFT: frozenset({TemplateStatus.SUBMITTED, TemplateStatus.RETIRED}),
    TemplateStatus.SUBMITTED: frozenset({TemplateStatus.IN_REVIEW, TemplateStatus.DRAFT}),
    TemplateStatus.IN_REVIEW: frozenset({TemplateStatus.APPROVED, TemplateStatus.DRAFT}),
    TemplateStatus.APPROVED: frozenset({TemplateStatus.RETIRED}),
    TemplateStatus.RETIRED: frozenset(),
}

# The reviewer ticks every item before approving a template.
TEMPLATE_COMPLIANCE_CHECKLIST: dict[str, str | Promise] = {
    "lawful_basis": _("The provider may let buyers compute on this data (source, grant, consent)"),
    "purpose_bound": _("The template serves the product's stated use and usage restrictions"),
    "no_identifiers_out": _("No dimension or filter can name or contact a person"),
}
TEMPLATE_PRIVACY_CHECKLIST: dict[str, str | Promise] = {
    "unit_column": _("The privacy unit column identifies one person or entity"),
    "bounds_public": _("The bounds are set from public knowledge, not read off the data"),
    "min_group_size": _("The minimum group size k is at least 10 or justified"),
    "epsilon_reasonable": _("The privacy cost per run fits the buyers' budget per period"),
    "dimensions_coarse": _("Dimensions are coarse enough that groups hold many units"),
}


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.FAILED}),
    RunStatus.RUNNING: frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
}
# A run in one of these holds its buyer's slot for the product (one at a time).
ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
