"""A merchant's listing work on a product's (or a revision's) page in the admin.

The page says where the listing stands (the status, what the reviewers said
last), and offers the next step as a button: submit for review, take a
submission back, open a new version of a listed product. Each button posts
to one view that calls the product services, which check who may do what;
a refusal is shown on the page and changes nothing.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import SERVICE_REFUSALS
from core.scoping import is_operator, merchant_id_of
from products import services
from products.choices import (
    COMPLIANCE_CHECKLIST,
    QUALITY_CHECKLIST,
    ProductStatus,
    RevisionStatus,
    Verdict,
)
from products.models import Product, ProductReview, ProductRevision


def checklist_shown(items: dict, ticked: dict | None):
    """A review's checklist as its labelled items, each ticked or not ("✓ 数据来源合法")."""
    ticked = ticked or {}
    if not ticked:
        return "-"
    return format_html(
        '<ul class="review-checklist">{}</ul>',
        format_html_join(
            "",
            '<li class="{}">{} {}</li>',
            (
                ("yes", "✓", label) if ticked.get(key) else ("no", "✗", label)
                for key, label in items.items()
            ),
        ),
    )


def compliance_shown(review: ProductReview):
    return checklist_shown(COMPLIANCE_CHECKLIST, review.compliance_checklist)


def quality_shown(review: ProductReview):
    return checklist_shown(QUALITY_CHECKLIST, review.quality_checklist)


@dataclass
class Step:
    name: str
    label: str | Promise
    help: str | Promise = ""
    note_label: str | Promise | None = None


SUBMIT = Step(
    "submit",
    _("Submit for review"),
    _("The exchange's reviewers check the manual, the sample and the plans."),
)
RESUBMIT = Step(
    "submit",
    _("Submit again for review"),
    _("Change what the reviewers asked for above, save, then submit again."),
)
WITHDRAW = Step("withdraw", _("Take the submission back"), _("Possible until review starts."))
OPEN_REVISION = Step(
    "open_revision",
    _("Prepare a new version"),
    _("The listed version stays on sale until the new one is approved."),
    note_label=_("what changes in the new version"),
)


def last_review(subject) -> ProductReview | None:
    reviews = subject.reviews.all()
    if isinstance(subject, Product):
        reviews = reviews.filter(revision__isnull=True)
    return reviews.exclude(verdict=Verdict.WITHDRAWN).order_by("-created_at", "-id").first()


def steps_for(subject, user) -> list[Step]:
    if is_operator(user) or merchant_id_of(user) is None:
        return []
    review = last_review(subject)
    returned = review is not None and review.verdict == Verdict.REJECTED
    if isinstance(subject, Product):
        status = subject.status
        if status == ProductStatus.DRAFT:
            return [RESUBMIT if returned else SUBMIT]
        if status == ProductStatus.SUBMITTED:
            return [WITHDRAW]
        if status in (ProductStatus.LISTED, ProductStatus.SUSPENDED):
            return [OPEN_REVISION]
        return []
    if subject.status == RevisionStatus.DRAFT:
        return [RESUBMIT if returned else SUBMIT, WITHDRAW]
    if subject.status == RevisionStatus.SUBMITTED:
        return [WITHDRAW]
    return []


def listing_context(subject, request, url_name: str) -> dict:
    review = last_review(subject)
    return {
        "listing_steps": [
            (step, reverse(url_name, args=[subject.pk, step.name]))
            for step in steps_for(subject, request.user)
        ],
        "listing_review": review,
        "listing_review_returned": review is not None and review.verdict == Verdict.REJECTED,
        "listing_compliance": compliance_shown(review) if review else "-",
        "listing_quality": quality_shown(review) if review else "-",
        "listing_open_revision": _open_revision(subject),
    }


def _open_revision(subject):
    if not isinstance(subject, Product):
        return None
    return subject.revisions.exclude(
        status__in=[RevisionStatus.APPROVED, RevisionStatus.WITHDRAWN]
    ).first()


def _call(subject, step: str, *, actor, note: str):
    if isinstance(subject, Product):
        if step == "submit":
            return services.product_submit(actor=actor, product=subject)
        if step == "withdraw":
            return services.product_withdraw(actor=actor, product=subject)
        return services.revision_open(actor=actor, product=subject, change_note=note)
    if step == "submit":
        return services.revision_submit(actor=actor, revision=subject)
    return services.revision_withdraw(actor=actor, revision=subject)


DONE = {
    "submit": _("Submitted for review. You can follow the review on this page."),
    "withdraw": _("Taken back: nothing is under review."),
    "open_revision": _("A new version is open: change it and submit it for review."),
}


class ListingStepsMixin:
    """For the product and revision admins: the listing panel and its step view."""

    step_url_name = ""  # "products_product_step"
    steps: tuple[str, ...] = ("submit", "withdraw")

    def get_urls(self):
        view = self.admin_site.admin_view(self.step_view)  # type: ignore[attr-defined]
        return [
            path("<int:pk>/step/<str:step>/", view, name=self.step_url_name),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        subject = self.get_queryset(request).filter(pk=object_id).first()  # type: ignore[attr-defined]
        if subject is not None:
            extra_context = {
                **(extra_context or {}),
                **listing_context(subject, request, f"admin:{self.step_url_name}"),
            }
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def step_view(self, request, pk: int, step: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if is_operator(request.user) or merchant_id_of(request.user) is None:
            raise PermissionDenied  # listing steps are the provider's; operators review
        subject = self.get_queryset(request).filter(pk=pk).first()  # type: ignore[attr-defined]
        if subject is None or step not in self.steps:
            raise Http404
        opts = subject._meta
        page = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[subject.pk])
        note = (request.POST.get("note") or "").strip()[:2000]
        try:
            result = _call(subject, step, actor=request.user, note=note)
        except SERVICE_REFUSALS as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(page)
        messages.success(request, DONE[step])
        if isinstance(result, ProductRevision) and step == "open_revision":
            page = reverse("admin:products_productrevision_change", args=[result.pk])
        return HttpResponseRedirect(page)
