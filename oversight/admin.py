from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.choices import MerchantKind, MerchantStatus
from core.admin import (
    EventInline,
    OperatorPage,
    OperatorPagesMixin,
    ReadOnlyAdmin,
    ReasonActionForm,
    action_reason,
    apply_to_selected,
)
from core.formatting import format_data_size, format_yuan
from core.scoping import is_operator
from oversight.charts import bar_chart, column_chart
from oversight.choices import FINDING_UNRESOLVED, Severity
from oversight.models import AuditFinding, AuditFindingEvent, AuditRun, ChainSeal, StatsSnapshot
from oversight.services.audit import audit_run_request, finding_acknowledge, finding_resolve
from oversight.services.stats import stats_latest, stats_refresh
from products.choices import DeliveryMode


class AuditFindingEventInline(EventInline):
    model = AuditFindingEvent


@admin.register(AuditFinding)
class AuditFindingAdmin(ReadOnlyAdmin):
    action_form = ReasonActionForm
    list_display = ("summary", "kind", "severity", "status", "first_seen_at", "last_seen_at")
    list_filter = ("status", "severity", "kind")
    search_fields = ("summary", "fingerprint")
    date_hierarchy = "last_seen_at"
    readonly_fields = (
        "kind", "severity", "status", "fingerprint", "summary", "details", "content_type",
        "object_id", "objects_concerned", "first_seen_at", "last_seen_at", "first_run",
        "last_run", "times_seen", "acknowledged_by", "acknowledged_at", "resolved_by",
        "resolved_at", "resolution",
    )  # fmt: skip
    inlines = [AuditFindingEventInline]
    actions = ["acknowledge", "resolve"]

    def _act(self, request, queryset, service, *, needs_reason: bool):
        reason = action_reason(self, request, required=needs_reason)
        if reason is None:
            return
        apply_to_selected(
            self,
            request,
            queryset,
            lambda finding: service(actor=request.user, finding=finding, reason=reason),
            done_message=_("%(count)d finding(s) updated."),
        )

    @admin.action(description=_("Acknowledge the selected findings"))
    def acknowledge(self, request, queryset):
        self._act(request, queryset, finding_acknowledge, needs_reason=False)

    @admin.action(description=_("Resolve the selected findings (give the reason)"))
    def resolve(self, request, queryset):
        self._act(request, queryset, finding_resolve, needs_reason=True)


class AuditRunRequestForm(forms.Form):
    full_chain_verify = forms.BooleanField(
        label=_("re-hash every sealed row"),
        help_text=_("Slow at scale; the hourly sweep checks only the newest seals."),
        required=False,
    )


def _request_audit_run(request, obj, form):
    data = form.cleaned_data
    return audit_run_request(actor=request.user, full_chain_verify=data["full_chain_verify"])


@admin.register(AuditRun)
class AuditRunAdmin(OperatorPagesMixin, ReadOnlyAdmin):
    operator_pages = (
        OperatorPage(
            slug="request",
            title=_("Start an audit sweep now"),
            form=AuditRunRequestForm,
            run=_request_audit_run,
            detail=False,
            help_text=_("The sweep runs on the worker; open the run to see what it found."),
        ),
    )
    list_display = ("id", "trigger", "status", "created_at", "finished_at", "new_findings")
    list_filter = ("status", "trigger")
    readonly_fields = (
        "trigger", "requested_by", "status", "full_chain_verify", "created_at", "started_at",
        "finished_at", "counts", "new_findings", "updated_findings", "seals_verified",
        "chain_head_sequence", "chain_head_digest", "error",
    )  # fmt: skip


@admin.register(ChainSeal)
class ChainSealAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "table", "first_id", "last_id", "row_count", "sealed_at")
    list_filter = ("table",)
    search_fields = ("digest", "merkle_root")
    readonly_fields = (
        "sequence", "table", "first_id", "last_id", "row_count", "merkle_root",
        "previous_digest", "digest", "sealed_at", "verified_at",
    )  # fmt: skip


def _yuan_whole(fen: float) -> str:
    return f"¥{int(fen) // 100:,}"


def _bytes(value: float) -> str:
    # Rounded, not truncated: 1.99 TB reads "1.99 TB", never "1 TB".
    return format_data_size(int(value))


def _labelled(counts: dict, choices) -> list[tuple[str, int]]:
    """A snapshot's counts by stored key, named in words (an unknown key as it is)."""
    labels = dict(choices.choices)
    return [(str(labels.get(key, key)), n) for key, n in counts.items()]


def dashboard_context(snapshot: StatsSnapshot) -> dict:
    """What the dashboard shows: the snapshot's figures, three charts, open findings."""
    doc = snapshot.document
    turnover = doc["turnover"]
    products = doc["products"]
    merchants = doc["merchants"]
    volume = doc["data_volume"]

    def board_label(row):
        return row["name"] or str(_("(no board)"))

    open_findings = dict(
        AuditFinding.objects.filter(status__in=FINDING_UNRESOLVED)
        .values("severity")
        .annotate(n=Count("id"))
        .values_list("severity", "n")
    )
    return {
        "snapshot": snapshot,
        "doc": doc,
        "cumulative_yuan": format_yuan(turnover["cumulative_fen"]),
        "turnover_chart": column_chart(
            [(m["month"], m["turnover_fen"]) for m in turnover["by_month"][-24:]],
            title=str(_("Turnover by month (yuan)")),
            value_label=_yuan_whole,
        ),
        "board_chart": bar_chart(
            [(board_label(b), b["count"]) for b in products["by_board"]],
            title=str(_("Listed products per board")),
        ),
        "region_chart": bar_chart(
            [(r["name"], r["count"]) for r in merchants["by_region"]],
            title=str(_("Merchants per region")),
        ),
        "volume_rows": [(board_label(b), _bytes(b["bytes"])) for b in volume["by_board"]],
        "turnover_board_rows": [
            (board_label(b), format_yuan(b["turnover_fen"]), b["orders"])
            for b in turnover["by_board"]
        ],
        "turnover_region_rows": [
            (r["name"], format_yuan(r["turnover_fen"])) for r in turnover["by_region"]
        ],
        "merchant_status_rows": _labelled(merchants["by_status"], MerchantStatus),
        "merchant_kind_rows": _labelled(merchants["by_kind"], MerchantKind),
        "delivery_mode_rows": _labelled(products["by_delivery_mode"], DeliveryMode),
        "open_findings": [(s.label, open_findings.get(s.value, 0)) for s in Severity],
        "findings_url": reverse("admin:oversight_auditfinding_changelist") + "?status__exact=open",
    }


@admin.register(StatsSnapshot)
class StatsSnapshotAdmin(ReadOnlyAdmin):
    """Listed in the admin index as the statistics dashboard; opens the dashboard page."""

    def changelist_view(self, request, extra_context=None):
        if not is_operator(request.user):
            raise PermissionDenied
        snapshot = stats_latest() or stats_refresh()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Exchange statistics"),
            "opts": self.model._meta,
            **dashboard_context(snapshot),
        }
        return TemplateResponse(request, "admin/oversight/dashboard.html", context)
