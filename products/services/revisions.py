"""New versions of listed products (修订): reviewed while the listed version keeps selling.

A revision is a full copy of the product's content and plans, opened from the
listed version and edited as a draft. The product row (what orders point at)
does not change until the revision is approved; then the content is copied
onto it, its old plans are switched off (never edited: orders keep the terms
they bought) and the revision's plans go on sale. Locks: product, then revision,
then review.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict
from core.transitions import lock_one, transition
from products.choices import (
    ON_EXCHANGE,
    OPEN_REVISION_STATUSES,
    REVISION_TRANSITIONS,
    RevisionStatus,
    Verdict,
)
from products.models import (
    CONTENT_FIELDS,
    PricingPlan,
    Product,
    ProductReview,
    ProductRevision,
    RevisionPlan,
)
from products.services.common import (
    full_clean_as_violation,
    plan_price_checked,
    refresh_min_price,
    require_provider_or_operator,
    validate_plan_terms,
)
from products.services.review import (
    ReviewFlow,
    flow_approve,
    flow_open_review,
    flow_reject,
    flow_start_review,
    flow_submit,
    review_withdraw,
)


def _require_revision_draft(revision: ProductRevision) -> None:
    if revision.status != RevisionStatus.DRAFT:
        raise BusinessRuleViolation(
            _("the revision is %(status)s; only drafts are edited")
            % {"status": revision.get_status_display()},
            field="status",
            code="not_draft",
        )


def _as_revised(product: Product, revision: ProductRevision) -> Product:
    """An unsaved copy of the product carrying the revision's content, for rule checks."""
    copy = Product.objects.get(pk=product.pk)
    for field in CONTENT_FIELDS:
        setattr(copy, field, getattr(revision, field))
    return copy


def _lock(revision: ProductRevision) -> tuple[Product, ProductRevision]:
    product = lock_one(Product, revision.product_id)
    return product, lock_one(ProductRevision, revision.pk)


def _require_no_review_under_way(product: Product) -> None:
    if ProductReview.objects.filter(product=product, verdict=Verdict.PENDING).exists():
        raise Conflict(_("the product already has a review under way"), code="review_pending")


def _require_on_exchange(product: Product) -> None:
    if product.status not in ON_EXCHANGE:
        raise Conflict(_("the product is no longer on the exchange"), code="not_listed")


def _put_on_sale(
    *, actor: User, product: Product, subject: ProductRevision, plans, comments: str, now
) -> None:
    """The revision's content and plans replace the listed ones on the product row."""
    revision = subject
    for field in CONTENT_FIELDS:
        setattr(product, field, getattr(revision, field))
    product.version = revision.number
    product.save(update_fields=[*CONTENT_FIELDS, "version", "updated_at"])
    # Old plans are switched off, not edited or deleted: orders placed under
    # them keep pointing at the terms they bought.
    PricingPlan.objects.filter(product=product, is_active=True).update(is_active=False)
    PricingPlan.objects.bulk_create(
        PricingPlan(product=product, is_active=True, **plan.terms()) for plan in plans
    )
    refresh_min_price(product)
    transition(
        revision,
        to=RevisionStatus.APPROVED,
        actor=actor,
        reason=comments or "review approved",
        transitions=REVISION_TRANSITIONS,
    )
    product.events.create(
        actor=actor,
        from_status=product.status,
        to_status=product.status,
        reason=f"version {revision.number} approved and on sale",
    )


# A revision is reviewed by the same rules as a first listing; only one review
# per product is under way at a time, and the product must still be on sale.
REVISION_REVIEW = ReviewFlow(
    subject_field="revision",
    no_review=gettext_lazy("there is no pending review for this revision"),
    transitions=REVISION_TRANSITIONS,
    draft=RevisionStatus.DRAFT,
    submitted=RevisionStatus.SUBMITTED,
    in_review=RevisionStatus.IN_REVIEW,
    approved=RevisionStatus.APPROVED,
    approved_statuses=(RevisionStatus.APPROVED,),
    lock=_lock,
    content=lambda _product, revision: (revision, list(revision.plans.all())),
    as_listed=_as_revised,
    version_number=lambda revision: revision.number,
    on_approved=_put_on_sale,
    before_submit=_require_no_review_under_way,
    before_approve=_require_on_exchange,
)


@transaction.atomic
def revision_open(*, actor: User, product: Product, change_note: str = "") -> ProductRevision:
    """Open (or return the already open) revision of a listed or suspended product.

    Invariant: at most one open revision per product (a partial unique index).
    """
    require_provider_or_operator(actor, product.provider_id)
    product = lock_one(Product, product.pk)
    existing = ProductRevision.objects.filter(
        product=product, status__in=OPEN_REVISION_STATUSES
    ).first()
    if existing is not None:
        return existing
    if product.status not in ON_EXCHANGE:
        raise BusinessRuleViolation(
            _("only listed or suspended products get new versions; edit a draft directly"),
            field="product",
            code="not_listed",
        )
    revision = ProductRevision(
        product=product,
        number=product.version + 1,
        change_note=change_note,
        created_by=actor if getattr(actor, "pk", None) else None,
        **{field: getattr(product, field) for field in CONTENT_FIELDS},
    )
    revision.save()
    RevisionPlan.objects.bulk_create(
        RevisionPlan(revision=revision, **plan.terms())
        for plan in PricingPlan.objects.filter(product=product, is_active=True).order_by("pk")
    )
    revision.events.create(
        actor=actor if getattr(actor, "pk", None) else None,
        from_status="",
        to_status=RevisionStatus.DRAFT,
        reason=change_note or "revision opened",
    )
    return revision


@transaction.atomic
def revision_update(*, actor: User, revision: ProductRevision, **changes) -> ProductRevision:
    """Change a draft revision's content (title, manual, grade, ...)."""
    require_provider_or_operator(actor, revision.product.provider_id)
    unknown = set(changes) - {*CONTENT_FIELDS, "change_note"}
    if unknown:
        raise BusinessRuleViolation(
            _("these fields cannot be set here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    _product, revision = _lock(revision)
    _require_revision_draft(revision)
    for field, value in changes.items():
        setattr(revision, field, value)
    full_clean_as_violation(revision)
    revision.save(update_fields=[*changes, "updated_at"])
    return revision


@transaction.atomic
def revision_plan_create(*, actor: User, revision: ProductRevision, **terms) -> RevisionPlan:
    require_provider_or_operator(actor, revision.product.provider_id)
    _product, revision = _lock(revision)
    _require_revision_draft(revision)
    plan = RevisionPlan(revision=revision, **validate_plan_terms(terms))
    plan_price_checked(_as_revised(revision.product, revision), plan)
    plan.save()
    return plan


@transaction.atomic
def revision_plan_update(*, actor: User, plan: RevisionPlan, **changes) -> RevisionPlan:
    require_provider_or_operator(actor, plan.revision.product.provider_id)
    _product, revision = _lock(plan.revision)
    _require_revision_draft(revision)
    plan = RevisionPlan.objects.get(pk=plan.pk)
    for field, value in validate_plan_terms({**plan.terms(), **changes}).items():
        setattr(plan, field, value)
    plan_price_checked(_as_revised(revision.product, revision), plan)
    plan.save()
    return plan


@transaction.atomic
def revision_plan_delete(*, actor: User, plan: RevisionPlan) -> None:
    require_provider_or_operator(actor, plan.revision.product.provider_id)
    _product, revision = _lock(plan.revision)
    _require_revision_draft(revision)
    RevisionPlan.objects.filter(pk=plan.pk).delete()


@transaction.atomic
def revision_submit(*, actor: User, revision: ProductRevision) -> ProductRevision:
    """draft -> submitted, opening a review; the same rules as a first submission."""
    return flow_submit(
        REVISION_REVIEW, actor=actor, subject=revision, provider_id=revision.product.provider_id
    )


@transaction.atomic
def revision_start_review(*, actor: User, revision: ProductRevision) -> ProductRevision:
    """submitted -> in review: an operator takes up the submitted revision."""
    return flow_start_review(REVISION_REVIEW, actor=actor, subject=revision)


@transaction.atomic
def revision_approve(
    *,
    actor: User,
    revision: ProductRevision,
    compliance_checklist: dict,
    quality_checklist: dict,
    comments: str = "",
) -> ProductRevision:
    """in review -> approved: the revision becomes the product's listed version.

    Until the final approval the product sells its previous version untouched.
    Important-grade content needs two different operators, as at first listing.
    """
    return flow_approve(
        REVISION_REVIEW,
        actor=actor,
        subject=revision,
        compliance_checklist=compliance_checklist,
        quality_checklist=quality_checklist,
        comments=comments,
    )


@transaction.atomic
def revision_reject(
    *,
    actor: User,
    revision: ProductRevision,
    comments: str,
    compliance_checklist: dict | None = None,
    quality_checklist: dict | None = None,
) -> ProductRevision:
    """in review -> draft with the reviewer's comments; the listed version sells on."""
    return flow_reject(
        REVISION_REVIEW,
        actor=actor,
        subject=revision,
        comments=comments,
        compliance_checklist=compliance_checklist,
        quality_checklist=quality_checklist,
    )


@transaction.atomic
def revision_withdraw(
    *, actor: User, revision: ProductRevision, reason: str = ""
) -> ProductRevision:
    """Abandon a revision (final); its pending review, if any, is withdrawn."""
    require_provider_or_operator(actor, revision.product.provider_id)
    _product, revision = _lock(revision)
    if revision.status == RevisionStatus.WITHDRAWN:
        return revision
    review = flow_open_review(REVISION_REVIEW, revision)
    transition(
        revision,
        to=RevisionStatus.WITHDRAWN,
        actor=actor,
        reason=reason or "withdrawn",
        transitions=REVISION_TRANSITIONS,
    )
    review_withdraw(review)
    return revision


def revisions_close_for_delisted(*, actor: User, product: Product) -> None:
    """A delisted product gets no new version: withdraw its open revision (caller locks)."""
    for revision in ProductRevision.objects.select_for_update().filter(
        product=product, status__in=OPEN_REVISION_STATUSES
    ):
        transition(
            revision,
            to=RevisionStatus.WITHDRAWN,
            actor=actor,
            reason="product delisted",
            transitions=REVISION_TRANSITIONS,
        )
