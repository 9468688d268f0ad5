from pathlib import Path

from django import forms
from django.contrib import admin
from django.contrib.auth import password_validation
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts import services, signin
from accounts.choices import KIND_FIELDS, MerchantKind, MerchantRole
from accounts.models import (
    Merchant,
    MerchantApplication,
    MerchantApplicationEvent,
    MerchantEvent,
    User,
)
from accounts.services import joining, people
from accounts.services.people import PERSON_PROFILE_FIELDS
from core.admin import (
    EventInline,
    ReasonActionForm,
    ScopedAdmin,
    action_reason,
    apply_to_selected,
)
from core.exceptions import BusinessRuleViolation
from core.scoping import is_merchant_owner, is_operator


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


PERSON_KINDS = {
    "operator": _("exchange operator"),
    MerchantRole.OWNER: _("the merchant's owner"),
    MerchantRole.STAFF: _("the merchant's staff"),
}


class PersonAddForm(forms.ModelForm):
    """A new person with exactly one role; the choices offered are those the actor holds.

    `actor` is set by PersonAdmin.get_form. An owner adds staff of its own
    merchant only (no kind or merchant to choose); an operator chooses both;
    only a superuser sees "superuser".
    """

    actor: User | None = None

    kind = forms.ChoiceField(
        label=pgettext_lazy("people", "role"), choices=list(PERSON_KINDS.items())
    )
    grant_superuser = forms.BooleanField(
        label=_("superuser (every right, including making superusers)"), required=False
    )
    password1 = forms.CharField(
        label=pgettext_lazy("people", "password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False),
    )
    password2 = forms.CharField(
        label=pgettext_lazy("people", "password again"),
        strip=False,
        widget=forms.PasswordInput(render_value=False),
    )

    class Meta:
        model = User
        fields = ("username", "email", "first_name", "last_name", "merchant")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actor = self.actor
        if not is_operator(actor):
            self.fields.pop("kind", None)
            self.fields.pop("merchant", None)
        if not getattr(actor, "is_superuser", False):
            self.fields.pop("grant_superuser", None)

    def clean(self):
        data = super().clean() or {}
        actor = self.actor
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        elif data.get("password1"):
            try:
                password_validation.validate_password(data["password1"], self.instance)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        kind = data.get("kind") if is_operator(actor) else MerchantRole.STAFF
        merchant = data.get("merchant") if is_operator(actor) else getattr(actor, "merchant", None)
        if kind == "operator" and merchant is not None:
            self.add_error("merchant", _("An operator belongs to no merchant."))
        if kind != "operator" and merchant is None:
            self.add_error("merchant", _("Name the merchant this person works for."))
        if data.get("grant_superuser") and kind != "operator":
            self.add_error("grant_superuser", _("A superuser is an exchange operator."))
        data["kind"], data["merchant"] = kind, merchant
        # The instance is validated against the role constraints before saving.
        self.instance.is_operator = kind == "operator"
        self.instance.merchant = merchant if kind != "operator" else None
        self.instance.merchant_role = "" if kind == "operator" else kind
        return data


@admin.register(User)
class PersonAdmin(ScopedAdmin, DjangoUserAdmin):
    """People: an operator manages anyone but superusers; an owner its staff; nobody themselves.

    Every write goes through accounts.services.people, which refuses any right
    the actor does not hold; the pages only offer what the services accept.
    """

    add_form = PersonAddForm
    action_form = ReasonActionForm
    list_display = ("username", "full_name", "merchant", "role", "is_active", "last_login")
    list_filter = ("is_operator", "merchant_role", "is_active")
    search_fields = ("username", "email", "first_name", "last_name", "merchant__legal_name")
    actions = ["deactivate", "reactivate", "unlock_sign_in"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            pgettext_lazy("people", "Personal info"),
            {"fields": ("first_name", "last_name", "email")},
        ),
        (
            _("Exchange role"),
            {"fields": ("role", "merchant", "is_active", "is_superuser")},
        ),
        (pgettext_lazy("people", "Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    editable_fields = PERSON_PROFILE_FIELDS

    @admin.display(description=pgettext_lazy("people", "name"))
    def full_name(self, person):
        return person.get_full_name() or "-"

    @admin.display(description=pgettext_lazy("people", "role"))
    def role(self, person):
        if person.is_superuser:
            return pgettext_lazy("people", "superuser")
        if person.is_operator:
            return PERSON_KINDS["operator"]
        return person.get_merchant_role_display()

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        fields = ["username"]
        if is_operator(request.user):
            fields += ["kind", "merchant"]
        if request.user.is_superuser:
            fields.append("grant_superuser")
        fields += ["email", "first_name", "last_name", "password1", "password2"]
        return ((None, {"fields": fields}),)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            # A form class of the request's own, so the actor never leaks between requests.
            form = type("PersonAddForm", (PersonAddForm,), {"actor": request.user})
            kwargs["form"] = form
            kwargs["fields"] = ["username", "email", "first_name", "last_name"]
            if is_operator(request.user):
                kwargs["fields"].append("merchant")
            return admin.ModelAdmin.get_form(self, request, None, **kwargs)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fields = [f for fs in self.fieldsets for f in fs[1]["fields"] if f != "password"]
        if self.has_change_permission(request, obj):
            return [f for f in fields if f not in self.editable_fields]
        return fields

    def has_add_permission(self, request) -> bool:
        return is_operator(request.user) or is_merchant_owner(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self._in_scope(request, obj) and people.person_may_manage(request.user, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # people are deactivated, never deleted: their acts stay attributed

    def get_actions(self, request):
        if not self.has_add_permission(request):
            return {}
        actions = super().get_actions(request)
        if not is_operator(request.user):
            actions.pop("unlock_sign_in", None)
        return actions

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                people.person_update(
                    actor=request.user,
                    person=obj,
                    **{f: data[f] for f in self.editable_fields if f in form.changed_data},
                )
                return
            kind = data["kind"]
            saved = people.person_add(
                actor=request.user,
                username=data["username"],
                merchant=data["merchant"] if kind != "operator" else None,
                role="" if kind == "operator" else kind,
                is_operator_role=kind == "operator",
                is_superuser=bool(data.get("grant_superuser")),
                password=data["password1"],
                email=data.get("email") or "",
                first_name=data.get("first_name") or "",
                last_name=data.get("last_name") or "",
            )
        except BusinessRuleViolation as exc:
            raise forms.ValidationError({exc.field: exc.message}) from exc
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # No groups or model permissions: rights come from the role alone.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def _set_active(self, request, queryset, *, is_active: bool, done_message):
        apply_to_selected(
            self,
            request,
            queryset,
            lambda person: people.person_set_active(
                actor=request.user, person=person, is_active=is_active
            ),
            done_message=done_message,
        )

    @admin.action(description=_("Deactivate the selected people (they can no longer sign in)"))
    def deactivate(self, request, queryset):
        self._set_active(
            request, queryset, is_active=False, done_message=_("%(count)d person(s) deactivated.")
        )

    @admin.action(
        description=_("Unlock sign-in of the selected people (after too many wrong passwords)")
    )
    def unlock_sign_in(self, request, queryset):
        apply_to_selected(
            self,
            request,
            queryset,
            lambda person: signin.signin_unlock(actor=request.user, username=person.username),
            done_message=_("%(count)d person(s) may sign in again."),
        )

    @admin.action(description=_("Reactivate the selected people"))
    def reactivate(self, request, queryset):
        self._set_active(
            request, queryset, is_active=True, done_message=_("%(count)d person(s) reactivated.")
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
