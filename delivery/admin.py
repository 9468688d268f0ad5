"""Delivered files in the admin: sellers upload and see their versions; operators see all.

The upload form hands the file to the same service as the API
(`deliverable_upload`), which checks the product, hashes and encrypts it; a
refusal is shown on the form and nothing is stored.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.admin import EventInline, ReadOnlyAdmin, ScopedAdmin, action_reason, apply_to_selected
from core.exceptions import BusinessRuleViolation, Conflict
from core.scoping import scope_to_merchant
from delivery.models import (
    ApiKey,
    Deliverable,
    Download,
    GatewayCall,
    UploadSession,
    UploadSessionEvent,
    Upstream,
)
from delivery.services import downloads, gateway, uploads
from marketplace.models import Order
from products.models import Product


class DeliverableUploadForm(forms.ModelForm):
    upload = forms.FileField(label=_("file"))

    class Meta:
        model = Deliverable
        fields = ("product", "note")

    # Set by DeliverableAdmin.get_form: the person uploading.
    request_user: Any = None

    def clean(self):
        cleaned = super().clean() or {}
        product, upload = cleaned.get("product"), cleaned.get("upload")
        if product is None or upload is None:
            return cleaned
        try:
            self.created = uploads.deliverable_upload(
                actor=self.request_user,
                product=product,
                stream=upload,
                file_name=upload.name,
                size=upload.size,
                content_type=getattr(upload, "content_type", "") or "",
                note=cleaned.get("note") or "",
            )
        except BusinessRuleViolation as exc:
            target = exc.field if exc.field in self.fields else None
            if exc.field == "file":
                target = "upload"
            self.add_error(target, exc.message)
        except (PermissionDenied, Conflict) as exc:
            self.add_error(None, str(exc))
        return cleaned


@admin.register(Deliverable)
class DeliverableAdmin(ScopedAdmin):
    list_display = (
        "file_name",
        "product",
        "version",
        "size_bytes",
        "created_at",
        "is_current_display",
    )
    list_filter = ("superseded_at",)
    list_select_related = ("product",)
    search_fields = ("file_name", "sha256", "product__title")
    readonly_fields = (
        "product",
        "version",
        "file_name",
        "content_type",
        "size_bytes",
        "sha256",
        "note",
        "uploaded_by",
        "created_at",
        "superseded_at",
        "part_count",
        "master_key_id",
    )
    exclude = ("wrapped_key", "file_id", "chunk_bytes")
    merchant_can_add = True
    # An operator does not upload on a seller's behalf: the seller answers for its file.
    operator_can_add = False
    operator_can_change = False

    @admin.display(description=_("current version"), boolean=True)
    def is_current_display(self, obj):
        return obj.is_current

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_exclude(self, request, obj=None):
        return None if obj is None else self.exclude

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type(
                "BoundDeliverableUploadForm",
                (DeliverableUploadForm,),
                {"request_user": request.user},
            )
            kwargs["fields"] = ("product", "note", "upload")
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "product" in form.base_fields:
            form.base_fields["product"].queryset = scope_to_merchant(  # type: ignore[attr-defined]
                Product.objects.filter(delivery_mode__in=uploads.FILE_DELIVERY_MODES),
                request.user,
            )
        return form

    def save_form(self, request, form, change):
        # The service already stored the file and made the row while validating.
        form.save_m2m = lambda: None
        return form.created

    def save_model(self, request, obj, form, change):
        return None


class UploadSessionEventInline(EventInline):
    model = UploadSessionEvent


@admin.register(UploadSession)
class UploadSessionAdmin(ScopedAdmin):
    list_display = ("file_name", "product", "size_bytes", "status", "created_at", "expires_at")
    list_filter = ("status",)
    list_select_related = ("product",)
    search_fields = ("file_name", "product__title")
    exclude = ("wrapped_key", "file_id")
    inlines = [UploadSessionEventInline]
    operator_can_add = False
    operator_can_change = False
    actions = ["abandon"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude]

    @admin.action(description=_("Abandon the selected uploads (seller)"))
    def abandon(self, request, queryset):
        reason = action_reason(self, request, required=False)
        apply_to_selected(
            self,
            request,
            queryset,
            lambda s: uploads.upload_session_abandon(
                actor=request.user, session=s, reason=reason or ""
            ),
            done_message=_("%(count)d upload(s) abandoned."),
        )


@admin.register(Download)
class DownloadAdmin(ReadOnlyAdmin):
    """The download log; the order page's link for the buyer starts here."""

    list_display = (
        "order",
        "deliverable",
        "downloaded_by",
        "started_at",
        "range_start",
        "range_end",
        "bytes_sent",
        "is_complete",
    )
    list_filter = ("is_complete",)
    list_select_related = ("order", "deliverable", "downloaded_by")
    search_fields = ("order__number", "deliverable__sha256")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def get_urls(self):
        start = self.admin_site.admin_view(self.download_start)
        return [
            path("order/<int:order_id>/", start, name="delivery_download_start"),
            *super().get_urls(),
        ]

    def download_start(self, request, order_id: int):
        """Issue a grant for the buyer's person and send the browser to its link."""
        order = scope_to_merchant(Order.objects.all(), request.user).filter(pk=order_id).first()
        if order is None:
            raise Http404
        try:
            _grant, token = downloads.download_grant_issue(actor=request.user, order=order)
        except (BusinessRuleViolation, Conflict) as exc:
            messages.error(request, str(exc))
            return redirect("admin:marketplace_order_change", order.pk)
        return redirect(reverse("deliverable-download", args=[token]))


@admin.register(Upstream)
class UpstreamAdmin(ReadOnlyAdmin):
    """API products' upstreams; the secret is sealed and never shown. Registered via the API."""

    list_display = ("product", "base_url", "header_name", "updated_at")
    list_select_related = ("product",)
    exclude = ("secret_sealed",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Buyers' gateway keys (only their first characters); buyers and operators revoke them."""

    list_display = ("prefix", "buyer", "product", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("buyer", "product", "plan", "order")
    search_fields = ("prefix", "product__title")
    exclude = ("key_sha256",)
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude]

    @admin.action(description=_("Revoke the selected keys (buyer or operator)"))
    def revoke(self, request, queryset):
        reason = action_reason(self, request, required=False)
        apply_to_selected(
            self,
            request,
            queryset,
            lambda k: gateway.api_key_revoke(actor=request.user, key=k, reason=reason or ""),
            done_message=_("%(count)d key(s) revoked."),
        )


@admin.register(GatewayCall)
class GatewayCallAdmin(ReadOnlyAdmin):
    """Calls through the gateway as the exchange counted them."""

    list_display = ("created_at", "call_id", "buyer", "plan", "status_code", "is_counted")
    list_filter = ("is_counted", "month")
    list_select_related = ("buyer", "plan")
    search_fields = ("call_id",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
