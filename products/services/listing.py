"""The listing review and lifecycle: draft -> submitted -> in review -> listed, and after.

Every move goes through core.transitions.transition (a ProductEvent per move).
Locks: the product row first, then its review row, always in that order, so
two services never wait on each other in opposite orders.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import MerchantStatus
from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation, Conflict
from core.transitions import lock_in_pk_order, lock_one, transition
from products.choices import (
    ON_EXCHANGE,
    PRODUCT_TRANSITIONS,
    ProductStatus,
    SuspensionCause,
)
from products.models import PricingPlan, Product
from products.services.common import (
    require_move,
    require_operator,
    require_provider_active,
    require_provider_or_operator,
    require_reason,
)
from products.services.registration import registration_number_issue
from products.services.review import (
    ReviewFlow,
    flow_approve,
    flow_open_review,
    flow_pending_review,
    flow_reject,
    flow_start_review,
    flow_submit,
    review_withdraw,
)


def _active_plans(product: Product) -> list[PricingPlan]:
    return list(PricingPlan.objects.filter(product=product, is_active=True).order_by("pk"))


def _lock(product: Product) -> tuple[Product, Product]:
    product = lock_one(Product, product.pk)
    return product, product


def _put_on_sale(
    *, actor: User, product: Product, subject: Product, plans, comments: str, now
) -> None:
    """First listing: the registration number (登记号) once, and listed from now."""
    changes: dict[str, object] = {}
    if product.registration_number is None:
        changes["registration_number"] = registration_number_issue(at=now)
    if product.listed_at is None:
        changes["listed_at"] = now
    changes["delisting_requested_at"] = None
    transition(
        product,
        to=ProductStatus.LISTED,
        actor=actor,
        reason=comments or "review approved",
        transitions=PRODUCT_TRANSITIONS,
        changes=changes,
    )


# The product itself is the subject of its first review.
PRODUCT_REVIEW = ReviewFlow(
    subject_field="product",
    no_review=gettext_lazy("there is no pending review for this product"),
    transitions=PRODUCT_TRANSITIONS,
    draft=ProductStatus.DRAFT,
    submitted=ProductStatus.SUBMITTED,
    in_review=ProductStatus.IN_REVIEW,
    approved=ProductStatus.LISTED,
    approved_statuses=ON_EXCHANGE,
    lock=_lock,
    content=lambda product, _subject: (product, _active_plans(product)),
    as_listed=lambda product, _subject: product,
    version_number=lambda product: product.version,
    on_approved=_put_on_sale,
)


@transaction.atomic
def product_submit(*, actor: User, product: Product) -> Product:
    """draft -> submitted, opening a review record.

    Refused with the field at fault: core-grade data (never traded), an empty
    manual section, no plan on sale, an inactive provider, public-data rules.
    """
    return flow_submit(
        PRODUCT_REVIEW, actor=actor, subject=product, provider_id=product.provider_id
    )


@transaction.atomic
def product_withdraw(*, actor: User, product: Product, reason: str = "") -> Product:
    """submitted -> draft: the merchant takes a submission back before review starts."""
    require_provider_or_operator(actor, product.provider_id)
    product = lock_one(Product, product.pk)
    if product.status == ProductStatus.DRAFT:
        return product
    require_move(
        product,
        to=ProductStatus.DRAFT,
        transitions=PRODUCT_TRANSITIONS,
        only_from=[ProductStatus.SUBMITTED],
    )
    review = flow_pending_review(PRODUCT_REVIEW, product)
    transition(
        product,
        to=ProductStatus.DRAFT,
        actor=actor,
        reason=reason or "submission withdrawn",
        transitions=PRODUCT_TRANSITIONS,
    )
    review_withdraw(review)
    return product


@transaction.atomic
def product_start_review(*, actor: User, product: Product) -> Product:
    """submitted -> in review: an operator takes up the submission."""
    return flow_start_review(PRODUCT_REVIEW, actor=actor, subject=product)


@transaction.atomic
def product_approve(
    *,
    actor: User,
    product: Product,
    compliance_checklist: dict,
    quality_checklist: dict,
    comments: str = "",
) -> Product:
    """in review -> listed, or a first approval recorded for important-grade data.

    Invariants: every checklist item ticked; important grade takes two
    different operators; at first listing the product gets its registration
    number and version 1 is recorded as listed.
    """
    return flow_approve(
        PRODUCT_REVIEW,
        actor=actor,
        subject=product,
        compliance_checklist=compliance_checklist,
        quality_checklist=quality_checklist,
        comments=comments,
    )


@transaction.atomic
def product_reject(
    *,
    actor: User,
    product: Product,
    comments: str,
    compliance_checklist: dict | None = None,
    quality_checklist: dict | None = None,
) -> Product:
    """in review -> draft, with the reviewer's comments for the merchant to act on."""
    return flow_reject(
        PRODUCT_REVIEW,
        actor=actor,
        subject=product,
        comments=comments,
        compliance_checklist=compliance_checklist,
        quality_checklist=quality_checklist,
    )


@transaction.atomic
def product_suspend(
    *, actor: User | None, product: Product, reason: str, cause: str = SuspensionCause.OPERATOR
) -> Product:
    """listed -> suspended, remembering the cause. A suspended product keeps its first cause."""
    product = lock_one(Product, product.pk)
    if product.status == ProductStatus.SUSPENDED:
        return product
    transition(
        product,
        to=ProductStatus.SUSPENDED,
        actor=actor,
        reason=reason,
        transitions=PRODUCT_TRANSITIONS,
        changes={"suspension_cause": cause},
    )
    return product


@transaction.atomic
def product_reinstate(
    *, actor: User | None, product: Product, reason: str, cause: str | None = None
) -> Product:
    """suspended -> listed. With `cause`, only a product suspended for that cause returns.

    Invariant: a product of a provider that is not active stays suspended; its
    cause becomes the merchant's, so that reinstating the merchant brings it back
    and nothing else does.
    """
    product = lock_one(Product, product.pk)
    if cause is not None and product.suspension_cause != cause:
        return product
    # The table also allows in review -> listed, but that move is approval's.
    require_move(
        product,
        to=ProductStatus.LISTED,
        transitions=PRODUCT_TRANSITIONS,
        only_from=[ProductStatus.SUSPENDED],
    )
    if product.status == ProductStatus.SUSPENDED and (
        Merchant.objects.filter(pk=product.provider_id)
        .exclude(status=MerchantStatus.ACTIVE)
        .exists()
    ):
        if product.suspension_cause != SuspensionCause.MERCHANT:
            product.suspension_cause = SuspensionCause.MERCHANT
            product.save(update_fields=["suspension_cause", "updated_at"])
        return product
    transition(
        product,
        to=ProductStatus.LISTED,
        actor=actor,
        reason=reason,
        transitions=PRODUCT_TRANSITIONS,
        changes={"suspension_cause": ""},
    )
    return product


@transaction.atomic
def product_reinstate_by_operator(*, actor: User, product: Product, reason: str) -> Product:
    """An operator lifts a suspension the operators imposed (and only that kind).

    A suspension caused by the provider's status or by a grant ends when that
    cause ends; lifting it here would put on sale what must not be sold.
    """
    require_operator(actor)
    reason = require_reason(reason)
    product = lock_one(Product, product.pk)
    if product.status == ProductStatus.LISTED:
        return product
    if product.status == ProductStatus.SUSPENDED and (
        product.suspension_cause not in ("", SuspensionCause.OPERATOR)
    ):
        raise Conflict(
            _("the product is suspended because of: %(cause)s; it returns when that ends")
            % {"cause": product.get_suspension_cause_display()},
            code="suspended_for_another_cause",
        )
    require_provider_active(product)
    return product_reinstate(actor=actor, product=product, reason=reason)


@transaction.atomic
def product_request_delisting(*, actor: User, product: Product, reason: str) -> Product:
    """The provider asks the operators to delist a product (下架申请); they decide."""
    require_provider_or_operator(actor, product.provider_id)
    reason = require_reason(reason)
    product = lock_one(Product, product.pk)
    if product.status not in ON_EXCHANGE:
        raise BusinessRuleViolation(
            _("only listed or suspended products are delisted; a draft is simply not submitted"),
            field="status",
            code="not_listed",
        )
    if product.delisting_requested_at is None:
        product.delisting_requested_at = timezone.now()
        product.delisting_request_reason = reason
        product.save(
            update_fields=["delisting_requested_at", "delisting_request_reason", "updated_at"]
        )
    return product


@transaction.atomic
def product_delist(*, actor: User, product: Product, reason: str) -> Product:
    """listed or suspended -> delisted, final. An open revision is withdrawn with it.

    The registration number stays with the delisted product; it is never reused.
    """
    require_operator(actor)
    reason = require_reason(reason)
    product = lock_one(Product, product.pk)
    require_move(
        product,
        to=ProductStatus.DELISTED,
        transitions=PRODUCT_TRANSITIONS,
        only_from=ON_EXCHANGE,
    )
    if product.status == ProductStatus.DELISTED:
        return product
    review = flow_open_review(PRODUCT_REVIEW, product)
    transition(
        product,
        to=ProductStatus.DELISTED,
        actor=actor,
        reason=reason,
        transitions=PRODUCT_TRANSITIONS,
        changes={"suspension_cause": ""},
    )
    review_withdraw(review)
    from products.services.revisions import revisions_close_for_delisted

    revisions_close_for_delisted(actor=actor, product=product)
    return product


def products_follow_merchant_status(*, actor: User, merchant: Merchant, reason: str) -> int:
    """Suspend a suspended or exited merchant's listed products; reinstate them with it.

    Only products suspended because of the merchant come back on reinstatement.
    Returns how many products changed.
    """
    if merchant.status in (MerchantStatus.SUSPENDED, MerchantStatus.EXITED):
        ids = Product.objects.filter(provider=merchant, status=ProductStatus.LISTED).values_list(
            "pk", flat=True
        )
        products = lock_in_pk_order(Product, ids)
        for product in products:
            product_suspend(
                actor=actor, product=product, reason=reason, cause=SuspensionCause.MERCHANT
            )
        return len(products)
    if merchant.status == MerchantStatus.ACTIVE:
        ids = Product.objects.filter(
            provider=merchant,
            status=ProductStatus.SUSPENDED,
            suspension_cause=SuspensionCause.MERCHANT,
        ).values_list("pk", flat=True)
        products = lock_in_pk_order(Product, ids)
        for product in products:
            product_reinstate(
                actor=actor, product=product, reason=reason, cause=SuspensionCause.MERCHANT
            )
        return len(products)
    return 0
