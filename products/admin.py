"""Merchants work on their products here; operators review through the API.

A merchant's people create drafts, edit them and their plans, submit them,
open new versions of listed products, read review comments and ask for
delisting. Everything goes through products.services; nothing here lists or
approves. ScopedAdmin keeps each merchant to its own rows.
"""

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.admin import (
    APPROVE,
    SERVICE_REFUSALS,
    EventInline,
    OperatorPage,
    OperatorPagesMixin,
    ReadOnlyInline,
    ReasonActionForm,
    ScopedAdmin,
    action_reason,
    apply_to_selected,
    checklist_decision_form,
    saved_through_service,
)
from core.exceptions import BusinessRuleViolation
from core.formatting import format_yuan
from core.money import fen_to_yuan, yuan_to_fen
from core.scoping import is_operator, merchant_id_of
from products import services
from products.admin_listing import ListingStepsMixin, compliance_shown, quality_shown
from products.choices import (
    COMPLIANCE_CHECKLIST,
    QUALITY_CHECKLIST,
    ProductStatus,
    RevisionStatus,
    Verdict,
)
from products.models import (
    CONTENT_FIELDS,
    PLAN_TERMS_FIELDS,
    Board,
    Industry,
    PlanTerms,
    PricingPlan,
    Product,
    ProductEvent,
    ProductReview,
    ProductRevision,
    RevisionEvent,
    RevisionPlan,
)
from products.services.common import validate_plan_terms


class ReferenceSavedThroughServices(ScopedAdmin):
    """Industries and boards are saved by their services, as the API saves them; codes stay."""

    save_service: Callable[..., Any] = staticmethod(services.industry_save)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "code"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        data["code"] = obj.code
        saved = saved_through_service(lambda: self.save_service(actor=request.user, **data), form)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # the service sets the many-to-many fields itself


@admin.register(Industry)
class IndustryAdmin(ReferenceSavedThroughServices):
    list_display = ("code", "name", "is_active")
    search_fields = ("code", "name")
    fields = ("code", "name", "name_en", "data_theme", "is_active")


@admin.register(Board)
class BoardAdmin(ReferenceSavedThroughServices):
    list_display = ("code", "name", "department", "is_active")
    search_fields = ("code", "name")
    fields = ("code", "name", "name_en", "description", "department", "industries", "is_active")
    filter_horizontal = ("industries",)
    save_service = staticmethod(services.board_save)


YUAN_FIELDS = {
    "price": "price_fen",
    "unit_price": "unit_price_fen",
    "monthly_cap": "monthly_cap_fen",
}


def _yuan_field(label):
    return forms.DecimalField(
        label=label, required=False, min_value=0, max_digits=15, decimal_places=2
    )


class PlanTermsForm(forms.ModelForm):
    """Plan terms with prices typed and shown in yuan; stored as integer fen.

    Checks the terms against the kind before the services see them.
    """

    price = _yuan_field(_("price (yuan)"))
    unit_price = _yuan_field(_("price per call (yuan)"))
    monthly_cap = _yuan_field(_("monthly cap (yuan)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for yuan, fen in YUAN_FIELDS.items():
                value = getattr(self.instance, fen)
                self.initial[yuan] = None if value is None else fen_to_yuan(value)

    def clean(self):
        data = super().clean() or {}
        if data.get("DELETE") or not self.has_changed():
            return data
        terms = {
            "name": data.get("name") or "",
            "kind": data.get("kind") or "",
            "period": data.get("period") or "",
            "included_calls": data.get("included_calls") or 0,
        }
        for yuan, fen in YUAN_FIELDS.items():
            value = data.get(yuan)
            terms[fen] = None if value is None else yuan_to_fen(value)
        for fen in ("price_fen", "unit_price_fen"):
            terms[fen] = terms[fen] or 0
        try:
            terms = validate_plan_terms(terms)
        except BusinessRuleViolation as exc:
            named = {v: k for k, v in YUAN_FIELDS.items()}.get(exc.field, exc.field)
            if named in self.fields:
                raise forms.ValidationError({named: exc.message}) from exc
            raise forms.ValidationError(exc.message) from exc
        data.update(terms)
        return data


PLAN_FORM_FIELDS = (
    "name",
    "kind",
    "period",
    "price",
    "unit_price",
    "included_calls",
    "monthly_cap",
)


def save_plans_through_services(formset, *, create, update, delete) -> None:
    """Save an inline of plans by calling the plan services, row by row.

    Fills the lists the admin's change message reads (new/changed/deleted objects).
    """
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for plan_form in formset.forms:
        if not hasattr(plan_form, "cleaned_data"):
            continue
        deleting = plan_form.cleaned_data.get("DELETE")
        if not plan_form.has_changed() and not deleting:
            continue
        plan = plan_form.instance
        terms = {f: plan_form.cleaned_data.get(f) for f in PLAN_TERMS_FIELDS}
        if deleting:
            if plan.pk:
                delete(plan)
                formset.deleted_objects.append(plan)
        elif plan.pk:
            formset.changed_objects.append((update(plan, terms), plan_form.changed_data))
        else:
            formset.new_objects.append(create(terms))


class PlanInline(admin.TabularInline):
    """Prices are typed and shown in yuan; the form turns them into fen (分)."""

    model: type[PlanTerms] = PricingPlan
    form = PlanTermsForm
    extra = 0
    fields: ClassVar[tuple[str, ...]] = (*PLAN_FORM_FIELDS, "is_active")
    readonly_fields: ClassVar[tuple[str, ...]] = ("is_active",)

    def _editable(self, request, obj) -> bool:
        return obj is None or obj.status == ProductStatus.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and not is_operator(request.user)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and not is_operator(request.user)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and not is_operator(request.user)

    def has_view_permission(self, request, obj=None):
        return True

    # Read-only (a listed product's plans): the terms as saved, prices in yuan.
    SHOWN_FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "kind",
        "period",
        "price_shown",
        "unit_price_shown",
        "included_calls",
        "monthly_cap_shown",
    )

    def get_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return super().get_fields(request, obj)
        extra = ("is_active",) if "is_active" in self.fields else ()
        return (*self.SHOWN_FIELDS, *extra)

    def get_readonly_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return super().get_readonly_fields(request, obj)
        return self.get_fields(request, obj)

    @admin.display(description=_("price"))
    def price_shown(self, plan):
        return format_yuan(plan.price_fen)

    @admin.display(description=_("price per call"))
    def unit_price_shown(self, plan):
        return format_yuan(plan.unit_price_fen)

    @admin.display(description=_("monthly cap"))
    def monthly_cap_shown(self, plan):
        return format_yuan(plan.monthly_cap_fen)


class ReviewInline(ReadOnlyInline):
    """The merchant reads the reviewers' verdicts, checklists and comments here."""

    model = ProductReview
    fk_name = "product"
    template = ReadOnlyInline.STACKED
    fields = (
        "version",
        "verdict",
        "comments",
        "compliance_items",
        "quality_items",
        "decided_at",
    )

    @admin.display(description=_("compliance review"))
    def compliance_items(self, review):
        return compliance_shown(review)

    @admin.display(description=_("quality review"))
    def quality_items(self, review):
        return quality_shown(review)


class RevisionReviewInline(ReviewInline):
    fk_name = "revision"


class ProductEventInline(EventInline):
    model = ProductEvent

    def has_view_permission(self, request, obj=None):
        return True


class ReviewDecisionForm(forms.Form):
    """The operator's decision on a submitted product: every checklist item, labelled."""

    comments = forms.CharField(
        label=_("comments for the merchant"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for prefix, items in (("compliance", COMPLIANCE_CHECKLIST), ("quality", QUALITY_CHECKLIST)):
            for key, label in items.items():
                self.fields[f"{prefix}__{key}"] = forms.BooleanField(
                    label=str(label), required=False
                )

    def _fields(self, prefix):
        return [self[name] for name in self.fields if name.startswith(f"{prefix}__")]

    def compliance_fields(self):
        return self._fields("compliance")

    def quality_fields(self):
        return self._fields("quality")

    def checklist(self, prefix, items) -> dict:
        return {key: bool(self.cleaned_data.get(f"{prefix}__{key}")) for key in items}


@admin.register(Product)
class ProductAdmin(ListingStepsMixin, ScopedAdmin):
    action_form = ReasonActionForm
    change_form_template = "admin/products/listing/change_form.html"
    step_url_name = "products_product_step"
    steps = ("submit", "withdraw", "open_revision")
    list_display = (
        "title",
        "provider",
        "industry",
        "status",
        "registration_number",
        "starting_price",
    )
    list_filter = ("status", "delivery_mode", "grade", "industry", "board")
    search_fields = ("title", "registration_number")
    list_select_related = ("provider", "industry")
    fields = (*CONTENT_FIELDS, "grant", "scenarios")
    readonly_fields = (
        "status",
        "version",
        "registration_number",
        "listed_at",
        "suspension_cause",
        "delisting_requested_at",
    )
    inlines = [PlanInline, ReviewInline, ProductEventInline]
    actions = [
        "submit",
        "withdraw",
        "open_revision",
        "request_delisting",
        "start_review",
        "suspend",
        "reinstate",
        "delist",
    ]
    merchant_actions = ("submit", "withdraw", "open_revision", "request_delisting")
    merchant_can_add = True
    merchant_can_change = True
    operator_can_add = False
    operator_can_change = False

    def get_fields(self, request, obj=None):
        return (*self.fields, *self.readonly_fields) if obj else self.fields

    @admin.display(description=_("starting price"), ordering="min_price_fen")
    def starting_price(self, product):
        return format_yuan(product.min_price_fen)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != ProductStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if is_operator(request.user):
            return {k: v for k, v in actions.items() if k not in self.merchant_actions}
        if merchant_id_of(request.user) is None:
            return {}
        return {k: v for k, v in actions.items() if k in self.merchant_actions}

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if is_operator(request.user):
            return (*shown, "review_link")
        # a merchant's list holds its own products only: no provider column
        return tuple(c for c in shown if c != "provider")

    @admin.display(description=pgettext_lazy("listing review", "review"))
    def review_link(self, product):
        if product.status not in (ProductStatus.SUBMITTED, ProductStatus.IN_REVIEW):
            return "-"
        url = reverse("admin:products_product_review", args=[product.pk])
        return format_html('<a href="{}">{}</a>', url, pgettext_lazy("listing review", "Review"))

    def get_urls(self):
        view = self.admin_site.admin_view(self.review_view)
        return [
            path("<int:pk>/review/", view, name="products_product_review"),
            *super().get_urls(),
        ]

    def review_view(self, request, pk):
        """The listing review (上架审核): checklists ticked one by one, then approve or send back.

        Opening a submitted product takes it up (submitted -> in review) when the
        operator decides. Important grade needs a second, different operator: the
        service records the first approval and waits.
        """
        if not is_operator(request.user):
            raise PermissionDenied
        product = self.get_queryset(request).filter(pk=pk).first()
        if product is None:
            raise Http404
        review = product.reviews.filter(verdict=Verdict.PENDING).order_by("-pk").first()
        form = ReviewDecisionForm(request.POST or None)
        can_decide = product.status in (ProductStatus.SUBMITTED, ProductStatus.IN_REVIEW)
        if request.method == "POST" and can_decide and form.is_valid():
            try:
                self._decide(request, product, form)
            except SERVICE_REFUSALS as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                return HttpResponseRedirect(reverse("admin:products_product_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Review: %(product)s") % {"product": product},
            "product": product,
            "review": review,
            "form": form,
            "can_decide": can_decide,
        }
        return TemplateResponse(request, "admin/products/product/review.html", context)

    def _decide(self, request, product, form):
        if product.status == ProductStatus.SUBMITTED:
            product = services.product_start_review(actor=request.user, product=product)
        compliance = form.checklist("compliance", COMPLIANCE_CHECKLIST)
        quality = form.checklist("quality", QUALITY_CHECKLIST)
        comments = form.cleaned_data["comments"]
        if "_reject" in request.POST:
            services.product_reject(
                actor=request.user,
                product=product,
                comments=comments,
                compliance_checklist=compliance,
                quality_checklist=quality,
            )
            self.message_user(request, _("Sent back to the merchant with your comments."))
            return
        product = services.product_approve(
            actor=request.user,
            product=product,
            compliance_checklist=compliance,
            quality_checklist=quality,
            comments=comments,
        )
        if product.status == ProductStatus.LISTED:
            self.message_user(request, _("Approved and listed."))
        else:
            self.message_user(
                request, _("First approval recorded; a second operator must approve.")
            )

    def _operator_each(self, request, queryset, service):
        reason = action_reason(self, request, required=True)
        if reason is None:
            return
        self._each(
            request, queryset, lambda p: service(actor=request.user, product=p, reason=reason)
        )

    @admin.action(description=_("Take up the selected submissions for review"))
    def start_review(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda p: services.product_start_review(actor=request.user, product=p),
        )

    @admin.action(description=_("Suspend the selected products (give the reason)"))
    def suspend(self, request, queryset):
        self._operator_each(request, queryset, services.product_suspend)

    @admin.action(description=_("Lift the operators' suspension of the selected products"))
    def reinstate(self, request, queryset):
        self._operator_each(request, queryset, services.product_reinstate_by_operator)

    @admin.action(description=_("Delist the selected products for good (give the reason)"))
    def delist(self, request, queryset):
        self._operator_each(request, queryset, services.product_delist)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in self.fields if f in form.cleaned_data}
        try:
            if change:
                saved = services.product_update(actor=request.user, product=obj, **data)
            else:
                saved = services.product_create(
                    actor=request.user, provider=request.user.merchant, **data
                )
        except BusinessRuleViolation as exc:
            raise forms.ValidationError({exc.field: exc.message}) from exc
        obj.pk = saved.pk
        obj.provider_id = saved.provider_id

    def save_formset(self, request, form, formset, change):
        if formset.model is not PricingPlan:
            return super().save_formset(request, form, formset, change)
        product = form.instance
        return save_plans_through_services(
            formset,
            create=lambda terms: services.plan_create(actor=request.user, product=product, **terms),
            update=lambda plan, terms: services.plan_update(actor=request.user, plan=plan, **terms),
            delete=lambda plan: services.plan_delete(actor=request.user, plan=plan),
        )

    def _each(self, request, queryset, call):
        apply_to_selected(
            self, request, queryset, call, done_message=_("%(count)d product(s) done.")
        )

    @admin.action(description=_("Submit for review"))
    def submit(self, request, queryset):
        self._each(
            request, queryset, lambda p: services.product_submit(actor=request.user, product=p)
        )

    @admin.action(description=_("Withdraw the submission"))
    def withdraw(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda p: services.product_withdraw(actor=request.user, product=p),
        )

    @admin.action(description=_("Open a new version (revision) of a listed product"))
    def open_revision(self, request, queryset):
        reason = (request.POST.get("reason") or "").strip()
        self._each(
            request,
            queryset,
            lambda p: services.revision_open(actor=request.user, product=p, change_note=reason),
        )

    @admin.action(description=_("Ask the operators to delist"))
    def request_delisting(self, request, queryset):
        reason = (request.POST.get("reason") or "").strip()
        self._each(
            request,
            queryset,
            lambda p: services.product_request_delisting(
                actor=request.user, product=p, reason=reason
            ),
        )


class RevisionPlanInline(PlanInline):
    model = RevisionPlan
    fields = PLAN_FORM_FIELDS
    readonly_fields = ()

    def _editable(self, request, obj) -> bool:
        return obj is None or obj.status == RevisionStatus.DRAFT


class RevisionEventInline(EventInline):
    model = RevisionEvent

    def has_view_permission(self, request, obj=None):
        return True


RevisionReviewForm = checklist_decision_form(
    {"compliance": COMPLIANCE_CHECKLIST, "quality": QUALITY_CHECKLIST}
)


def _revision_review(request, revision, form):
    """Take the revision up if it waits, then approve it (two operators for important grade)."""
    data = form.cleaned_data
    if revision.status == RevisionStatus.SUBMITTED:
        revision = services.revision_start_review(actor=request.user, revision=revision)
    checklists = {
        "compliance_checklist": form.checklist("compliance"),
        "quality_checklist": form.checklist("quality"),
    }
    if data["decision"] == APPROVE:
        return services.revision_approve(
            actor=request.user, revision=revision, comments=data["comments"], **checklists
        )
    return services.revision_reject(
        actor=request.user, revision=revision, comments=data["comments"], **checklists
    )


@admin.register(ProductRevision)
class ProductRevisionAdmin(OperatorPagesMixin, ListingStepsMixin, ScopedAdmin):
    """New versions of listed products; opened from the product list's action."""

    operator_pages = (
        OperatorPage(
            slug="review",
            title=_("Review the revision"),
            form=RevisionReviewForm,
            run=_revision_review,
            available=lambda r: r.status in (RevisionStatus.SUBMITTED, RevisionStatus.IN_REVIEW),
            help_text=_(
                "Tick each checklist item you checked. Important grade needs a second, "
                "different operator's approval; until then the listed version sells unchanged."
            ),
        ),
    )

    list_display = ("product", "number", "status", "created_at")
    list_filter = ("status",)
    fields = ("change_note", *CONTENT_FIELDS)
    readonly_fields = ("product", "number", "status")
    inlines = [RevisionPlanInline, RevisionReviewInline, RevisionEventInline]
    change_form_template = "admin/products/listing/change_form.html"
    step_url_name = "products_productrevision_step"
    actions = ["submit", "withdraw"]
    merchant_can_change = True
    operator_can_add = False
    operator_can_change = False

    def get_fields(self, request, obj=None):
        return (*self.readonly_fields, *self.fields)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != RevisionStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def get_actions(self, request):
        if merchant_id_of(request.user) is None:
            return {}
        return super().get_actions(request)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in self.fields if f in form.cleaned_data}
        try:
            services.revision_update(actor=request.user, revision=obj, **data)
        except BusinessRuleViolation as exc:
            raise forms.ValidationError({exc.field: exc.message}) from exc

    def save_formset(self, request, form, formset, change):
        if formset.model is not RevisionPlan:
            return super().save_formset(request, form, formset, change)
        revision = form.instance
        return save_plans_through_services(
            formset,
            create=lambda terms: services.revision_plan_create(
                actor=request.user, revision=revision, **terms
            ),
            update=lambda plan, terms: services.revision_plan_update(
                actor=request.user, plan=plan, **terms
            ),
            delete=lambda plan: services.revision_plan_delete(actor=request.user, plan=plan),
        )

    def _each(self, request, queryset, call):
        apply_to_selected(
            self, request, queryset, call, done_message=_("%(count)d revision(s) done.")
        )

    @admin.action(description=_("Submit for review"))
    def submit(self, request, queryset):
        self._each(
            request, queryset, lambda r: services.revision_submit(actor=request.user, revision=r)
        )

    @admin.action(description=_("Withdraw (abandon) the revision"))
    def withdraw(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda r: services.revision_withdraw(actor=request.user, revision=r),
        )


@admin.register(ProductReview)
class ProductReviewAdmin(ScopedAdmin):
    """Listing reviews: read-only here (operators decide through the API)."""

    list_display = ("product", "version", "verdict", "required_approvals", "decided_at")
    list_filter = ("verdict", "grade")
    list_select_related = ("product",)
    readonly_fields = (
        "product",
        "revision",
        "version",
        "grade",
        "required_approvals",
        "reviewer",
        "compliance_items",
        "quality_items",
        "first_approver",
        "first_approved_at",
        "verdict",
        "decided_by",
        "decided_at",
        "comments",
    )
    fields = readonly_fields
    operator_can_add = False
    operator_can_change = False

    @admin.display(description=_("compliance review"))
    def compliance_items(self, review):
        return compliance_shown(review)

    @admin.display(description=_("quality review"))
    def quality_items(self, review):
        return quality_shown(review)
