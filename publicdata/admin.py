"""Operators see and act on every grant and scenario; a grantee reads its own, nothing more.

Grants and scenarios change only through services, so their change pages are
read-only for everyone; operators act through the list actions (with a reason)
or the API.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import run_transition_action
from core.admin import (
    EventInline,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ReasonActionForm,
    ScopedAdmin,
    yuan_column,
)
from core.exceptions import BusinessRuleViolation
from core.scoping import is_operator
from publicdata import services
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


def _saved_through(service_call, form):
    """Run a service from an admin form, showing its refusal on the form's field."""
    try:
        return service_call()
    except BusinessRuleViolation as exc:
        raise forms.ValidationError({exc.field: exc.message}) from exc


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
            _saved_through(
                lambda: services.department_update(actor=request.user, department=obj, **data),
                form,
            )
            return
        saved = _saved_through(
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
            _saved_through(
                lambda: services.catalog_entry_update(actor=request.user, entry=obj, **data),
                form,
            )
            return
        saved = _saved_through(
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


@admin.register(Grant)
class GrantAdmin(ServiceOnlyAdmin):
    action_form = ReasonActionForm
    list_display = (
        "id",
        "department",
        "industry",
        "grantee",
        "valid_from",
        "valid_until",
        "status",
    )
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


@admin.register(Scenario)
class ScenarioAdmin(ServiceOnlyAdmin):
    list_display = ("id", "name", "grant", "purpose", "status", "created_at")
    list_filter = ("status", "purpose")
    search_fields = ("name", "description", "grant__grantee__legal_name")
    list_select_related = ("grant__department", "grant__industry", "grant__grantee")
    inlines = [AssessmentInline, AuthorizationInline, ScenarioEventInline]
