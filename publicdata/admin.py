"""Operators see and act on every grant and scenario; a grantee reads its own, nothing more.

Grants and scenarios change only through services, so their change pages are
read-only for everyone; operators act through the list actions (with a reason)
or the API.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import run_transition_action
from accounts.choices import MerchantStatus
from accounts.models import Merchant
from core.admin import (
    EventInline,
    OperatorPage,
    OperatorPagesMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ReasonActionForm,
    ScopedAdmin,
    saved_through_service,
    yuan_column,
)
from core.money import yuan_to_fen
from core.scoping import is_operator
from products.models import Industry
from publicdata import services
from publicdata.choices import AssessmentVerdict, GrantStatus, ScenarioPurpose, ScenarioStatus
from publicdata.models import (
    CatalogEntry,
    Department,
    Grant,
    GrantEvent,
    Scenario,
    ScenarioAssessment,
    ScenarioAuthorization,
    ScenarioEvent,
)


class ReferenceDataAdmin(ScopedAdmin):
    """Operators keep reference data through the services; the code is fixed once saved."""

    fixed_fields: tuple[str, ...] = ("code",)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, *self.fixed_fields] if obj is not None else fields


@admin.register(Department)
class DepartmentAdmin(ReferenceDataAdmin):
    list_display = ("code", "name", "level", "region")
    list_filter = ("level", "region")
    search_fields = ("code", "name")
    fixed_fields = ("code",)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.DEPARTMENT_FIELDS}
        if change:
            saved_through_service(
                lambda: services.department_update(actor=request.user, department=obj, **data),
                form,
            )
            return
        saved = saved_through_service(
            lambda: services.department_create(
                actor=request.user, code=form.cleaned_data["code"], **data
            ),
            form,
        )
        obj.pk = saved.pk


@admin.register(CatalogEntry)
class CatalogEntryAdmin(ReferenceDataAdmin):
    list_display = ("code", "name", "department", "grade", "update_frequency")
    list_filter = ("grade", "department")
    search_fields = ("code", "name")
    list_select_related = ("department",)
    fixed_fields = ("code", "department")

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.CATALOG_ENTRY_FIELDS}
        if change:
            saved_through_service(
                lambda: services.catalog_entry_update(actor=request.user, entry=obj, **data),
                form,
            )
            return
        saved = saved_through_service(
            lambda: services.catalog_entry_create(
                actor=request.user,
                department=form.cleaned_data["department"],
                code=form.cleaned_data["code"],
                **data,
            ),
            form,
        )
        obj.pk = saved.pk


class GrantEventInline(EventInline):
    model = GrantEvent


class ScenarioEventInline(EventInline):
    model = ScenarioEvent


class AssessmentInline(ReadOnlyInline):
    model = ScenarioAssessment
    template = ReadOnlyInline.STACKED
    fields = ("assessor", "assessed_on", "risk_findings", "verdict", "recorded_by", "created_at")


class AuthorizationInline(ReadOnlyInline):
    model = ScenarioAuthorization
    template = ReadOnlyInline.STACKED
    fields = ("document_number", "valid_from", "valid_until", "issued_by", "created_at")


class ServiceOnlyAdmin(ReadOnlyAdmin):
    """Rows created and moved by services only (API or list actions)."""

    def get_actions(self, request):
        return super().get_actions(request) if is_operator(request.user) else {}


def _yuan(label, *, required=True):
    return forms.DecimalField(
        label=label, required=required, min_value=0, max_digits=15, decimal_places=2
    )


def _share(*, required=True):
    return forms.IntegerField(
        label=_("department revenue share (basis points)"),
        help_text=_("1 basis point is 0.01%; 1500 is 15%."),
        min_value=0,
        max_value=10_000,
        required=required,
    )


class GrantCreateForm(forms.Form):
    department = forms.ModelChoiceField(label=_("department"), queryset=Department.objects.all())
    industry = forms.ModelChoiceField(
        label=_("industry"), queryset=Industry.objects.filter(is_active=True)
    )
    grantee = forms.ModelChoiceField(
        label=_("grantee (operator)"),
        queryset=Merchant.objects.filter(status=MerchantStatus.ACTIVE).order_by("legal_name"),
    )
    entries = forms.ModelMultipleChoiceField(
        label=_("catalog entries covered"),
        help_text=_("None chosen: every entry of the department."),
        queryset=CatalogEntry.objects.select_related("department"),
        required=False,
    )
    valid_from = forms.DateTimeField(label=_("valid from"), help_text=_("YYYY-MM-DD HH:MM"))
    valid_until = forms.DateTimeField(label=_("valid until"), help_text=_("YYYY-MM-DD HH:MM"))
    revenue_share_bps = _share()
    fee_ceiling = _yuan(_("fee ceiling (yuan)"))
    reason = forms.CharField(label=_("reason"), max_length=2000, required=False)


def _grant_create(request, obj, form):
    data = form.cleaned_data
    values = dict(data)
    values["fee_ceiling_fen"] = yuan_to_fen(values.pop("fee_ceiling"))
    values["entries"] = list(values["entries"]) or None
    return services.grant_create(actor=request.user, **values)


class GrantTermsForm(forms.Form):
    valid_from = forms.DateTimeField(label=_("valid from"), required=False)
    valid_until = forms.DateTimeField(label=_("valid until"), required=False)
    revenue_share_bps = _share(required=False)
    fee_ceiling = _yuan(_("fee ceiling (yuan)"), required=False)


def _grant_terms(request, grant, form):
    data = form.cleaned_data
    changes = {k: v for k, v in data.items() if v is not None and k != "fee_ceiling"}
    if data["fee_ceiling"] is not None:
        changes["fee_ceiling_fen"] = yuan_to_fen(data["fee_ceiling"])
    return services.grant_update(actor=request.user, grant=grant, **changes)


@admin.register(Grant)
class GrantAdmin(OperatorPagesMixin, ServiceOnlyAdmin):
    action_form = ReasonActionForm
    operator_pages = (
        OperatorPage(
            slug="create",
            title=_("Record a new grant"),
            form=GrantCreateForm,
            run=_grant_create,
            detail=False,
            help_text=_(
                "One grant per industry and department at a time; it starts pending "
                "and is activated from the list."
            ),
        ),
        OperatorPage(
            slug="terms",
            title=_("Change the pending grant's terms"),
            form=GrantTermsForm,
            run=_grant_terms,
            available=lambda grant: grant.status == GrantStatus.PENDING,
            help_text=_("Leave a field empty to keep it."),
        ),
    )
    list_display = (
        "id",
        "department",
        "industry",
        "grantee",
        "valid_until",
        "status",
    )  # the columns an operator chooses a grant by; the rest on its page
    list_filter = ("status", "department", "industry")
    search_fields = ("grantee__legal_name", "department__name", "industry__name")
    list_select_related = ("department", "industry", "grantee")
    date_hierarchy = "valid_from"
    inlines = [GrantEventInline]
    actions = ["activate", "suspend", "reinstate", "revoke"]
    # The ceiling is read in yuan; the fen column stays off the page.
    exclude = ("fee_ceiling_fen",)
    readonly_fields = ("fee_ceiling_yuan",)
    fee_ceiling_yuan = yuan_column("fee_ceiling_fen", _("fee ceiling (yuan)"))

    @admin.action(description=_("Activate the selected grants"))
    def activate(self, request, queryset):
        run_transition_action(
            self, request, queryset, services.grant_activate, object_kwarg="grant"
        )

    @admin.action(description=_("Suspend the selected grants (their products too)"))
    def suspend(self, request, queryset):
        run_transition_action(self, request, queryset, services.grant_suspend, object_kwarg="grant")

    @admin.action(description=_("Reinstate the selected grants"))
    def reinstate(self, request, queryset):
        run_transition_action(
            self, request, queryset, services.grant_reinstate, object_kwarg="grant"
        )

    @admin.action(description=_("Revoke the selected grants (their products are suspended)"))
    def revoke(self, request, queryset):
        run_transition_action(self, request, queryset, services.grant_revoke, object_kwarg="grant")


class ScenarioCreateForm(forms.Form):
    grant = forms.ModelChoiceField(
        label=_("grant"),
        queryset=Grant.objects.filter(status__in=[GrantStatus.PENDING, GrantStatus.ACTIVE]),
    )
    name = forms.CharField(label=_("name"), max_length=200)
    purpose = forms.ChoiceField(label=_("purpose"), choices=ScenarioPurpose.choices)
    description = forms.CharField(
        label=_("description"), max_length=5000, required=False, widget=forms.Textarea
    )


def _scenario_create(request, obj, form):
    data = form.cleaned_data
    return services.scenario_create(actor=request.user, **data)


class ScenarioAssessForm(forms.Form):
    assessor = forms.CharField(label=_("assessor"), max_length=200)
    assessed_on = forms.DateField(label=_("assessed on"), help_text=_("YYYY-MM-DD"))
    risk_findings = forms.CharField(
        label=_("risk findings"), max_length=20000, widget=forms.Textarea
    )
    verdict = forms.ChoiceField(label=_("verdict"), choices=AssessmentVerdict.choices)


def _scenario_assess(request, scenario, form):
    data = form.cleaned_data
    return services.scenario_assess(actor=request.user, scenario=scenario, **data)


class ScenarioAuthorizeForm(forms.Form):
    document_number = forms.CharField(label=_("authorization document number"), max_length=60)
    valid_from = forms.DateTimeField(label=_("valid from"), help_text=_("YYYY-MM-DD HH:MM"))
    valid_until = forms.DateTimeField(label=_("valid until"), help_text=_("YYYY-MM-DD HH:MM"))


def _scenario_authorize(request, scenario, form):
    data = form.cleaned_data
    return services.scenario_authorize(actor=request.user, scenario=scenario, **data)


@admin.register(Scenario)
class ScenarioAdmin(OperatorPagesMixin, ServiceOnlyAdmin):
    operator_pages = (
        OperatorPage(
            slug="create",
            title=_("Propose a scenario under a grant"),
            form=ScenarioCreateForm,
            run=_scenario_create,
            detail=False,
        ),
        OperatorPage(
            slug="assess",
            title=_("Record the assessment"),
            form=ScenarioAssessForm,
            run=_scenario_assess,
            available=lambda s: s.status == ScenarioStatus.PROPOSED,
            help_text=_("Each scenario is assessed once; a failed one is over."),
        ),
        OperatorPage(
            slug="authorize",
            title=_("Issue the authorization"),
            form=ScenarioAuthorizeForm,
            run=_scenario_authorize,
            available=lambda s: s.status == ScenarioStatus.ASSESSED,
            help_text=_("The window must lie inside the grant's."),
        ),
    )
    list_display = ("id", "name", "grant", "purpose", "status")
    list_filter = ("status", "purpose")
    search_fields = ("name", "description", "grant__grantee__legal_name")
    list_select_related = ("grant__department", "grant__industry", "grant__grantee")
    inlines = [AssessmentInline, AuthorizationInline, ScenarioEventInline]
