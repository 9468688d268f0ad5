"""Drafts: a merchant describes a product and prices it before submitting it."""

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.relations import PrimaryKeyRelatedField

from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation
from core.transitions import lock_one
from products.choices import ProductStatus
from products.models import CONTENT_FIELDS, PricingPlan, Product
from products.services.common import (
    full_clean_as_violation,
    plan_price_checked,
    refresh_min_price,
    require_provider_or_operator,
    validate_plan_terms,
)

# What a draft's editor may set besides the content: the grant and scenarios a
# public-data product is built under.
EDITABLE_FIELDS = (*CONTENT_FIELDS, "grant")


def _check_fields(fields) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS) - {"scenarios"}
    if unknown:
        raise BusinessRuleViolation(
            _("these fields cannot be set here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )


def _refused_like_missing(field: str, pk) -> BusinessRuleViolation:
    # The words DRF gives an id that does not exist, so that naming another
    # merchant's record tells nothing about which records exist.
    message = PrimaryKeyRelatedField.default_error_messages["does_not_exist"]
    return BusinessRuleViolation(
        str(message).format(pk_value=pk), field=field, code="does_not_exist"
    )


def _check_public_data_refs(provider_id: int, fields) -> None:
    """A draft names only grants its provider holds, and those grants' scenarios."""
    grant = fields.get("grant")
    if grant is not None and grant.grantee_id != provider_id:
        raise _refused_like_missing("grant", grant.pk)
    for scenario in fields.get("scenarios") or ():
        if scenario.grant.grantee_id != provider_id:
            raise _refused_like_missing("scenarios", scenario.pk)


def _require_draft(product: Product) -> None:
    if product.status != ProductStatus.DRAFT:
        hint = (
            _("a listed product changes through a new version (a revision)")
            if product.status in (ProductStatus.LISTED, ProductStatus.SUSPENDED)
            else _("only drafts are edited")
        )
        raise BusinessRuleViolation(
            _("the product is %(status)s: %(hint)s")
            % {"status": product.get_status_display(), "hint": hint},
            field="status",
            code="not_draft",
        )


@transaction.atomic
def product_create(*, actor: User, provider: Merchant, **fields) -> Product:
    """Create a draft product for `provider`.

    Invariant: a product starts as a draft, unregistered, owned by the merchant
    whose person (or an operator) created it.
    """
    require_provider_or_operator(actor, provider.pk)
    _check_fields(fields)
    _check_public_data_refs(provider.pk, fields)
    scenarios = fields.pop("scenarios", None)
    product = Product(provider=provider, status=ProductStatus.DRAFT, **fields)
    full_clean_as_violation(product, exclude=["registration_number"])
    product.save()
    if scenarios is not None:
        product.scenarios.set(scenarios)
    product.events.create(
        actor=actor if getattr(actor, "pk", None) else None,
        from_status="",
        to_status=ProductStatus.DRAFT,
        reason="created",
    )
    return product


@transaction.atomic
def product_update(*, actor: User, product: Product, **changes) -> Product:
    """Change a draft's content. Listed products change through revisions instead."""
    require_provider_or_operator(actor, product.provider_id)
    _check_fields(changes)
    _check_public_data_refs(product.provider_id, changes)
    product = lock_one(Product, product.pk)
    _require_draft(product)
    scenarios = changes.pop("scenarios", None)
    for field, value in changes.items():
        setattr(product, field, value)
    full_clean_as_violation(product)
    product.save(update_fields=[*changes, "updated_at"])
    if scenarios is not None:
        product.scenarios.set(scenarios)
    return product


@transaction.atomic
def plan_create(*, actor: User, product: Product, **terms) -> PricingPlan:
    """Add a pricing plan to a draft. Money in fen; the terms must fit the kind."""
    require_provider_or_operator(actor, product.provider_id)
    product = lock_one(Product, product.pk)
    _require_draft(product)
    plan = PricingPlan(product=product, **validate_plan_terms(terms))
    plan_price_checked(product, plan)
    plan.save()
    refresh_min_price(product)
    return plan


@transaction.atomic
def plan_update(*, actor: User, plan: PricingPlan, **changes) -> PricingPlan:
    """Change a draft's plan. Plans of listed products are never edited (orders use them)."""
    require_provider_or_operator(actor, plan.product.provider_id)
    product = lock_one(Product, plan.product_id)
    _require_draft(product)
    plan = PricingPlan.objects.get(pk=plan.pk)
    terms = validate_plan_terms({**plan.terms(), **changes})
    for field, value in terms.items():
        setattr(plan, field, value)
    plan_price_checked(product, plan)
    plan.save()
    refresh_min_price(product)
    return plan


@transaction.atomic
def plan_delete(*, actor: User, plan: PricingPlan) -> None:
    """Remove a draft's plan."""
    require_provider_or_operator(actor, plan.product.provider_id)
    product = lock_one(Product, plan.product_id)
    _require_draft(product)
    PricingPlan.objects.filter(pk=plan.pk).delete()
    refresh_min_price(product)
