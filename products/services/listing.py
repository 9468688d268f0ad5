"""The listing review and lifecycle: draft -> submitted -> in review -> listed, and after.

Every move goes through core.transitions.transition (a ProductEvent per move).
Locks: the product row first, then its review row, always in that order, so
two services never wait on each other in opposite orders.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import MerchantStatus
from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation, Conflict
from core.transitions import lock_in_pk_order, lock_one, transition
from products.choices import (
    ON_EXCHANGE,
    PRODUCT_TRANSITIONS,
    Grade,
    ProductStatus,
    SuspensionCause,
    Verdict,
)
from products.models import PricingPlan, Product, ProductReview, ProductVersion
from products.services.common import (
    check_checklists,
    check_content,
    content_snapshot,
    plans_snapshot,
    public_data_problems,
    require_move,
    require_operator,
    require_provider_active,
    require_provider_or_operator,
)
from products.services.registration import registration_number_issue


def require_reason(reason: str, *, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleViolation(_("give a reason"), field=field, code="required")
    return reason


def pending_review(product: Product) -> ProductReview:
    review = (
        ProductReview.objects.select_for_update()
        .filter(product=product, verdict=Verdict.PENDING)
        .first()
    )
    if review is None:
        raise Conflict(_("there is no pending review for this product"), code="no_review")
    return review


def review_open(*, actor, product: Product, version: int, grade: str, revision=None):
    """One review record per submission; important data will need two approvers."""
    return ProductReview.objects.create(
        product=product,
        revision=revision,
        version=version,
        grade=grade,
        required_approvals=2 if grade == Grade.IMPORTANT else 1,
        submitted_by=actor if getattr(actor, "pk", None) else None,
    )


def review_start(*, actor, review: ProductReview) -> None:
    review.reviewer = actor
    review.review_started_at = timezone.now()
    review.save(update_fields=["reviewer", "review_started_at", "updated_at"])


def review_approve_step(
    *, actor, review: ProductReview, compliance_checklist, quality_checklist, comments: str
) -> bool:
    """Record one operator's approval; True when the review is decided (approved).

    Important-grade data needs a first approval and then a second one by a
    different operator; the same operator approving twice is refused.
    """
    compliance, quality = check_checklists(compliance_checklist, quality_checklist, complete=True)
    now = timezone.now()
    review.compliance_checklist = compliance
    review.quality_checklist = quality
    if comments:
        review.comments = "\n".join(c for c in (review.comments, comments.strip()) if c)
    if review.required_approvals >= 2 and review.first_approver_id is None:
        review.first_approver = actor
        review.first_approved_at = now
        review.save()
        return False
    if review.first_approver_id is not None and review.first_approver_id == actor.pk:
        raise BusinessRuleViolation(
            _(
                "important-grade data needs a second approval by a different operator; "
                "you gave the first one"
            ),
            field="approver",
            code="same_approver",
        )
    review.verdict = Verdict.APPROVED
    review.decided_by = actor
    review.decided_at = now
    review.save()
    return True


def review_reject(
    *, actor, review: ProductReview, comments: str, compliance_checklist, quality_checklist
) -> None:
    comments = require_reason(comments, field="comments")
    compliance, quality = check_checklists(compliance_checklist, quality_checklist, complete=False)
    review.compliance_checklist = compliance or review.compliance_checklist
    review.quality_checklist = quality or review.quality_checklist
    review.comments = "\n".join(c for c in (review.comments, comments) if c)
    review.verdict = Verdict.REJECTED
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.save()


def review_withdraw(review: ProductReview | None) -> None:
    if review is not None:
        review.verdict = Verdict.WITHDRAWN
        review.decided_at = timezone.now()
        review.save(update_fields=["verdict", "decided_at", "updated_at"])


def active_plans(product: Product) -> list[PricingPlan]:
    return list(PricingPlan.objects.filter(product=product, is_active=True).order_by("pk"))


@transaction.atomic
def product_submit(*, actor: User, product: Product) -> Product:
    """draft -> submitted, opening a review record.

    Refused with the field at fault: core-grade data (never traded), an empty
    manual section, no plan on sale, an inactive provider, public-data rules.
    """
    require_provider_or_operator(actor, product.provider_id)
    product = lock_one(Product, product.pk)
    require_move(
        product,
        to=ProductStatus.SUBMITTED,
        transitions=PRODUCT_TRANSITIONS,
        only_from=[ProductStatus.DRAFT],
    )
    if product.status == ProductStatus.SUBMITTED:
        return product
    plans = active_plans(product)
    check_content(product, plans=plans)
    require_provider_active(product)
    public_data_problems(product, plans=plans)
    transition(
        product,
        to=ProductStatus.SUBMITTED,
        actor=actor,
        reason="submitted for review",
        transitions=PRODUCT_TRANSITIONS,
    )
    review_open(actor=actor, product=product, version=product.version, grade=product.grade)
    return product


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
    review = pending_review(product)
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
    require_operator(actor)
    product = lock_one(Product, product.pk)
    require_move(
        product,
        to=ProductStatus.IN_REVIEW,
        transitions=PRODUCT_TRANSITIONS,
        only_from=[ProductStatus.SUBMITTED],
    )
    if product.status == ProductStatus.IN_REVIEW:
        return product
    review = pending_review(product)
    transition(
        product,
        to=ProductStatus.IN_REVIEW,
        actor=actor,
        reason="review started",
        transitions=PRODUCT_TRANSITIONS,
    )
    review_start(actor=actor, review=review)
    return product


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
    require_operator(actor)
    product = lock_one(Product, product.pk)
    if product.status in ON_EXCHANGE:
        return product  # already approved: asking again changes nothing
    require_move(
        product,
        to=ProductStatus.LISTED,
        transitions=PRODUCT_TRANSITIONS,
        only_from=[ProductStatus.IN_REVIEW],
    )
    review = pending_review(product)
    plans = active_plans(product)
    check_content(product, plans=plans)
    require_provider_active(product)
    public_data_problems(product, plans=plans)
    decided = review_approve_step(
        actor=actor,
        review=review,
        compliance_checklist=compliance_checklist,
        quality_checklist=quality_checklist,
        comments=comments,
    )
    if not decided:
        return product
    now = timezone.now()
    changes = {}
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
    ProductVersion.objects.create(
        product=product,
        number=product.version,
        content=content_snapshot(product),
        plans=plans_snapshot(product),
        review=review,
        listed_at=now,
    )
    return product


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
    require_operator(actor)
    product = lock_one(Product, product.pk)
    require_move(
        product,
        to=ProductStatus.DRAFT,
        transitions=PRODUCT_TRANSITIONS,
        only_from=[ProductStatus.IN_REVIEW],
    )
    if product.status == ProductStatus.DRAFT:
        return product
    review = pending_review(product)
    review_reject(
        actor=actor,
        review=review,
        comments=comments,
        compliance_checklist=compliance_checklist,
        quality_checklist=quality_checklist,
    )
    transition(
        product,
        to=ProductStatus.DRAFT,
        actor=actor,
        reason=comments,
        transitions=PRODUCT_TRANSITIONS,
    )
    return product


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
    review = (
        ProductReview.objects.select_for_update()
        .filter(product=product, verdict=Verdict.PENDING)
        .first()
    )
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
