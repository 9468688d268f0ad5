"""Query templates: declared by the provider, reviewed by an operator like a listing.

A template names aggregates over bounded columns, dimensions to group by and
filters whose values the buyer gives as typed parameters; the SQL is ours
(querying.engine), never the buyer's. Submitting computes the privacy cost
with the engine and freezes it; approval needs every item of the compliance
and privacy checklists ticked.
"""

import datetime as dt
import math
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation
from core.transitions import lock_one, transition
from querying import engine
from querying.choices import (
    NUMERIC_TYPES,
    TEMPLATE_COMPLIANCE_CHECKLIST,
    TEMPLATE_PRIVACY_CHECKLIST,
    TEMPLATE_TRANSITIONS,
    Aggregate,
    ColumnType,
    DatasetStatus,
    FilterOp,
    TemplateStatus,
)
from querying.datastore import data_connection, require_postgres
from querying.models import Dataset, QueryTemplate
from querying.services.common import (
    check_identifier,
    require_operator,
    require_provider_or_operator,
    to_decimal,
)

MAX_AGGREGATES = 5
MAX_DIMENSIONS = 3
MAX_FILTERS = 8
MAX_STRING_PARAMETER = 200


def _check_spec(dataset: Dataset, aggregates, dimensions, filters) -> tuple[list, list, list]:
    if not isinstance(aggregates, list) or not 1 <= len(aggregates) <= MAX_AGGREGATES:
        raise BusinessRuleViolation(
            _("a list of 1 to %(max)d aggregates") % {"max": MAX_AGGREGATES}, field="aggregates"
        )
    clean_aggs = []
    for i, agg in enumerate(aggregates):
        where = f"aggregates[{i}]"
        if not isinstance(agg, dict) or agg.get("function") not in Aggregate.values:
            raise BusinessRuleViolation(
                _("one of: %(types)s") % {"types": ", ".join(Aggregate.values)},
                field=f"{where}.function",
            )
        if agg["function"] == Aggregate.COUNT:
            clean_aggs.append({"function": "count"})
            continue
        column = dataset.column(agg.get("column"))
        if (
            column is None
            or column["type"] not in NUMERIC_TYPES
            or column["name"] == dataset.unit_column
        ):
            raise BusinessRuleViolation(
                _("sums and averages run over a bounded number column"), field=f"{where}.column"
            )
        clean_aggs.append({"function": agg["function"], "column": column["name"]})
    if len({engine.aggregate_alias(a) for a in clean_aggs}) != len(clean_aggs):
        raise BusinessRuleViolation(_("an aggregate is named twice"), field="aggregates")
    if not isinstance(dimensions, list) or len(dimensions) > MAX_DIMENSIONS:
        raise BusinessRuleViolation(
            _("a list of at most %(max)d columns") % {"max": MAX_DIMENSIONS}, field="dimensions"
        )
    for i, name in enumerate(dimensions):
        column = dataset.column(name) if isinstance(name, str) else None
        if (
            column is None
            or column["type"] == ColumnType.FLOAT
            or name == dataset.unit_column
            or dimensions.index(name) != i
        ):
            raise BusinessRuleViolation(
                _("a declared column other than the unit column, not a decimal number, once"),
                field=f"dimensions[{i}]",
            )
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise BusinessRuleViolation(
            _("a list of at most %(max)d filters") % {"max": MAX_FILTERS}, field="filters"
        )
    clean_filters = []
    names: set[str] = set()
    for i, spec in enumerate(filters):
        where = f"filters[{i}]"
        if not isinstance(spec, dict):
            raise BusinessRuleViolation(_("give each filter as an object"), field=where)
        column = dataset.column(spec.get("column"))
        if column is None or column["name"] == dataset.unit_column:
            raise BusinessRuleViolation(
                _("a declared column other than the unit column"), field=f"{where}.column"
            )
        if spec.get("op") not in FilterOp.values:
            raise BusinessRuleViolation(
                _("one of: %(types)s") % {"types": ", ".join(FilterOp.values)}, field=f"{where}.op"
            )
        parameter = check_identifier(spec.get("parameter"), field=f"{where}.parameter")
        if parameter in names:
            raise BusinessRuleViolation(_("a parameter is named twice"), field=f"{where}.parameter")
        names.add(parameter)
        clean_filters.append({"column": column["name"], "op": spec["op"], "parameter": parameter})
    return clean_aggs, list(dimensions), clean_filters


TERMS = (
    "name",
    "description",
    "aggregates",
    "dimensions",
    "filters",
    "min_group_size",
    "epsilon_per_aggregate",
    "delta",
)


def _checked_terms(
    dataset: Dataset,
    *,
    name,
    aggregates,
    dimensions=(),
    filters=(),
    description="",
    min_group_size=10,
    epsilon_per_aggregate="0.5",
    delta="0",
) -> dict:
    """A template's terms checked against the data set's declared columns, normalised."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise BusinessRuleViolation(_("a name of 1 to 200 characters"), field="name")
    aggs, dims, filts = _check_spec(dataset, aggregates, list(dimensions), list(filters))
    if (
        isinstance(min_group_size, bool)
        or not isinstance(min_group_size, int)
        or not 1 <= min_group_size <= 100_000
    ):
        raise BusinessRuleViolation(_("a whole number from 1 to 100000"), field="min_group_size")
    epsilon = to_decimal(epsilon_per_aggregate, field="epsilon_per_aggregate")
    if not Decimal("0.001") <= epsilon <= Decimal(10):
        raise BusinessRuleViolation(_("between 0.001 and 10"), field="epsilon_per_aggregate")
    delta_value = to_decimal(delta, field="delta", minimum=Decimal(0))
    if delta_value >= Decimal("0.001"):
        raise BusinessRuleViolation(_("below 0.001"), field="delta")
    return {
        "name": name.strip(),
        "description": description or "",
        "aggregates": aggs,
        "dimensions": dims,
        "filters": filts,
        "min_group_size": min_group_size,
        "epsilon_per_aggregate": epsilon,
        "delta": delta_value.quantize(Decimal("1e-20")),
    }


def template_create(
    *,
    actor: User | None,
    dataset: Dataset,
    name: str,
    aggregates,
    dimensions=(),
    filters=(),
    description: str = "",
    min_group_size: int = 10,
    epsilon_per_aggregate="0.5",
    delta="0",
) -> QueryTemplate:
    """A draft template over a data set, checked against the declared columns."""
    require_postgres()
    require_provider_or_operator(actor, dataset.product.provider_id)
    terms = _checked_terms(
        dataset,
        name=name,
        aggregates=aggregates,
        dimensions=dimensions,
        filters=filters,
        description=description,
        min_group_size=min_group_size,
        epsilon_per_aggregate=epsilon_per_aggregate,
        delta=delta,
    )
    template = QueryTemplate.objects.create(
        dataset=dataset,
        product=dataset.product,
        created_by=actor if getattr(actor, "pk", None) else None,
        **terms,
    )
    template.events.create(
        actor=actor if getattr(actor, "pk", None) else None,
        from_status="",
        to_status=TemplateStatus.DRAFT,
        reason="created",
    )
    return template


@transaction.atomic
def template_update(*, actor: User | None, template: QueryTemplate, **changes) -> QueryTemplate:
    """Change a draft's terms: a template sent back by review is fixed here, then submitted.

    Only drafts change (a submitted cost, an approval, are for the terms they saw);
    the terms are checked again as a whole, as at creation.
    """
    require_postgres()
    require_provider_or_operator(actor, template.product.provider_id)
    unknown = sorted(set(changes) - set(TERMS))
    if unknown:
        raise BusinessRuleViolation(
            _("not a template term: %(fields)s") % {"fields": ", ".join(unknown)},
            field=unknown[0],
        )
    template = lock_one(QueryTemplate, template.pk)
    if template.status != TemplateStatus.DRAFT:
        raise BusinessRuleViolation(
            _("only a draft template changes; this one is %(status)s")
            % {"status": template.get_status_display()},
            field="status",
            code="not_draft",
        )
    terms = _checked_terms(
        template.dataset, **{f: changes.get(f, getattr(template, f)) for f in TERMS}
    )
    for field, value in terms.items():
        setattr(template, field, value)
    template.save(update_fields=[*terms, "updated_at"])
    return template


def _move(template: QueryTemplate, *, to: str, actor: User | None, reason: str, **changes) -> bool:
    return transition(
        template,
        to=to,
        actor=actor,
        reason=reason,
        transitions=TEMPLATE_TRANSITIONS,
        changes=changes,
    )


@transaction.atomic
def template_submit(*, actor: User | None, template: QueryTemplate) -> QueryTemplate:
    """draft -> submitted; the engine computes the privacy cost of one run, frozen here."""
    require_provider_or_operator(actor, template.product.provider_id)
    template = lock_one(QueryTemplate, template.pk)
    if template.status == TemplateStatus.SUBMITTED:
        return template
    if template.dataset.status != DatasetStatus.LOADED:
        raise BusinessRuleViolation(
            _("the data set is not loaded yet"), field="dataset", code="not_loaded"
        )
    with data_connection(read_only=True) as conn:
        epsilon, delta = engine.privacy_cost(conn, template)
    _move(
        template,
        to=TemplateStatus.SUBMITTED,
        actor=actor,
        reason=f"submitted: epsilon {epsilon}, delta {delta:.3e} per run",
        cost_epsilon=epsilon,
        cost_delta=delta,
    )
    return template


@transaction.atomic
def template_review_start(*, actor: User, template: QueryTemplate) -> QueryTemplate:
    require_operator(actor)
    template = lock_one(QueryTemplate, template.pk)
    _move(
        template, to=TemplateStatus.IN_REVIEW, actor=actor, reason="review started", reviewer=actor
    )
    return template


def _checklists(compliance, privacy, *, complete: bool) -> tuple[dict, dict]:
    result = []
    for field, items, given in (
        ("compliance_checklist", TEMPLATE_COMPLIANCE_CHECKLIST, compliance),
        ("privacy_checklist", TEMPLATE_PRIVACY_CHECKLIST, privacy),
    ):
        given = given or {}
        if not isinstance(given, dict) or not all(isinstance(v, bool) for v in given.values()):
            raise BusinessRuleViolation(_("give the checklist as {item: true/false}"), field=field)
        unknown = sorted(set(given) - set(items))
        if unknown:
            raise BusinessRuleViolation(
                _("unknown checklist item(s): %(items)s") % {"items": ", ".join(unknown)},
                field=field,
            )
        if complete and not all(given.get(item) is True for item in items):
            missing = [item for item in items if given.get(item) is not True]
            raise BusinessRuleViolation(
                _("tick every item before approving; not ticked: %(items)s")
                % {"items": ", ".join(missing)},
                field=field,
            )
        result.append(dict(given))
    return result[0], result[1]


@transaction.atomic
def template_approve(
    *, actor: User, template: QueryTemplate, compliance_checklist, privacy_checklist, comments=""
) -> QueryTemplate:
    """in_review -> approved, with every checklist item ticked: buyers may run it from now."""
    require_operator(actor)
    template = lock_one(QueryTemplate, template.pk)
    if template.status == TemplateStatus.APPROVED:
        return template
    compliance, privacy = _checklists(compliance_checklist, privacy_checklist, complete=True)
    _move(
        template,
        to=TemplateStatus.APPROVED,
        actor=actor,
        reason=comments or "approved",
        compliance_checklist=compliance,
        privacy_checklist=privacy,
        review_comments=comments,
        reviewer=actor,
        approved_at=timezone.now(),
    )
    return template


@transaction.atomic
def template_reject(
    *,
    actor: User,
    template: QueryTemplate,
    comments: str,
    compliance_checklist=None,
    privacy_checklist=None,
) -> QueryTemplate:
    """submitted or in_review -> draft, with the reviewer's comments saying what to fix."""
    require_operator(actor)
    comments = (comments or "").strip()
    if not comments:
        raise BusinessRuleViolation(_("give a reason"), field="comments", code="required")
    template = lock_one(QueryTemplate, template.pk)
    compliance, privacy = _checklists(compliance_checklist, privacy_checklist, complete=False)
    _move(
        template,
        to=TemplateStatus.DRAFT,
        actor=actor,
        reason=comments,
        compliance_checklist=compliance,
        privacy_checklist=privacy,
        review_comments=comments,
    )
    return template


@transaction.atomic
def template_retire(
    *, actor: User | None, template: QueryTemplate, reason: str = ""
) -> QueryTemplate:
    require_provider_or_operator(actor, template.product.provider_id)
    template = lock_one(QueryTemplate, template.pk)
    _move(template, to=TemplateStatus.RETIRED, actor=actor, reason=reason or "retired")
    return template


def check_parameters(template: QueryTemplate, parameters) -> dict:
    """The buyer's values, one per declared parameter, of the filter column's type."""
    if not isinstance(parameters, dict):
        raise BusinessRuleViolation(_("give the parameters as an object"), field="parameters")
    unknown = sorted(set(parameters) - set(template.parameters))
    if unknown:
        raise BusinessRuleViolation(
            _("unknown parameter(s): %(names)s") % {"names": ", ".join(unknown)},
            field="parameters",
        )
    clean: dict = {}
    for spec in template.filters:
        name = spec["parameter"]
        field = f"parameters.{name}"
        if name not in parameters:
            raise BusinessRuleViolation(
                _("this parameter is required"), field=field, code="required"
            )
        value = parameters[name]
        kind = template.dataset.column_type(spec["column"])
        if kind == ColumnType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 10**15:
                raise BusinessRuleViolation(_("a whole number"), field=field)
            clean[name] = value
        elif kind == ColumnType.FLOAT:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise BusinessRuleViolation(_("a finite number"), field=field)
            clean[name] = value
        elif kind == ColumnType.BOOLEAN:
            if not isinstance(value, bool):
                raise BusinessRuleViolation(_("true or false"), field=field)
            clean[name] = value
        elif kind == ColumnType.DATE:
            try:
                clean[name] = dt.date.fromisoformat(value).isoformat()
            except (TypeError, ValueError):
                raise BusinessRuleViolation(_("a date as YYYY-MM-DD"), field=field) from None
        else:
            # The engine reads no escaped quote inside a literal, so a value
            # that holds one (or a backslash or control character) is refused.
            if (
                not isinstance(value, str)
                or len(value) > MAX_STRING_PARAMETER
                or any(ch in value for ch in "'\\")
                or any(ord(ch) < 32 for ch in value)
            ):
                raise BusinessRuleViolation(
                    _(
                        "text of at most %(max)d characters, without quotes, backslashes "
                        "or control characters"
                    )
                    % {"max": MAX_STRING_PARAMETER},
                    field=field,
                )
            clean[name] = value
    return clean
