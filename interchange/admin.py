from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import EventInline, ReasonActionForm, ScopedAdmin, action_reason, apply_to_selected
from interchange import services
from interchange.models import (
    HarvestRun,
    PartnerExchange,
    PartnerRecord,
    PartnerRecordEvent,
    RegistrationRecognition,
)


@admin.register(PartnerExchange)
class PartnerExchangeAdmin(ScopedAdmin):
    list_display = ("name", "catalog_url", "trust_level", "harvest_every_minutes", "is_active",
                    "last_good_run")  # fmt: skip
    list_filter = ("trust_level", "is_active")
    search_fields = ("name", "catalog_url")
    readonly_fields = ("last_good_run", "created_at", "updated_at")
    actions = ["harvest_now", "harvest_everything_now"]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.PARTNER_FIELDS}
        if change:
            saved = services.partner_update(actor=request.user, partner=obj, **fields)
        else:
            saved = services.partner_create(actor=request.user, **fields)
        obj.pk = saved.pk

    @admin.action(description=_("Harvest now (changes since the last good run)"))
    def harvest_now(self, request, queryset):
        apply_to_selected(
            self, request, queryset,
            lambda partner: services.partner_harvest(actor=request.user, partner=partner),
            done_message=_("%(count)d partner(s) harvested; see their runs."),
        )  # fmt: skip

    @admin.action(description=_("Harvest everything now (a full run)"))
    def harvest_everything_now(self, request, queryset):
        apply_to_selected(
            self, request, queryset,
            lambda partner: services.partner_harvest(
                actor=request.user, partner=partner, full=True
            ),
            done_message=_("%(count)d partner(s) harvested in full; see their runs."),
        )  # fmt: skip


@admin.register(HarvestRun)
class HarvestRunAdmin(ScopedAdmin):
    list_display = (
        "partner",
        "started_at",
        "status",
        "new_count",
        "updated_count",
        "refused_count",
    )
    list_filter = ("status", "full", "partner")
    operator_can_add = False
    operator_can_change = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


class PartnerRecordEventInline(EventInline):
    model = PartnerRecordEvent


@admin.register(PartnerRecord)
class PartnerRecordAdmin(ScopedAdmin):
    list_display = ("title", "partner", "registration_number", "publisher_name", "grade",
                    "status", "updated_at")  # fmt: skip
    list_filter = ("status", "grade", "partner", "delivery_mode")
    search_fields = ("title", "title_en", "registration_number", "publisher_name", "iri")
    inlines = [PartnerRecordEventInline]
    action_form = ReasonActionForm
    actions = ["approve", "refuse"]
    operator_can_add = False
    operator_can_change = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description=_("Publish in our market (after review)"))
    def approve(self, request, queryset):
        reason = action_reason(self, request, required=False)
        apply_to_selected(
            self, request, queryset,
            lambda record: services.partner_record_approve(
                actor=request.user, record=record, reason=reason or ""
            ),
            done_message=_("%(count)d partner listing(s) published."),
        )  # fmt: skip

    @admin.action(description=_("Refuse"))
    def refuse(self, request, queryset):
        reason = action_reason(self, request, required=True)
        if reason is None:
            return
        apply_to_selected(
            self, request, queryset,
            lambda record: services.partner_record_refuse(
                actor=request.user, record=record, reason=reason
            ),
            done_message=_("%(count)d partner listing(s) refused."),
        )  # fmt: skip


@admin.register(RegistrationRecognition)
class RegistrationRecognitionAdmin(ScopedAdmin):
    list_display = ("product", "partner", "registration_number", "status", "created_at")
    list_filter = ("status", "partner")
    search_fields = ("registration_number", "product__title")
    operator_can_add = False
    operator_can_change = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
