"""Running a template: budget, one run at a time, the stored answer, billing and audit.

Order of a run: the request checks the buyer's order in force and the
parameters, answers from the stored result of the same template and
parameters this month if there is one (no epsilon spent), else reserves the
run's epsilon under the budget row's lock and queues the run. The worker runs
it as the query role with a time limit; success spends the reservation,
records one usage of the metered plan and closes the run with an event whose
reason is the audit record (who, template, parameters, cost, digest of the
result: never rows), which the oversight chain seals; failure releases it.
"""

import hashlib
import json
import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict
from core.transitions import lock_one, transition
from marketplace.choices import OrderStatus
from marketplace.models import Order
from marketplace.services.usage import month_start, usage_record_submit
from products.choices import PlanKind
from querying import engine
from querying.choices import ACTIVE_RUN_STATUSES, RUN_TRANSITIONS, RunStatus, TemplateStatus
from querying.datastore import data_connection, require_postgres
from querying.models import PrivacyBudget, QueryRun, QueryTemplate
from querying.services.templates import check_parameters

logger = logging.getLogger(__name__)

IN_FORCE = (
    OrderStatus.PAID,
    OrderStatus.DELIVERED,
    OrderStatus.ACCEPTED,
    OrderStatus.CLEARED,
    OrderStatus.SETTLED,
)


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(value) -> str:
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def order_in_force(*, buyer_id: int, product_id: int) -> Order | None:
    """The buyer's agreement to the product's metered plan, paid and not refunded."""
    return (
        Order.objects.filter(
            buyer_id=buyer_id,
            product_id=product_id,
            plan__kind=PlanKind.METERED,
            billed_month__isnull=True,
            status__in=IN_FORCE,
        )
        .order_by("-pk")
        .first()
    )


def _budget_locked(*, buyer_id: int, template: QueryTemplate, period) -> PrivacyBudget:
    try:
        with transaction.atomic():
            PrivacyBudget.objects.get_or_create(
                buyer_id=buyer_id,
                product_id=template.product_id,
                period_start=period,
                defaults={"limit_epsilon": template.dataset.budget_epsilon},
            )
    except IntegrityError:
        pass  # another run made it at the same moment: lock theirs
    return PrivacyBudget.objects.select_for_update().get(
        buyer_id=buyer_id, product_id=template.product_id, period_start=period
    )


def _audit(run: QueryRun) -> str:
    return canonical(
        {
            "run": run.pk,
            "buyer": run.buyer_id,
            "template": run.template_id,
            "parameters": run.parameters,
            "epsilon": str(run.epsilon),
            "delta": str(run.delta),
            "result_sha256": run.result_digest,
            "cached_from": run.cached_from_id,
            "usage_record": run.usage_record_id,
        }
    )


def _bill(run: QueryRun, order: Order) -> None:
    record, _created = usage_record_submit(
        actor=None,
        seller=run.product.provider,
        record_id=f"query-run-{run.pk}",
        buyer=run.buyer,
        plan=order.plan,
        calls=1,
        used_at=timezone.now(),
    )
    run.usage_record = record


def query_run_request(*, actor: User, template: QueryTemplate, parameters) -> QueryRun:
    """A buyer's request to run an approved template; returns the run (queued, or answered).

    Refused before anything runs (4xx): no order in force, a template not
    approved, bad parameters, another run of this buyer on this product still
    going, or a cost above what is left of this month's budget.
    """
    require_postgres()
    buyer_id = getattr(actor, "merchant_id", None)
    if buyer_id is None:
        raise PermissionDenied(_("a buyer merchant's people run queries"))
    template = QueryTemplate.objects.select_related("dataset", "product__provider").get(
        pk=template.pk
    )
    if template.status != TemplateStatus.APPROVED:
        raise BusinessRuleViolation(
            _("this template is not approved for buyers"), field="template", code="not_approved"
        )
    order = order_in_force(buyer_id=buyer_id, product_id=template.product_id)
    if order is None:
        raise BusinessRuleViolation(
            _("order the product's metered plan first: no order of yours is in force"),
            field="template",
            code="no_order",
        )
    clean = check_parameters(template, parameters)
    params_hash = digest(clean)
    period = month_start(timezone.localdate())
    with transaction.atomic():
        budget = _budget_locked(buyer_id=buyer_id, template=template, period=period)
        stored = (
            QueryRun.objects.filter(
                buyer_id=buyer_id,
                template=template,
                parameters_hash=params_hash,
                period_start=period,
                status=RunStatus.SUCCEEDED,
                cached_from__isnull=True,
            )
            .order_by("pk")
            .first()
        )
        if stored is not None:
            run = QueryRun.objects.create(
                buyer_id=buyer_id,
                product=template.product,
                template=template,
                order=order,
                requested_by=actor,
                parameters=clean,
                parameters_hash=params_hash,
                period_start=period,
                status=RunStatus.QUEUED,
                cached_from=stored,
            )
            run.events.create(
                actor=actor, from_status="", to_status=RunStatus.QUEUED, reason="requested"
            )
            _bill(run, order)
            run.result_digest = stored.result_digest
            transition(
                run,
                to=RunStatus.SUCCEEDED,
                actor=actor,
                reason=_audit(run),
                transitions=RUN_TRANSITIONS,
                changes={
                    "result": stored.result,
                    "result_digest": stored.result_digest,
                    "suppressed_groups": stored.suppressed_groups,
                    "usage_record": run.usage_record,
                    "finished_at": timezone.now(),
                },
            )
            return run
        if QueryRun.objects.filter(
            buyer_id=buyer_id, product_id=template.product_id, status__in=ACTIVE_RUN_STATUSES
        ).exists():
            raise Conflict(
                _("a run of yours on this product is still going; one at a time"),
                code="run_in_progress",
            )
        cost = template.cost_epsilon or Decimal(0)
        if cost > budget.remaining_epsilon:
            raise Conflict(
                _(
                    "this run costs epsilon %(cost)s; %(left)s is left of this month's "
                    "budget of %(limit)s on this product"
                )
                % {"cost": cost, "left": budget.remaining_epsilon, "limit": budget.limit_epsilon},
                code="budget_exceeded",
                extra={
                    "remaining_epsilon": str(budget.remaining_epsilon),
                    "cost_epsilon": str(cost),
                },
            )
        PrivacyBudget.objects.filter(pk=budget.pk).update(
            reserved_epsilon=F("reserved_epsilon") + cost
        )
        try:
            with transaction.atomic():
                run = QueryRun.objects.create(
                    buyer_id=buyer_id,
                    product=template.product,
                    template=template,
                    order=order,
                    requested_by=actor,
                    parameters=clean,
                    parameters_hash=params_hash,
                    period_start=period,
                    epsilon=cost,
                    delta=template.cost_delta or Decimal(0),
                )
        except IntegrityError:
            raise Conflict(
                _("a run of yours on this product is still going; one at a time"),
                code="run_in_progress",
            ) from None
        run.events.create(
            actor=actor, from_status="", to_status=RunStatus.QUEUED, reason="requested"
        )
        from querying.tasks import query_run_execute_task

        run_id = run.pk
        transaction.on_commit(lambda: query_run_execute_task.delay(run_id))
    return run


def query_run_execute(*, run_id: int) -> QueryRun:
    """Run a queued run on the query role's connection; idempotent by status."""
    with transaction.atomic():
        run = lock_one(QueryRun, run_id)
        if run.status != RunStatus.QUEUED:
            return run
        transition(
            run,
            to=RunStatus.RUNNING,
            actor=None,
            reason="started",
            transitions=RUN_TRANSITIONS,
            changes={"started_at": timezone.now()},
        )
    template = QueryTemplate.objects.select_related("dataset").get(pk=run.template_id)
    result = None
    error = ""
    try:
        with data_connection(read_only=True, timeout_seconds=settings.QUERY_RUN_SECONDS) as conn:
            result = engine.execute(
                conn, template, run.parameters, max_rows=settings.QUERY_MAX_RESULT_ROWS
            )
    except engine.ResultTooLarge as exc:
        error = _("the result would hold %(groups)d groups; at most %(max)d are returned") % {
            "groups": exc.groups,
            "max": settings.QUERY_MAX_RESULT_ROWS,
        }
    except Exception as exc:  # the run fails and its reservation is released, whatever broke
        logger.warning("query run %s failed: %s", run_id, exc)
        error = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else type(exc).__name__
    with transaction.atomic():
        run = lock_one(QueryRun, run_id)
        budget = PrivacyBudget.objects.select_for_update().get(
            buyer_id=run.buyer_id, product_id=run.product_id, period_start=run.period_start
        )
        if result is None:
            PrivacyBudget.objects.filter(pk=budget.pk).update(
                reserved_epsilon=F("reserved_epsilon") - run.epsilon
            )
            transition(
                run,
                to=RunStatus.FAILED,
                actor=None,
                reason=error,
                transitions=RUN_TRANSITIONS,
                changes={"error": error, "finished_at": timezone.now()},
            )
            return run
        PrivacyBudget.objects.filter(pk=budget.pk).update(
            reserved_epsilon=F("reserved_epsilon") - run.epsilon,
            spent_epsilon=F("spent_epsilon") + run.epsilon,
        )
        run.result = result
        run.result_digest = digest(result)
        run.suppressed_groups = result["suppressed_groups"]
        order = Order.objects.select_related("plan").get(pk=run.order_id)
        run.product = template.product
        _bill(run, order)
        transition(
            run,
            to=RunStatus.SUCCEEDED,
            actor=run.requested_by,
            reason=_audit(run),
            transitions=RUN_TRANSITIONS,
            changes={
                "result": run.result,
                "result_digest": run.result_digest,
                "suppressed_groups": run.suppressed_groups,
                "usage_record": run.usage_record,
                "finished_at": timezone.now(),
            },
        )
    return run
