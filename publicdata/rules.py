"""Public-data rules other apps ask about. Implemented by the public-data (grants) issue.

- `product_listing_problems(product)` -> list of (field, message): why a product
  whose data source is public data may not be submitted or listed now (empty
  list: it may). Products call it on submit and on approve.
- `plan_price_problems(product, plan)` -> list of (field, message): a plan price
  above the grant's fee ceiling, or a non-zero price for a public-interest scenario.
- `scenario_in_force(scenario, at=None)` -> bool: the scenario has a passing
  assessment and an authorization whose window covers `at` (default now),
  and its grant is active.

These are reads: they lock nothing and change nothing, so a service that needs
the answer to hold (listing approval) calls them inside its own transaction
after locking the product.
"""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import fen_to_yuan
from products.choices import DataSourceKind, DeliveryMode, PlanKind
from publicdata.choices import AssessmentVerdict, GrantStatus, ScenarioPurpose, ScenarioStatus

Problem = tuple[str, str]

# 原始数据不出域、数据可用不可见: raw data stays in its domain; data usable but
# invisible. Public data leaves only as results, never as a raw extract.
PUBLIC_DATA_DELIVERY_MODES = frozenset(
    {
        DeliveryMode.API,
        DeliveryMode.REPORT,
        DeliveryMode.MODEL,
        DeliveryMode.PRIVACY_COMPUTING,
    }
)


def _now(at: dt.datetime | None) -> dt.datetime:
    return at if at is not None else timezone.now()


def _authorization_of(scenario):
    try:
        return scenario.authorization
    except scenario.__class__.authorization.RelatedObjectDoesNotExist:
        return None


def _assessment_of(scenario):
    try:
        return scenario.assessment
    except scenario.__class__.assessment.RelatedObjectDoesNotExist:
        return None


def scenario_in_force(scenario, at: dt.datetime | None = None) -> bool:
    """Assessed with a pass, authorized with a window covering `at`, under an active grant."""
    at = _now(at)
    if scenario.status != ScenarioStatus.AUTHORIZED:
        return False
    assessment = _assessment_of(scenario)
    if assessment is None or assessment.verdict != AssessmentVerdict.PASS:
        return False
    authorization = _authorization_of(scenario)
    if authorization is None or not authorization.covers(at):
        return False
    grant = scenario.grant
    return grant.status == GrantStatus.ACTIVE and grant.covers(at)


def _scenario_problem(scenario, grant, at: dt.datetime) -> str | None:
    if scenario.grant_id != grant.pk:
        return _("Scenario %(id)s (%(name)s) belongs to another grant (%(other)s).") % {
            "id": scenario.pk,
            "name": scenario.name,
            "other": scenario.grant_id,
        }
    if scenario.status != ScenarioStatus.AUTHORIZED:
        return _("Scenario %(id)s (%(name)s) is not authorized (it is %(status)s).") % {
            "id": scenario.pk,
            "name": scenario.name,
            "status": scenario.get_status_display(),
        }
    authorization = _authorization_of(scenario)
    assessment = _assessment_of(scenario)
    if authorization is None or assessment is None or assessment.verdict != AssessmentVerdict.PASS:
        return _("Scenario %(id)s (%(name)s) lacks a passing assessment and authorization.") % {
            "id": scenario.pk,
            "name": scenario.name,
        }
    if not authorization.covers(at):
        return _("Scenario %(id)s (%(name)s) is authorized only from %(start)s until %(end)s.") % {
            "id": scenario.pk,
            "name": scenario.name,
            "start": timezone.localtime(authorization.valid_from).isoformat(),
            "end": timezone.localtime(authorization.valid_until).isoformat(),
        }
    return None


def _is_free_scenario_product(product) -> bool:
    # Unsaved products have no scenarios yet; the M2M cannot be read before a pk exists.
    if product.pk is None:
        return False
    return product.scenarios.filter(purpose=ScenarioPurpose.PUBLIC_INTEREST).exists()


def _plan_problems(plan, *, ceiling_fen: int | None, free: bool) -> list[Problem]:
    problems: list[Problem] = []
    # Plans on sale and plans in a pending revision share these terms (PlanTerms).
    kind = getattr(plan, "kind", "")
    label = getattr(plan, "name", "") or (PlanKind(kind).label if kind in PlanKind.values else "")
    prices = {
        "price_fen": getattr(plan, "price_fen", 0) or 0,
        "unit_price_fen": getattr(plan, "unit_price_fen", 0) or 0,
    }
    if free:
        for field, amount in prices.items():
            if amount:
                problems.append(
                    (
                        field,
                        _(
                            "Plan '%(plan)s' must be free: the product serves a public-interest "
                            "scenario, which is free of charge."
                        )
                        % {"plan": label},
                    )
                )
    if ceiling_fen is not None:
        for field, amount in prices.items():
            if amount > ceiling_fen:
                problems.append(
                    (
                        field,
                        _(
                            "Plan '%(plan)s' costs %(price)s yuan, above the grant's fee ceiling "
                            "of %(ceiling)s yuan."
                        )
                        % {
                            "plan": label,
                            "price": fen_to_yuan(amount),
                            "ceiling": fen_to_yuan(ceiling_fen),
                        },
                    )
                )
    return problems


def plan_price_problems(product, plan) -> list[Problem]:
    """Why `plan`'s prices are not allowed for `product` (empty list: they are).

    For a public-data product: no price (one-off, per period or per call) above the
    grant's fee ceiling, and every price 0 when any scenario served is public-interest.
    Products of other sources have no such limits.
    """
    if product.source_kind != DataSourceKind.PUBLIC or product.grant_id is None:
        return []
    return _plan_problems(
        plan,
        ceiling_fen=product.grant.fee_ceiling_fen,
        free=_is_free_scenario_product(product),
    )


def product_listing_problems(product) -> list[Problem]:
    """Why `product` may not be submitted or listed now (empty list: it may).

    A public-data product names its grant; the provider is the grantee; its
    industry is the grant's; the grant is active and inside its window; it names
    at least one scenario, each of that grant and in force; it is not delivered as
    a raw file; every plan on sale respects the fee ceiling and, for a
    public-interest scenario, is free. A product of another source names no grant
    and no scenario.
    """
    at = timezone.now()
    problems: list[Problem] = []
    scenarios = list(product.scenarios.select_related("grant")) if product.pk else []

    if product.source_kind != DataSourceKind.PUBLIC:
        if product.grant_id is not None:
            problems.append(
                ("grant", _("Only a product built on public data names an authorization grant."))
            )
        if scenarios:
            problems.append(
                ("scenarios", _("Only a product built on public data names scenarios."))
            )
        return problems

    grant = product.grant
    if grant is None:
        return [("grant", _("A product built on public data must name its authorization grant."))]

    if product.provider_id != grant.grantee_id:
        problems.append(
            (
                "grant",
                _("Grant %(id)s was given to another merchant; only its grantee may use it.")
                % {"id": grant.pk},
            )
        )
    if product.industry_id != grant.industry_id:
        problems.append(
            (
                "industry",
                _("The product's industry must be the grant's industry (%(industry)s).")
                % {"industry": grant.industry},
            )
        )
    if grant.status != GrantStatus.ACTIVE:
        problems.append(
            (
                "grant",
                _("Grant %(id)s is not active (it is %(status)s).")
                % {"id": grant.pk, "status": grant.get_status_display()},
            )
        )
    elif not grant.covers(at):
        problems.append(
            (
                "grant",
                _("Grant %(id)s is valid only from %(start)s until %(end)s.")
                % {
                    "id": grant.pk,
                    "start": timezone.localtime(grant.valid_from).isoformat(),
                    "end": timezone.localtime(grant.valid_until).isoformat(),
                },
            )
        )

    if not scenarios:
        problems.append(
            (
                "scenarios",
                _("Name at least one authorized scenario the product serves (一场景一评估一授权)."),
            )
        )
    for scenario in scenarios:
        problem = _scenario_problem(scenario, grant, at)
        if problem:
            problems.append(("scenarios", problem))

    if product.delivery_mode not in PUBLIC_DATA_DELIVERY_MODES:
        problems.append(
            (
                "delivery_mode",
                _(
                    "Public data is delivered as an API, a report, a model or a "
                    "privacy-computing service, never as a raw file: raw data stays in its "
                    "domain (原始数据不出域)."
                ),
            )
        )

    free = any(s.purpose == ScenarioPurpose.PUBLIC_INTEREST for s in scenarios)
    if product.pk is not None:
        for plan in product.plans.filter(is_active=True).order_by("pk"):
            problems.extend(_plan_problems(plan, ceiling_fen=grant.fee_ceiling_fen, free=free))
    return problems
