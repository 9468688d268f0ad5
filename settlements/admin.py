import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import (
    EventInline,
    OperatorPage,
    OperatorPagesMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ScopedAdmin,
    apply_to_selected,
    yuan_column,
)
from core.exceptions import (
    BrokerUnavailable,
    BusinessRuleViolation,
    Conflict,
    InvalidTransition,
)
from core.formatting import csv_response, format_yuan
from core.money import MoneyError, fen_to_yuan, yuan_to_fen
from core.scoping import is_operator
from settlements import selectors
from settlements.choices import ChunkStatus, EntryPurpose, PayoutStatus
from settlements.models import (
    ClearingBatch,
    ClearingBatchEvent,
    ClearingChunk,
    FeeSchedule,
    JournalEntry,
    LedgerAccount,
    Payout,
    PayoutEvent,
    Posting,
    ProductCostLine,
)
from settlements.services import assets, fees, payouts
from settlements.services.clearing import clearing_run_for_day


def _csv(text: str, filename: str, *, bom: bool = True) -> HttpResponse:
    return csv_response(text, filename, bom=bom)


@admin.register(FeeSchedule)
class FeeScheduleAdmin(ScopedAdmin):
    list_display = ("effective_from", "effective_until", "board", "delivery_mode", "fee_bps")
    list_filter = ("board", "delivery_mode")
    search_fields = ("note",)
    date_hierarchy = "effective_from"
    fields = ("board", "delivery_mode", "fee_bps", "effective_from", "effective_until", "note")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.fields}
        data["delivery_mode"] = data["delivery_mode"] or ""
        try:
            if change:
                saved = fees.fee_schedule_update(
                    actor=request.user, schedule=obj, **{k: data[k] for k in form.changed_data}
                )
            else:
                saved = fees.fee_schedule_create(actor=request.user, **data)
        except BusinessRuleViolation as exc:
            raise forms.ValidationError({exc.field: exc.message}) from exc
        obj.pk = saved.pk


class ClearingChunkInline(ReadOnlyInline):
    model = ClearingChunk
    fields = (
        "seq",
        "first_order_id",
        "last_order_id",
        "status",
        "planned_orders",
        "cleared_orders",
        "postings_created",
        "attempts",
        "finished_at",
    )


class ClearingBatchEventInline(EventInline):
    model = ClearingBatchEvent


class ClearingRunForm(forms.Form):
    business_date = forms.DateField(
        label=_("business day"),
        help_text=_("The local business day to clear (YYYY-MM-DD); yesterday if left empty."),
        required=False,
    )

    def clean_business_date(self):
        value = self.cleaned_data["business_date"]
        if value is None:
            return timezone.localdate() - dt.timedelta(days=1)
        if value.year < 2000:
            raise forms.ValidationError(_("The exchange did not trade before 2000."))
        return value


def _run_clearing(request, obj, form):
    data = form.cleaned_data
    return clearing_run_for_day(
        business_date=data["business_date"], actor=request.user, dispatch="celery"
    )


class MarkPaidForm(forms.Form):
    bank_reference = forms.CharField(label=_("bank reference"), max_length=64, required=False)


def _mark_paid(request, payout, form):
    data = form.cleaned_data
    return payouts.payout_mark_paid(
        actor=request.user, payout=payout, bank_reference=data["bank_reference"]
    )


@admin.register(ClearingBatch)
class ClearingBatchAdmin(OperatorPagesMixin, ReadOnlyAdmin):
    operator_pages = (
        OperatorPage(
            slug="run",
            title=_("Run the clearing of a day"),
            form=ClearingRunForm,
            run=_run_clearing,
            detail=False,
            help_text=_(
                "Clears the day's settled orders in chunks on the worker; running a day "
                "again resumes it or picks up late orders. Follow its progress in the list."
            ),
        ),
    )
    list_display = (
        "business_date",
        "status",
        "progress",
        "order_count",
        "gross_yuan",
        "net_yuan",
    )
    list_filter = ("status",)
    date_hierarchy = "business_date"
    readonly_fields = (
        "business_date",
        "status",
        "progress",
        "order_count",
        "gross_yuan",
        "fee_yuan",
        "share_yuan",
        "net_yuan",
        "created_at",
        "updated_at",
    )
    inlines = [ClearingChunkInline, ClearingBatchEventInline]
    actions = ["confirm", "rerun", "export_payouts"]

    def has_change_permission(self, request, obj=None) -> bool:
        # Operators open the page read-only; actions do the work.
        return False

    def get_queryset(self, request):
        done = Count("chunks", filter=Q(chunks__status=ChunkStatus.DONE))
        return (
            super().get_queryset(request).annotate(chunks_total=Count("chunks"), chunks_done=done)
        )

    @admin.display(description=_("progress (chunks done of total)"))
    def progress(self, obj):
        total = getattr(obj, "chunks_total", None)
        done = getattr(obj, "chunks_done", None)
        if total is None:
            total = obj.chunks.count()
            done = obj.chunks.filter(status=ChunkStatus.DONE).count()
        return _("%(done)d of %(total)d") % {"done": done, "total": total}

    gross_yuan = yuan_column("gross_fen", _("gross"))

    fee_yuan = yuan_column("fee_fen", _("fees"))

    share_yuan = yuan_column("share_fen", _("department shares"))

    net_yuan = yuan_column("net_fen", _("seller net"))

    @admin.action(description=_("Confirm the selected batches (draws up payouts)"))
    def confirm(self, request, queryset):
        for batch in queryset.order_by("pk"):
            try:
                payouts.clearing_batch_confirm(actor=request.user, batch=batch)
            except (InvalidTransition, Conflict) as exc:
                self.message_user(request, f"{batch}: {exc}", messages.WARNING)
            else:
                self.message_user(request, _("%(day)s confirmed.") % {"day": batch})

    @admin.action(description=_("Run again (resume or pick up late orders)"))
    def rerun(self, request, queryset):
        for batch in queryset.order_by("pk"):
            try:
                clearing_run_for_day(
                    business_date=batch.business_date, actor=request.user, dispatch="celery"
                )
            except (Conflict, BusinessRuleViolation, BrokerUnavailable) as exc:
                self.message_user(request, f"{batch}: {exc}", messages.WARNING)
            else:
                self.message_user(request, _("%(day)s queued.") % {"day": batch})

    @admin.action(description=_("Download the bank payout file"))
    def export_payouts(self, request, queryset):
        batch = queryset.order_by("-business_date").first()
        return _csv(
            payouts.payout_csv(batch=batch), f"payouts-{batch.business_date}.csv", bom=False
        )


class PayoutEventInline(EventInline):
    model = PayoutEvent


@admin.register(Payout)
class PayoutAdmin(OperatorPagesMixin, ReadOnlyAdmin):
    operator_pages = (
        OperatorPage(
            slug="mark_paid",
            title=_("Mark paid with the bank's reference"),
            form=MarkPaidForm,
            run=_mark_paid,
            available=lambda payout: payout.status == PayoutStatus.PENDING,
        ),
    )
    list_display = ("batch", "merchant", "amount_yuan", "status", "paid_at")
    list_filter = ("status",)
    search_fields = ("merchant__legal_name", "bank_reference")
    readonly_fields = (
        "batch",
        "merchant",
        "net_yuan",
        "carried_in_yuan",
        "amount_yuan",
        "status",
        "carried_into",
        "bank_reference",
        "paid_at",
    )
    inlines = [PayoutEventInline]
    actions = ["mark_paid"]

    net_yuan = yuan_column("net_fen", _("seller net"))
    carried_in_yuan = yuan_column("carried_in_fen", _("carried in"))
    amount_yuan = yuan_column("amount_fen", _("amount"))

    def get_actions(self, request):
        return super().get_actions(request) if is_operator(request.user) else {}

    @admin.action(description=_("Mark the selected payouts paid"))
    def mark_paid(self, request, queryset):
        apply_to_selected(
            self,
            request,
            queryset,
            lambda payout: payouts.payout_mark_paid(actor=request.user, payout=payout),
            done_message=_("%(count)d payout(s) paid."),
        )


class StatementForm(forms.Form):
    date_from = forms.DateField(label=_("from"))
    date_to = forms.DateField(label=_("to"))

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and (start > end or (end - start).days > 400):
            raise forms.ValidationError(_("Give a period of at most 400 days, from before to."))
        return data


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "balance_yuan", "statement_link")
    list_filter = ("kind",)
    search_fields = ("merchant__legal_name", "department__name")
    readonly_fields = ("kind", "merchant", "department", "balance_yuan", "updated_at")

    balance_yuan = yuan_column("balance_fen", _("balance"))

    @admin.display(description=_("statement"))
    def statement_link(self, obj):
        url = reverse("admin:settlements_ledgeraccount_statement", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("statement"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/statement/",
                self.admin_site.admin_view(self.statement_view),
                name="settlements_ledgeraccount_statement",
            ),
            *super().get_urls(),
        ]

    def statement_view(self, request, pk: int):
        """A statement for any period; the merchant sees only its own accounts."""
        account = self.get_queryset(request).filter(pk=pk).first()
        if account is None or not self.has_view_permission(request, account):
            raise Http404
        today = timezone.localdate()
        form = StatementForm(request.GET or {"date_from": today.replace(day=1), "date_to": today})
        statement = None
        if form.is_valid():
            statement = selectors.statement_for_account(
                account=account,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                lines=selectors.STATEMENT_MAX_LINES,
            )
            if request.GET.get("download") == "csv":
                return _csv(
                    selectors.statement_csv(statement),
                    f"statement-{account.pk}-{statement.date_from}-{statement.date_to}.csv",
                )
        purposes = dict(EntryPurpose.choices)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Statement: %(account)s") % {"account": account},
            "account": account,
            "form": form,
            "statement": statement,
            "lines": [
                (
                    line,
                    purposes.get(line.purpose, line.purpose),
                    format_yuan(line.amount_fen),
                    format_yuan(line.balance_fen),
                )
                for line in (statement.lines if statement else [])
            ],
            "opening": format_yuan(statement.opening_balance_fen) if statement else "",
            "closing": format_yuan(statement.closing_balance_fen) if statement else "",
        }
        return TemplateResponse(request, "admin/settlements/statement.html", context)


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("account", "amount_yuan", "created_at")
    amount_yuan = yuan_column("amount_fen", _("amount"))


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "purpose", "order", "clearing_batch", "created_at")
    list_filter = ("purpose",)
    search_fields = ("idempotency_key",)
    readonly_fields = (
        "idempotency_key",
        "purpose",
        "order",
        "clearing_batch",
        "reverses",
        "memo",
        "created_at",
    )
    list_select_related = ("order", "clearing_batch")
    inlines = [PostingInline]


class CostLineForm(forms.ModelForm):
    amount = forms.DecimalField(label=_("amount (yuan)"), max_digits=17, decimal_places=2)

    class Meta:
        model = ProductCostLine
        fields = ["product", "incurred_on", "category", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["amount"] = fen_to_yuan(self.instance.amount_fen)

    def clean_amount(self):
        try:
            return yuan_to_fen(self.cleaned_data["amount"])
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(ProductCostLine)
class ProductCostLineAdmin(ScopedAdmin):
    form = CostLineForm
    list_display = ("product", "incurred_on", "category", "amount_yuan", "description")
    list_filter = ("category",)
    search_fields = ("product__title", "description")
    date_hierarchy = "incurred_on"
    merchant_can_add = True
    merchant_can_change = True
    merchant_can_delete = True
    operator_can_delete = True
    actions = ["export_records"]

    amount_yuan = yuan_column("amount_fen", _("amount"))

    def save_model(self, request, obj, form, change):
        data = {
            "product": form.cleaned_data["product"],
            "incurred_on": form.cleaned_data["incurred_on"],
            "category": form.cleaned_data["category"],
            "amount_fen": form.cleaned_data["amount"],
            "description": form.cleaned_data.get("description", ""),
        }
        try:
            if change:
                saved = assets.cost_line_update(actor=request.user, line=obj, **data)
            else:
                saved = assets.cost_line_create(actor=request.user, **data)
        except BusinessRuleViolation as exc:
            raise forms.ValidationError({exc.field: exc.message}) from exc
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        assets.cost_line_delete(actor=request.user, line=obj)

    @admin.action(description=_("Download data-asset records (revenue and costs) for this year"))
    def export_records(self, request, queryset):
        today = timezone.localdate()
        product_ids = set(queryset.values_list("product_id", flat=True))
        records = selectors.data_asset_records(
            user=request.user, date_from=dt.date(today.year, 1, 1), date_to=today
        )
        records["revenue"] = [r for r in records["revenue"] if r["product_id"] in product_ids]
        records["costs"] = [c for c in records["costs"] if c.product_id in product_ids]
        return _csv(selectors.data_asset_csv(records), f"data-assets-{today.year}.csv")
