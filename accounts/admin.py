from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.choices import KIND_FIELDS
from accounts.models import Merchant, MerchantEvent, User
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
