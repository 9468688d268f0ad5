"""Orders in the admin: buyers see their purchases, sellers their sales, each with their moves.

Every action calls the same service as the API, which checks the actor's
side (a buyer cannot deliver), so an action a person may not take fails for
that row with a message and changes nothing.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from core.admin import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    ScopedAdmin,
    action_reason,
    apply_to_selected,
    yuan_column,
)
from core.event_reasons import reason_text
from core.exceptions import BusinessRuleViolation
from core.formatting import format_data_size, format_datetime, format_yuan
from core.money import MoneyError, yuan_to_fen
from core.scoping import is_operator, merchant_id_of
from marketplace.admin_order import OrderPageMixin
from marketplace.choices import RefundStatus
from marketplace.models import (
    Dispute,
    Order,
    PaymentNotification,
    Refund,
    UsageRecord,
)
from marketplace.services import disputes, orders, refunds
from products.choices import DeliveryMode


class OrderActionForm(ActionForm):
    reason = forms.CharField(label=_("reason or note"), required=False, max_length=2000)
    amount = forms.CharField(
        label=_("amount (yuan, refunds; empty = all)"), required=False, max_length=20
    )


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("created_at", "amount_yuan", "reason_shown", "status", "decided_at")

    @admin.display(description=_("reason"))
    def reason_shown(self, obj):
        # a reason the services wrote reads in the reader's language
        return reason_text(obj.reason) or "-"

    @admin.display(description=_("amount (yuan)"))
    def amount_yuan(self, obj):
        return format_yuan(obj.amount_fen)


class DisputeInline(ReadOnlyInline):
    model = Dispute
    fields = ("opened_at", "reason", "outcome", "refund_yuan", "resolution_note", "resolved_at")

    @admin.display(description=_("refunded"))
    def refund_yuan(self, obj):
        return format_yuan(obj.refund_fen)


class SideFilter(admin.SimpleListFilter):
    """A merchant's purchases or its sales."""

    title = _("my side")
    parameter_name = "side"

    def lookups(self, request, model_admin):
        return [("purchases", _("Purchases")), ("sales", _("Sales"))]

    def queryset(self, request, queryset):
        merchant_id = merchant_id_of(request.user)
        if merchant_id is None or self.value() not in ("purchases", "sales"):
            return queryset
        if self.value() == "purchases":
            return queryset.filter(buyer_id=merchant_id)
        return queryset.filter(seller_id=merchant_id)


# The columns a person chooses an order by; the rest is on the order's page.
# At 1280 px with the filters beside them these fit without scrolling.
OPERATOR_COLUMNS = (
    "number",
    "product",
    "buyer",
    "seller",
    "amount_yuan",
    "status_shown",
    "created",
)
MERCHANT_COLUMNS = ("number", "product", "counterparty", "amount_yuan", "status_shown", "created")

# The order's page: the fields people read, in the order they read them.
ORDER_PAGE_FIELDS = (
    "number",
    "status_shown",
    "product",
    "plan",
    "buyer",
    "seller",
    "quantity",
    "period_start",
    "period_end",
    "amount_yuan",
    "refunded_yuan",
    "delivery_mode_shown",
    "board_shown",
    "scenario_shown",
    "paid_at",
    "delivered_at",
    "accepted_at",
    "cleared_at",
    "settled_at",
    "delivery_note",
)


class DeliveryModeFilter(admin.SimpleListFilter):
    """Orders by delivery mode, named in words (the order keeps the mode's code)."""

    title = _("delivery mode")
    parameter_name = "delivery_mode"

    def lookups(self, request, model_admin):
        return DeliveryMode.choices

    def queryset(self, request, queryset):
        return queryset.filter(delivery_mode=self.value()) if self.value() else queryset


@admin.register(Order)
class OrderAdmin(OrderPageMixin, ScopedAdmin):
    action_form = OrderActionForm
    change_form_template = "admin/marketplace/order/change_form.html"
    list_display = OPERATOR_COLUMNS
    list_filter = (SideFilter, "status", "is_disputed", DeliveryModeFilter, "board")
    list_select_related = ("product", "buyer", "seller")
    search_fields = ("number", "product__title")
    date_hierarchy = "created_at"
    exclude = ("amount_fen", "refunded_fen")
    # The status changes read in the page's history (admin/marketplace/order/change_form.html).
    inlines = [RefundInline, DisputeInline]
    operator_can_add = False
    operator_can_change = False
    actions = [
        "deliver",
        "accept",
        "open_dispute",
        "request_refund",
        "cancel",
        "approve_refund_requests",
        "refund",
        "resolve_release",
        "resolve_refund",
    ]

    @admin.display(description=pgettext_lazy("order", "amount"), ordering="amount_fen")
    def amount_yuan(self, obj):
        return format_yuan(obj.amount_fen)

    @admin.display(description=_("refunded"))
    def refunded_yuan(self, obj):
        return format_yuan(obj.refunded_fen)

    @admin.display(description=_("status"), ordering="status")
    def status_shown(self, obj):
        label = obj.get_status_display()
        # the word outside the f-string, where makemessages finds it
        disputed = pgettext("an order with an open dispute", "disputed")
        return f"{label} · {disputed}" if obj.is_disputed else label

    @admin.display(description=_("delivery mode"))
    def delivery_mode_shown(self, obj):
        modes = DeliveryMode.values
        return DeliveryMode(obj.delivery_mode).label if obj.delivery_mode in modes else "-"

    @admin.display(description=_("trading board"))
    def board_shown(self, obj):
        return obj.board or "-"

    @admin.display(description=_("authorized scenario"))
    def scenario_shown(self, obj):
        return obj.scenario or "-"

    @admin.display(description=_("placed at"), ordering="created_at")
    def created(self, obj):
        return format_datetime(obj.created_at)

    def get_list_display(self, request):
        if is_operator(request.user):
            return OPERATOR_COLUMNS
        merchant_id = merchant_id_of(request.user)

        @admin.display(description=_("counterparty"))
        def counterparty(obj):
            # a merchant reads the list from its side: name the other one
            return obj.seller if obj.buyer_id == merchant_id else obj.buyer

        return tuple(counterparty if c == "counterparty" else c for c in MERCHANT_COLUMNS)

    def get_fields(self, request, obj=None):
        shown = [*ORDER_PAGE_FIELDS, "delivery_evidence"]
        buyer_person = not is_operator(request.user) and merchant_id_of(request.user)
        if obj is not None and buyer_person == obj.buyer_id:
            shown.append("file_download")
        return shown

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("download the file"))
    def file_download(self, obj):
        from delivery.services.uploads import FILE_DELIVERY_MODES

        if obj.delivery_mode not in FILE_DELIVERY_MODES:
            return "-"
        link = reverse("admin:delivery_download_start", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', link, _("Download the delivered file"))

    @admin.display(description=_("delivery evidence"))
    def delivery_evidence(self, obj):
        # The dispute's evidence: the file's hash and the digest of its download log.
        from delivery.services.downloads import delivery_evidence

        evidence = delivery_evidence(order=obj)
        if evidence is None:
            return "-"
        file = evidence["file"]
        return format_html(
            "{} v{} ({})<br>SHA-256 {}<br>{}: {}<br>{}: {}<br>{} SHA-256 {}",
            file["name"],
            file["version"],
            format_data_size(file["size_bytes"]),
            file["sha256"],
            _("received in full"),
            _("yes") if evidence["received_in_full"] else _("no"),
            _("downloads"),
            evidence["download_count"],
            _("download log"),
            evidence["download_log_sha256"],
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        operator_only = {"refund", "resolve_release", "resolve_refund"}
        merchant_only = {"deliver", "accept", "open_dispute", "request_refund"}
        drop = merchant_only if is_operator(request.user) else operator_only
        return {name: a for name, a in actions.items() if name not in drop}

    def _run(self, request, queryset, call, *, needs_reason=False):
        reason = action_reason(self, request, required=needs_reason)
        if reason is None:
            return
        amount_text = (request.POST.get("amount") or "").strip()
        try:
            amount_fen = yuan_to_fen(amount_text) if amount_text else None
        except MoneyError as exc:
            amount = pgettext("order", "amount")
            self.message_user(request, f"{amount}: {exc}", messages.ERROR)
            return
        apply_to_selected(
            self,
            request,
            queryset,
            lambda order: call(order, reason, amount_fen),
            done_message=_("%(count)d order(s) updated."),
        )

    @admin.action(description=_("Deliver the selected sales (seller)"))
    def deliver(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o, r, a: orders.order_deliver(actor=request.user, order=o, note=r),
        )

    @admin.action(description=_("Accept the selected purchases (buyer)"))
    def accept(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o, r, a: orders.order_accept(actor=request.user, order=o, reason=r),
        )

    @admin.action(description=_("Dispute the selected purchases (buyer)"))
    def open_dispute(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o, r, a: disputes.order_dispute_open(actor=request.user, order=o, reason=r),
            needs_reason=True,
        )

    @admin.action(description=_("Ask for a refund of the selected purchases (buyer)"))
    def request_refund(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o, r, a: refunds.order_refund_request(
                actor=request.user, order=o, amount_fen=a, reason=r
            ),
            needs_reason=True,
        )

    @admin.action(description=_("Cancel the selected unpaid orders (buyer)"))
    def cancel(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o, r, a: orders.order_cancel(actor=request.user, order=o, reason=r),
        )

    @admin.action(description=_("Grant the open refund requests (seller)"))
    def approve_refund_requests(self, request, queryset):
        def approve(order, reason, amount):
            requests = order.refunds.filter(status=RefundStatus.REQUESTED).order_by("pk")
            if not requests:
                raise BusinessRuleViolation(_("no refund request is open"))
            for refund in requests:
                refunds.refund_request_approve(actor=request.user, refund=refund, reason=reason)

        self._run(request, queryset, approve)

    @admin.action(description=_("Refund the selected orders (operator)"))
    def refund(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o, r, a: refunds.order_refund(
                actor=request.user, order=o, amount_fen=a, reason=r
            ),
            needs_reason=True,
        )

    @admin.action(description=_("Resolve disputes: release to the seller (operator)"))
    def resolve_release(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o, r, a: disputes.order_dispute_resolve(
                actor=request.user, order=o, outcome="release", reason=r
            ),
            needs_reason=True,
        )

    @admin.action(description=_("Resolve disputes: refund the buyer (operator)"))
    def resolve_refund(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o, r, a: disputes.order_dispute_resolve(
                actor=request.user, order=o, outcome="refund", reason=r
            ),
            needs_reason=True,
        )


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ("record_id", "seller", "buyer", "plan", "calls", "used_at")

    def get_list_display(self, request):
        if is_operator(request.user):
            return self.list_display
        # a merchant is one of the two parties: its own name is not a column
        merchant_id = merchant_id_of(request.user)

        @admin.display(description=_("counterparty"))
        def counterparty(obj):
            return obj.seller if obj.buyer_id == merchant_id else obj.buyer

        return ("record_id", counterparty, "plan", "calls", "used_at", "billed_order")

    list_filter = ("used_at",)
    search_fields = ("record_id",)
    list_select_related = ("seller", "buyer", "plan__product", "billed_order")


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ("channel_reference", "order", "amount_yuan", "outcome", "received_at")
    readonly_fields = ("amount_yuan",)
    amount_yuan = yuan_column("amount_fen", _("amount (yuan)"))
    list_filter = ("outcome",)
    search_fields = ("channel_reference", "nonce", "order__number")
