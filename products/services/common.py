"""Checks the product services share: who may act, plan terms, review rules."""

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db.models import Case, F, Min, When
from django.utils.translation import gettext as _

from accounts.choices import MerchantStatus
from accounts.models import User
from core.exceptions import BusinessRuleViolation, InvalidTransition
from core.money import MAX_FEN
from core.scoping import is_operator
from products.choices import (
    COMPLIANCE_CHECKLIST,
    QUALITY_CHECKLIST,
    Grade,
    PlanKind,
    SubscriptionPeriod,
)
from products.models import MANUAL_SECTIONS, PLAN_TERMS_FIELDS, PlanTerms, PricingPlan, Product


def require_operator(actor: User) -> None:
    if not is_operator(actor):
        raise BusinessRuleViolation(
            _("only exchange operators may do this"), field="actor", code="not_operator"
        )


def require_provider_or_operator(actor: User, provider_id: int) -> None:
    """The provider's own people (or an operator) act on a product, nobody else."""
    if is_operator(actor):
        return
    if actor is None or getattr(actor, "merchant_id", None) != provider_id:
        raise BusinessRuleViolation(
            _("only the provider's people may do this"), field="actor", code="not_provider"
        )


def require_reason(reason: str, *, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleViolation(_("give a reason"), field=field, code="required")
    return reason


def require_provider_active(product: Product) -> None:
    if product.provider.status != MerchantStatus.ACTIVE:
        raise BusinessRuleViolation(
            _("the provider is %(status)s; only active merchants list products")
            % {"status": product.provider.get_status_display()},
            field="provider",
            code="provider_not_active",
        )


def require_move(instance, *, to: str, transitions: Mapping, only_from: Iterable[str]) -> None:
    """Refuse, before any other check, a move this verb does not make from here."""
    current = instance.status
    allowed = set(only_from)
    if current == to or (current in allowed and to in transitions.get(current, ())):
        return
    raise InvalidTransition(
        model_label=str(instance._meta.verbose_name), current=current, target=to
    )


def full_clean_as_violation(instance, *, exclude: Iterable[str] = ()) -> None:
    """Model validation, turned into a 400 that names the first field at fault."""
    try:
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise BusinessRuleViolation(" ".join(messages), field=field) from exc


def check_content(content, *, plans: Iterable[PlanTerms]) -> None:
    """What every submission needs: a tradable grade, a full manual, a plan on sale."""
    if content.grade == Grade.CORE:
        raise BusinessRuleViolation(
            _("core-grade data (核心数据) is never traded on the exchange; it cannot be submitted"),
            field="grade",
            code="core_data",
        )
    for section in MANUAL_SECTIONS:
        if not getattr(content, section).strip():
            raise BusinessRuleViolation(
                _("fill in this section of the product manual before submitting"),
                field=section,
                code="required",
            )
    if (
        content.coverage_start is not None
        and content.coverage_end is not None
        and content.coverage_end < content.coverage_start
    ):
        raise BusinessRuleViolation(
            _("the coverage period ends before it starts"), field="coverage_end", code="invalid"
        )
    if not content.industry.is_active:
        raise BusinessRuleViolation(_("this industry is closed"), field="industry")
    if content.board_id is not None and not content.board.is_active:
        raise BusinessRuleViolation(_("this trading board is closed"), field="board")
    if not list(plans):
        raise BusinessRuleViolation(
            _("add at least one pricing plan before submitting"), field="plans", code="required"
        )


def public_data_problems(product: Product, *, plans: Iterable[PlanTerms] = ()) -> None:
    """Ask the public-data rules (公共数据授权运营) whether the product may be listed.

    They hold every product to account: a public-data product needs its grant
    and scenarios in force and plans within the grant's ceiling; a product of
    another source names no grant. The first problem becomes a 400 naming its field.
    """
    from publicdata import rules

    problems = list(rules.product_listing_problems(product))
    for plan in plans:
        problems += list(rules.plan_price_problems(product, plan))
    _raise_first(problems)


def plan_price_checked(product: Product, plan: PlanTerms) -> None:
    """A plan's price against the public-data rules (the grant's fee ceiling, free scenarios)."""
    from publicdata import rules

    _raise_first(list(rules.plan_price_problems(product, plan)))


def _raise_first(problems: list[tuple[str, str]]) -> None:
    if problems:
        field, message = problems[0]
        raise BusinessRuleViolation(message, field=field or "source_kind", code="public_data")


def validate_plan_terms(terms: Mapping) -> dict:
    """Complete and check a plan's terms for its kind; returns the clean terms.

    free: costs nothing. one_off: a price. subscription: a price per period
    (monthly, quarterly, yearly). metered: a price per call beyond the included
    calls, and an optional cap on one month's bill.
    """
    unknown = set(terms) - set(PLAN_TERMS_FIELDS)
    if unknown:
        raise BusinessRuleViolation(
            _("unknown plan field(s): %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    clean = {
        "name": "",
        "kind": "",
        "period": "",
        "price_fen": 0,
        "unit_price_fen": 0,
        "included_calls": 0,
        "monthly_cap_fen": None,
        **{k: v for k, v in terms.items()},
    }
    kind = clean["kind"]
    if kind not in PlanKind.values:
        raise BusinessRuleViolation(_("choose the plan's kind"), field="kind")
    for field in ("price_fen", "unit_price_fen", "included_calls", "monthly_cap_fen"):
        value = clean[field]
        if value is None and field == "monthly_cap_fen":
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise BusinessRuleViolation(_("give a whole number"), field=field)
        if value < 0:
            raise BusinessRuleViolation(_("must not be negative"), field=field)
        if value > MAX_FEN:
            raise BusinessRuleViolation(_("too large"), field=field)
    if kind == PlanKind.SUBSCRIPTION:
        if clean["period"] not in SubscriptionPeriod.values:
            raise BusinessRuleViolation(
                _("a subscription is monthly, quarterly or yearly"), field="period"
            )
    elif clean["period"]:
        raise BusinessRuleViolation(_("only subscriptions have a period"), field="period")
    if kind == PlanKind.METERED:
        if clean["unit_price_fen"] <= 0:
            raise BusinessRuleViolation(
                _("a metered plan has a price per call"), field="unit_price_fen"
            )
        if clean["price_fen"]:
            raise BusinessRuleViolation(
                _("a metered plan charges per call, not a fixed price"), field="price_fen"
            )
        cap = clean["monthly_cap_fen"]
        if cap is not None and cap < clean["unit_price_fen"]:
            raise BusinessRuleViolation(
                _("the monthly cap must be at least the price of one call"),
                field="monthly_cap_fen",
            )
        return clean
    for field in ("unit_price_fen", "included_calls", "monthly_cap_fen"):
        if clean[field]:
            raise BusinessRuleViolation(_("only metered plans have this"), field=field)
    clean["monthly_cap_fen"] = None
    if kind == PlanKind.FREE:
        if clean["price_fen"]:
            raise BusinessRuleViolation(_("a free plan costs nothing"), field="price_fen")
    elif clean["price_fen"] <= 0:
        raise BusinessRuleViolation(
            _("give a price above zero (or make the plan free)"), field="price_fen"
        )
    return clean


def check_checklists(
    compliance: Mapping | None,
    quality: Mapping | None,
    *,
    complete: bool,
    quality_required: bool = True,
):
    """Checklists are {item: true/false}; approving needs every item ticked.

    A shortened review (a registration recognised from a trusted partner)
    needs only the compliance items; the quality list may stay unticked.
    """
    result = {}
    for field, items, given in (
        ("compliance_checklist", COMPLIANCE_CHECKLIST, compliance),
        ("quality_checklist", QUALITY_CHECKLIST, quality),
    ):
        given = given or {}
        if not isinstance(given, Mapping):
            raise BusinessRuleViolation(_("give the checklist as {item: true/false}"), field=field)
        unknown = sorted(set(given) - set(items))
        if unknown:
            raise BusinessRuleViolation(
                _("unknown checklist item(s): %(items)s") % {"items": ", ".join(unknown)},
                field=field,
            )
        if any(not isinstance(v, bool) for v in given.values()):
            raise BusinessRuleViolation(_("tick items with true or false"), field=field)
        if complete and (quality_required or field == "compliance_checklist"):
            missing = [item for item in items if given.get(item) is not True]
            if missing:
                raise BusinessRuleViolation(
                    _("tick every item before approving; not ticked: %(items)s")
                    % {"items": ", ".join(missing)},
                    field=field,
                    code="checklist_incomplete",
                )
        result[field] = dict(given)
    return result["compliance_checklist"], result["quality_checklist"]


def refresh_min_price(product: Product) -> None:
    """Recompute the denormalised starting price from the plans on sale."""
    headline = Case(When(kind=PlanKind.METERED, then=F("unit_price_fen")), default=F("price_fen"))
    low = PricingPlan.objects.filter(product=product, is_active=True).aggregate(low=Min(headline))[
        "low"
    ]
    if low != product.min_price_fen:
        product.min_price_fen = low
        Product.objects.filter(pk=product.pk).update(min_price_fen=low)


def _iso_date(value) -> str | None:
    return value.isoformat() if value else None


def content_snapshot(product: Product) -> dict:
    """The listed content of a product as plain JSON (for ProductVersion)."""
    data = {
        field: getattr(product, field)
        for field in (
            "title",
            "title_en",
            "summary",
            "summary_en",
            *MANUAL_SECTIONS,
            "source_kind",
            "grade",
            "delivery_mode",
            "volume_bytes",
            "sample",
            "tags",
        )
    }
    data["coverage_start"] = _iso_date(product.coverage_start)
    data["coverage_end"] = _iso_date(product.coverage_end)
    data["industry"] = product.industry.code
    data["board"] = product.board.code if product.board is not None else None
    return data


def plans_snapshot(product: Product) -> list[dict]:
    return [
        {"id": plan.pk, **plan.terms()}
        for plan in PricingPlan.objects.filter(product=product, is_active=True).order_by("pk")
    ]
