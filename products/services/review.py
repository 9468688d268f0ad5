"""The review rules, written once for both things that are reviewed.

A product's first listing and a revision of a listed product (修订) go through
the same review: submitted -> in review -> approved or sent back to draft, with
the compliance and quality checklists, and two different operators for
important-grade data. A `ReviewFlow` says what differs between the two (the
status table, how to lock, where the content and plans are, what approval puts
on sale); the verbs here hold the rules. Locks: product, then the subject (when
it is a revision), then the review.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict
from core.transitions import transition
from products.choices import Grade, Verdict
from products.models import PlanTerms, Product, ProductReview, ProductVersion
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
    require_reason,
)


@dataclass(frozen=True)
class ReviewFlow:
    """What differs between reviewing a product and reviewing one of its revisions.

    `subject_field` is the ProductReview field pointing at the subject. `lock`
    locks in the house order and returns (product, subject). `content` gives
    what is checked (the subject's content and plans); `as_listed` the product
    as it would be listed, for the public-data rules. `approved_statuses` are
    the statuses in which approving again changes nothing. The hooks add the
    subject's own checks; `on_approved` puts the approved content on sale.
    """

    subject_field: str
    no_review: Any  # lazy message: translated when raised
    transitions: Mapping[str, Collection[str]]
    draft: str
    submitted: str
    in_review: str
    approved: str
    approved_statuses: Collection[str]
    lock: Callable[[Any], tuple[Product, Any]]
    content: Callable[[Product, Any], tuple[Any, Sequence[PlanTerms]]]
    as_listed: Callable[[Product, Any], Product]
    version_number: Callable[[Any], int]
    on_approved: Callable[..., None]
    before_submit: Callable[[Product], None] | None = None
    before_approve: Callable[[Product], None] | None = None


def flow_open_review(flow: ReviewFlow, subject) -> ProductReview | None:
    """The subject's pending review, locked, or None."""
    return (
        ProductReview.objects.select_for_update()
        .filter(**{flow.subject_field: subject}, verdict=Verdict.PENDING)
        .first()
    )


def flow_pending_review(flow: ReviewFlow, subject) -> ProductReview:
    review = flow_open_review(flow, subject)
    if review is None:
        raise Conflict(str(flow.no_review), code="no_review")
    return review


def _check_ready(flow: ReviewFlow, product: Product, subject) -> Sequence[PlanTerms]:
    """What submitting and approving both need; returns the plans that go on sale.

    A tradable grade, a full manual and a plan on sale; an active provider;
    the public-data rules on the product as it would be listed.
    """
    content, plans = flow.content(product, subject)
    check_content(content, plans=plans)
    require_provider_active(product)
    public_data_problems(flow.as_listed(product, subject), plans=plans)
    return plans


def review_open(*, actor: User, product: Product, version: int, grade: str, revision=None):
    """One review record per submission; important data will need two approvers."""
    return ProductReview.objects.create(
        product=product,
        revision=revision,
        version=version,
        grade=grade,
        required_approvals=2 if grade == Grade.IMPORTANT else 1,
        compliance_only=revision is None and _registration_recognised(product),
        submitted_by=actor if getattr(actor, "pk", None) else None,
    )


def _registration_recognised(product: Product) -> bool:
    """Is the product registered at a trusted partner (登记互认, kept by interchange)?"""
    return product.registration_recognitions.filter(
        status="recognised", partner__trust_level="trusted"
    ).exists()


def review_start(*, actor: User, review: ProductReview) -> None:
    review.reviewer = actor
    review.review_started_at = timezone.now()
    review.save(update_fields=["reviewer", "review_started_at", "updated_at"])


def review_approve_step(
    *, actor: User, review: ProductReview, compliance_checklist, quality_checklist, comments: str
) -> bool:
    """Record one operator's approval; True when the review is decided (approved).

    Important-grade data needs a first approval and then a second one by a
    different operator; the same operator approving twice is refused.
    """
    compliance, quality = check_checklists(
        compliance_checklist,
        quality_checklist,
        complete=True,
        quality_required=not review.compliance_only,
    )
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
    *, actor: User, review: ProductReview, comments: str, compliance_checklist, quality_checklist
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


def flow_submit(flow: ReviewFlow, *, actor: User, subject, provider_id: int):
    """draft -> submitted, opening a review record; submitting again changes nothing."""
    require_provider_or_operator(actor, provider_id)
    product, subject = flow.lock(subject)
    require_move(subject, to=flow.submitted, transitions=flow.transitions, only_from=[flow.draft])
    if subject.status == flow.submitted:
        return subject
    _check_ready(flow, product, subject)
    if flow.before_submit is not None:
        flow.before_submit(product)
    transition(
        subject,
        to=flow.submitted,
        actor=actor,
        reason="submitted for review",
        transitions=flow.transitions,
    )
    review_open(
        actor=actor,
        product=product,
        version=flow.version_number(subject),
        grade=subject.grade,
        revision=subject if flow.subject_field == "revision" else None,
    )
    return subject


def flow_start_review(flow: ReviewFlow, *, actor: User, subject):
    """submitted -> in review: an operator takes up the submission."""
    require_operator(actor)
    _product, subject = flow.lock(subject)
    require_move(
        subject, to=flow.in_review, transitions=flow.transitions, only_from=[flow.submitted]
    )
    if subject.status == flow.in_review:
        return subject
    review = flow_pending_review(flow, subject)
    transition(
        subject,
        to=flow.in_review,
        actor=actor,
        reason="review started",
        transitions=flow.transitions,
    )
    review_start(actor=actor, review=review)
    return subject


def flow_approve(
    flow: ReviewFlow,
    *,
    actor: User,
    subject,
    compliance_checklist,
    quality_checklist,
    comments: str,
):
    """in review -> approved (or a first approval recorded for important-grade data).

    The content is checked again as at submission; every checklist item must
    be ticked. Once decided, `flow.on_approved` puts the content on sale and
    the listed version is recorded with its review.
    """
    require_operator(actor)
    product, subject = flow.lock(subject)
    if subject.status in flow.approved_statuses:
        return subject  # already approved: asking again changes nothing
    require_move(
        subject, to=flow.approved, transitions=flow.transitions, only_from=[flow.in_review]
    )
    if flow.before_approve is not None:
        flow.before_approve(product)
    review = flow_pending_review(flow, subject)
    plans = _check_ready(flow, product, subject)
    decided = review_approve_step(
        actor=actor,
        review=review,
        compliance_checklist=compliance_checklist,
        quality_checklist=quality_checklist,
        comments=comments,
    )
    if not decided:
        return subject
    now = timezone.now()
    flow.on_approved(
        actor=actor, product=product, subject=subject, plans=plans, comments=comments, now=now
    )
    ProductVersion.objects.create(
        product=product,
        number=product.version,
        content=content_snapshot(product),
        plans=plans_snapshot(product),
        review=review,
        listed_at=now,
    )
    return subject


def flow_reject(
    flow: ReviewFlow,
    *,
    actor: User,
    subject,
    comments: str,
    compliance_checklist,
    quality_checklist,
):
    """in review -> draft, with the reviewer's comments for the merchant to act on."""
    require_operator(actor)
    _product, subject = flow.lock(subject)
    require_move(subject, to=flow.draft, transitions=flow.transitions, only_from=[flow.in_review])
    if subject.status == flow.draft:
        return subject
    review = flow_pending_review(flow, subject)
    review_reject(
        actor=actor,
        review=review,
        comments=comments,
        compliance_checklist=compliance_checklist,
        quality_checklist=quality_checklist,
    )
    transition(
        subject,
        to=flow.draft,
        actor=actor,
        reason=comments,
        transitions=flow.transitions,
    )
    return subject
