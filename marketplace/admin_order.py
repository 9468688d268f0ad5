"""An order's page in the admin: what each side may do next, its money, its contract, its history.

The buttons post to one view per move, which calls the same service as the
API (marketplace.services); the service decides whether this person, on this
side, may make the move now. The page only offers the moves the order's
status makes possible, so people are not shown buttons that cannot work.
"""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.admin import SERVICE_REFUSALS
from core.exceptions import BusinessRuleViolation
from core.formatting import format_datetime, format_yuan
from core.money import MoneyError, yuan_to_fen
from core.scoping import is_operator, merchant_id_of
from marketplace.choices import OrderStatus, RefundStatus
from marketplace.models import Order, Refund
from marketplace.selectors import order_history, order_money_split
from marketplace.services import disputes, orders, payments, refunds
from products.choices import DataSourceKind, DeliveryMode, Grade, PlanKind, SubscriptionPeriod


@dataclass
class Move:
    """A button on the order's page."""

    name: str
    label: str | Promise
    reason_label: str | Promise | None = None  # a text box beside the button
    reason_required: bool = False
    help: str | Promise = ""
    amount_label: str | Promise | None = None  # a yuan amount beside the button


PAY = Move(
    "pay",
    _("Simulate payment (local demo)"),
    help=_("Signs a payment notification as the payment channel would and sends it."),
)
CANCEL = Move("cancel", _("Cancel the order"), reason_label=_("reason (optional)"))
ACCEPT = Move("accept", _("Accept the delivery"), reason_label=_("note (optional)"))
DISPUTE = Move(
    "dispute",
    _("Open a dispute"),
    reason_label=_("what is wrong with the delivery"),
    reason_required=True,
    help=_("The order is frozen until an operator resolves the dispute."),
)
DELIVER = Move(
    "deliver",
    _("Mark as delivered"),
    reason_label=_("delivery note (how and where the buyer gets the data)"),
)
REQUEST_REFUND = Move(
    "request_refund",
    _("Ask for a refund"),
    reason_label=_("why the money should come back"),
    reason_required=True,
    amount_label=_("amount in yuan (empty: all that is held)"),
    help=_("The seller grants or declines it; the money stays in escrow meanwhile."),
)
GRANT_REFUND = Move(
    "grant_refund",
    _("Grant the refund request"),
    reason_label=_("note (optional)"),
    help=_("The amount goes back to the buyer from escrow."),
)
DECLINE_REFUND = Move(
    "decline_refund",
    _("Decline the refund request"),
    reason_label=_("why the request is declined"),
    reason_required=True,
    help=_("The buyer may then open a dispute."),
)
MOVES = {
    m.name: m
    for m in (
        PAY,
        CANCEL,
        ACCEPT,
        DISPUTE,
        DELIVER,
        REQUEST_REFUND,
        GRANT_REFUND,
        DECLINE_REFUND,
    )
}
REFUNDABLE = (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.ACCEPTED)


def open_refund_request(order: Order) -> Refund | None:
    return order.refunds.filter(status=RefundStatus.REQUESTED).order_by("pk").first()


def side_of(order: Order, user) -> str | None:
    merchant_id = merchant_id_of(user)
    if is_operator(user) or merchant_id is None:
        return None
    if merchant_id == order.buyer_id:
        return "buyer"
    return "seller" if merchant_id == order.seller_id else None


def moves_for(order: Order, user) -> list[Move]:
    """The moves the order's status allows for the side this person is on."""
    side = side_of(order, user)
    shown: list[Move] = []
    if side == "buyer":
        if order.status == OrderStatus.PENDING_PAYMENT:
            if settings.EXCHANGE_DEMO_PAYMENTS:
                shown.append(PAY)
            shown.append(CANCEL)
        if order.status == OrderStatus.DELIVERED and not order.is_disputed:
            shown += [ACCEPT, DISPUTE]
        elif (
            order.status == OrderStatus.ACCEPTED
            and not order.is_disputed
            and order.clearing_batch_id is None
        ):
            shown.append(DISPUTE)
        if _refundable(order) and open_refund_request(order) is None:
            shown.append(REQUEST_REFUND)
    if side == "seller":
        if order.status == OrderStatus.PAID:
            shown.append(DELIVER)
        if _refundable(order) and open_refund_request(order) is not None:
            shown += [GRANT_REFUND, DECLINE_REFUND]
    return shown


def _refundable(order: Order) -> bool:
    return order.status in REFUNDABLE and not order.is_disputed and order.clearing_batch_id is None


def _label(choices, value) -> str:
    if value in (None, ""):
        return "-"
    return str(choices(value).label) if value in choices.values else str(value)


def _yuan_text(value) -> str:
    """A yuan string of the snapshot ("120.00") as people read money."""
    if value in (None, ""):
        return "-"
    return format_yuan(yuan_to_fen(str(value)))


def _party(data: dict | None) -> str:
    if not data:
        return "-"
    return f"{data.get('legal_name', '')} · {data.get('credit_code', '')}"


def _signed_at(value) -> str:
    try:
        return format_datetime(dt.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value or "-")


def contract_rows(contract: dict) -> list[tuple[str | Promise, str]]:
    """The frozen contract as labelled lines, in the words of the order page."""
    product = contract.get("product") or {}
    plan = contract.get("plan") or {}
    rows: list[tuple[str | Promise, str]] = [
        (_("signed at"), _signed_at(contract.get("signed_at"))),
        (_("seller"), _party(contract.get("seller"))),
        (_("buyer"), _party(contract.get("buyer"))),
        (_("product"), product.get("title") or "-"),
        (_("product version"), str(product.get("version") or "-")),
        (_("registration number"), product.get("registration_number") or "-"),
        (_("delivery mode"), _label(DeliveryMode, product.get("delivery_mode"))),
        (_("grade"), _label(Grade, product.get("grade"))),
        (_("data source"), _label(DataSourceKind, product.get("source_kind"))),
        (_("plan"), plan.get("name") or "-"),
        (_("plan kind"), _label(PlanKind, plan.get("kind"))),
        (_("subscription period"), _label(SubscriptionPeriod, plan.get("period"))),
    ]
    if plan.get("kind") == PlanKind.METERED:
        rows += [
            (_("price per call"), _yuan_text(plan.get("unit_price"))),
            (_("calls included"), str(plan.get("included_calls") or 0)),
            (_("monthly cap"), _yuan_text(plan.get("monthly_cap"))),
        ]
    else:
        rows.append((_("unit price"), _yuan_text(plan.get("price"))))
    rows += [
        (_("quantity or periods"), str(contract.get("quantity") or "-")),
        (_("contract amount"), _yuan_text(contract.get("amount"))),
        (_("period start"), contract.get("period_start") or "-"),
        (_("period end"), contract.get("period_end") or "-"),
        (_("usage terms"), contract.get("usage_terms") or "-"),
    ]
    public = contract.get("public_data")
    if public:
        scenario = public.get("scenario") or {}
        department = public.get("department") or {}
        rows += [
            (_("data department"), department.get("name") or "-"),
            (_("authorized scenario"), scenario.get("name") or "-"),
            (_("scenario purpose"), scenario.get("purpose") or "-"),
            (
                _("department's revenue share"),
                f"{(public.get('revenue_share_bps') or 0) / 100:g}%",
            ),
        ]
    usage = contract.get("usage")
    if usage:
        rows += [(_("usage billed"), ", ".join(f"{k}: {v}" for k, v in usage.items()))]
    return rows


def money_rows(order: Order) -> list[tuple[str | Promise, str]]:
    split = order_money_split(order=order)
    cleared = order.clearing_batch_id is not None
    return [
        (_("order amount"), format_yuan(order.amount_fen)),
        (_("refunded to the buyer"), format_yuan(order.refunded_fen)),
        (_("held in escrow"), format_yuan(order.escrow_fen)),
        (_("exchange fee"), format_yuan(split.fee_fen)),
        (_("data department's share"), format_yuan(split.share_fen)),
        (_("seller's net"), format_yuan(split.net_fen)),
        (
            _("split"),
            str(_("as cleared") if cleared else _("as clearing will post it at today's rates")),
        ),
    ]


class MoveForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000)


def order_page_context(order: Order, request) -> dict:
    return {
        "order_moves": [
            (move, reverse("admin:marketplace_order_move", args=[order.pk, move.name]))
            for move in moves_for(order, request.user)
        ],
        "order_money": money_rows(order),
        "order_contract": contract_rows(order.contract or {}),
        "order_history": [
            {
                "at": format_datetime(line.at),
                "kind": line.kind,
                "actor": line.actor or "-",
                "what": line.what,
                "detail": line.detail,
            }
            for line in order_history(order=order)
        ],
        "order_side": side_of(order, request.user),
        "order_refund_request": open_refund_request(order),
    }


def _call(move: str, *, actor, order: Order, reason: str, amount_fen: int | None):
    if move == "request_refund":
        return refunds.order_refund_request(
            actor=actor, order=order, amount_fen=amount_fen, reason=reason
        )
    if move in ("grant_refund", "decline_refund"):
        refund = open_refund_request(order)
        if refund is None:
            raise BusinessRuleViolation(str(_("No refund request is open on this order.")))
        if move == "grant_refund":
            return refunds.refund_request_approve(actor=actor, refund=refund, reason=reason)
        return refunds.refund_request_decline(actor=actor, refund=refund, reason=reason)
    if move == "pay":
        return payments.payment_demo_simulate(actor=actor, order=order)
    if move == "cancel":
        return orders.order_cancel(actor=actor, order=order, reason=reason)
    if move == "accept":
        return orders.order_accept(actor=actor, order=order, reason=reason)
    if move == "dispute":
        return disputes.order_dispute_open(actor=actor, order=order, reason=reason)
    return orders.order_deliver(actor=actor, order=order, note=reason)


DONE = {
    "pay": _("Payment received: the order is paid and its amount held in escrow."),
    "cancel": _("The order is cancelled."),
    "accept": _("Delivery accepted: the order goes to the next clearing."),
    "dispute": _("Dispute opened: an operator will resolve it."),
    "deliver": _("Marked as delivered: the buyer may now accept it or open a dispute."),
    "request_refund": _("Refund asked: the seller will grant or decline it."),
    "grant_refund": _("Refund granted: the amount went back to the buyer."),
    "decline_refund": _("Refund request declined."),
}


class OrderPageMixin:
    """For OrderAdmin: the order's page panels and the move view behind its buttons.

    The admin sets change_form_template to admin/marketplace/order/change_form.html.
    """

    def get_urls(self):
        view = self.admin_site.admin_view(self.move_view)  # type: ignore[attr-defined]
        return [
            path("<int:pk>/move/<str:move>/", view, name="marketplace_order_move"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_queryset(request).filter(pk=object_id).first()  # type: ignore[attr-defined]
        if order is not None:
            extra_context = {**(extra_context or {}), **order_page_context(order, request)}
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def move_view(self, request, pk: int, move: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self.get_queryset(request).filter(pk=pk).first()  # type: ignore[attr-defined]
        if order is None or move not in MOVES:
            raise Http404
        page = reverse("admin:marketplace_order_change", args=[order.pk])
        form = MoveForm(request.POST)
        reason = form.cleaned_data["reason"].strip() if form.is_valid() else ""
        if not form.is_valid():
            messages.error(request, _("The reason is too long."))
            return HttpResponseRedirect(page)
        if MOVES[move].reason_required and not reason:
            messages.error(request, _("Give a reason for this action."))
            return HttpResponseRedirect(page)
        amount_text = (request.POST.get("amount") or "").strip()
        try:
            amount_fen = yuan_to_fen(amount_text) if amount_text else None
        except MoneyError as exc:
            messages.error(request, f"{_('amount')}: {exc}")
            return HttpResponseRedirect(page)
        try:
            _call(move, actor=request.user, order=order, reason=reason, amount_fen=amount_fen)
        except SERVICE_REFUSALS as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, DONE[move])
        return HttpResponseRedirect(page)
