from pathlib import Path

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.choices import KIND_FIELDS, MerchantKind
from accounts.models import (
    Merchant,
    MerchantApplication,
    MerchantApplicationEvent,
    MerchantEvent,
    User,
)
from accounts.services import joining
from core.admin import (
    EventInline,
    ReasonActionForm,
    ScopedAdmin,
    action_reason,
    apply_to_selected,
)
from core.exceptions import BusinessRuleViolation
from core.scoping import is_operator


def run_transition_action(modeladmin, request, queryset, service, *, object_kwarg: str):
    """Apply one transition service, with the reason given, to each selected row."""
    reason = action_reason(modeladmin, request, required=True)
    if reason is None:
        return
    apply_to_selected(
        modeladmin,
        request,
        queryset,
        lambda obj: service(actor=request.user, reason=reason, **{object_kwarg: obj}),
        done_message=_("%(count)d record(s) updated."),
    )


class MerchantEventInline(EventInline):
    model = MerchantEvent


class MerchantAdminForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        label=_("kinds"),
        choices=[(k, k.label) for k in KIND_FIELDS],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Merchant
        fields = [
            "legal_name",
            "credit_code",
            "kinds",
            "region",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "bank_name",
            "bank_account_name",
            "bank_account_number",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["kinds"] = self.instance.kinds


@admin.register(Merchant)
class MerchantAdmin(ScopedAdmin):
    form = MerchantAdminForm
    action_form = ReasonActionForm
    list_display = ("legal_name", "credit_code", "region", "status", "created_at")
    list_filter = (
        "status",
        "region",
        "is_supplier",
        "is_technical",
        "is_application",
        "is_service",
    )
    search_fields = ("legal_name", "credit_code")
    readonly_fields = ("status", "created_at", "updated_at")
    operator_only_fields = ("credit_code",)
    inlines = [MerchantEventInline]
    actions = ["approve", "suspend", "reinstate", "exit_exchange"]
    merchant_can_change = True

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and "credit_code" not in fields:
            fields.append("credit_code")  # the identity of a registered merchant never changes
        return fields

    def get_actions(self, request):
        return super().get_actions(request) if is_operator(request.user) else {}

    def save_model(self, request, obj, form, change):
        data = {
            f: form.cleaned_data[f]
            for f in services.MERCHANT_PROFILE_FIELDS
            if f in form.cleaned_data
        }
        kinds = form.cleaned_data.get("kinds")
        try:
            if change:
                saved = services.merchant_update_profile(
                    actor=request.user, merchant=obj, kinds=kinds, **data
                )
            else:
                saved = services.merchant_register(
                    actor=request.user,
                    credit_code=form.cleaned_data["credit_code"],
                    kinds=kinds,
                    **data,
                )
        except BusinessRuleViolation as exc:
            raise forms.ValidationError({exc.field: exc.message}) from exc
        obj.pk = saved.pk

    @admin.action(description=_("Approve the selected merchants"))
    def approve(self, request, queryset):
        run_transition_action(
            self, request, queryset, services.merchant_approve, object_kwarg="merchant"
        )

    @admin.action(description=_("Suspend the selected merchants"))
    def suspend(self, request, queryset):
        run_transition_action(
            self, request, queryset, services.merchant_suspend, object_kwarg="merchant"
        )

    @admin.action(description=_("Reinstate the selected merchants"))
    def reinstate(self, request, queryset):
        run_transition_action(
            self, request, queryset, services.merchant_reinstate, object_kwarg="merchant"
        )

    @admin.action(description=_("Record the selected merchants' exit"))
    def exit_exchange(self, request, queryset):
        run_transition_action(
            self, request, queryset, services.merchant_exit, object_kwarg="merchant"
        )


@admin.register(User)
class PersonAdmin(ScopedAdmin, DjangoUserAdmin):
    list_display = ("username", "email", "merchant", "merchant_role", "is_operator", "is_active")
    list_filter = ("is_operator", "merchant_role", "is_active")
    search_fields = ("username", "email", "merchant__legal_name")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Exchange role"), {"fields": ("is_operator", "merchant", "merchant_role")}),
    )
    operator_only_fields = (
        "is_operator",
        "merchant",
        "merchant_role",
        "is_superuser",
        "is_staff",
        "groups",
        "user_permissions",
    )


class MerchantApplicationEventInline(EventInline):
    model = MerchantApplicationEvent


@admin.register(MerchantApplication)
class MerchantApplicationAdmin(ScopedAdmin):
    """The joining review queue (入驻审核): operators approve or reject with a reason."""

    action_form = ReasonActionForm
    list_display = (
        "merchant",
        "credit_code",
        "region",
        "owner_username",
        "status",
        "revision",
        "created_at",
    )
    list_filter = ("status", "merchant__region")
    search_fields = ("merchant__legal_name", "merchant__credit_code", "owner_username")
    list_select_related = ("merchant",)
    fields = (
        "merchant",
        "credit_code",
        "kinds",
        "region",
        "contact",
        "bank_account",
        "owner_username",
        "owner_email",
        "licence",
        "status",
        "revision",
        "rejection_reason",
        "owner_notice",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = [MerchantApplicationEventInline]
    actions = ["approve", "reject"]
    operator_can_add = False
    operator_can_change = False

    def get_actions(self, request):
        return super().get_actions(request) if is_operator(request.user) else {}

    @admin.display(description=_("unified social credit code"))
    def credit_code(self, obj):
        return obj.merchant.credit_code

    @admin.display(description=_("region"))
    def region(self, obj):
        return obj.merchant.get_region_display()

    @admin.display(description=_("kinds"))
    def kinds(self, obj):
        labels = dict(MerchantKind.choices)
        return "、".join(str(labels[kind]) for kind in obj.merchant.kinds)

    @admin.display(description=_("contact"))
    def contact(self, obj):
        m = obj.merchant
        parts = (m.contact_name, m.contact_phone, m.contact_email)
        return " / ".join(part for part in parts if part)

    @admin.display(description=_("bank account"))
    def bank_account(self, obj):
        m = obj.merchant
        return " / ".join(
            part for part in (m.bank_name, m.bank_account_name, m.bank_account_number) if part
        )

    @admin.display(description=_("business licence scan"))
    def licence(self, obj):
        if not obj.licence_scan:
            return "-"
        url = reverse("admin:accounts_merchantapplication_licence", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open the scan"))

    def get_urls(self):
        view = self.admin_site.admin_view(self.licence_view)
        return [
            path("<int:pk>/licence/", view, name="accounts_merchantapplication_licence"),
            *super().get_urls(),
        ]

    def licence_view(self, request, pk):
        """The scan, read through the storage API; only for those who may see the application."""
        application = self.get_queryset(request).filter(pk=pk).first()
        if application is None or not application.licence_scan:
            raise Http404
        name = application.licence_scan.name
        return FileResponse(
            application.licence_scan.storage.open(name, "rb"),
            filename=f"licence-{application.merchant.credit_code}{Path(name).suffix}",
        )

    def _decide(self, request, queryset, service, *, reason_required: bool):
        reason = action_reason(self, request, required=reason_required)
        if reason is None:
            return
        build_link = request.build_absolute_uri
        decided = []

        def decide(application):
            decided.append(
                service(
                    actor=request.user,
                    application=application,
                    reason=reason,
                    build_link=build_link,
                )
            )

        apply_to_selected(
            self, request, queryset, decide, done_message=_("%(count)d application(s) decided.")
        )
        for application in decided:
            if application.owner_notice and service is joining.merchant_application_approve:
                self.message_user(
                    request,
                    _("Sent to %(email)s: %(notice)s")
                    % {"email": application.owner_email, "notice": application.owner_notice},
                )

    @admin.action(description=_("Approve the selected applications (creates the owner's account)"))
    def approve(self, request, queryset):
        self._decide(request, queryset, joining.merchant_application_approve, reason_required=False)

    @admin.action(description=_("Reject the selected applications (give the reason)"))
    def reject(self, request, queryset):
        self._decide(request, queryset, joining.merchant_application_reject, reason_required=True)
