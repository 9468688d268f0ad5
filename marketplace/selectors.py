"""Reads for trading, narrowed by core.scoping like every list."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from core.event_reasons import reason_text
from core.formatting import format_yuan
from core.money import Split
from marketplace.choices import OrderStatus
from marketplace.models import Order


def order_money_split(*, order: Order) -> Split:
    """How the order's money divides: exchange fee, department share, seller net.

    The same rule and rates as clearing (settlements.services.fees): the gross
    is what stays after refunds; the rates are those in force on the clearing
    batch's business day, or today while the order is not yet cleared.
    """
    from settlements.services.fees import fee_bps_for, order_split

    day = order.clearing_batch.business_date if order.clearing_batch else timezone.localdate()
    fee_bps = fee_bps_for(board_id=order.board_id, delivery_mode=order.delivery_mode, day=day)
    return order_split(
        gross_fen=order.amount_fen - order.refunded_fen,
        fee_bps=fee_bps,
        share_bps=order.department_share_bps,
    )


@dataclass
class HistoryLine:
    """One thing that happened to an order, for people reading its history."""

    at: dt.datetime
    kind: str  # "status", "refund", "dispute"
    actor: object
    what: str
    detail: str


def order_history(*, order: Order) -> list[HistoryLine]:
    """Status changes, refunds and disputes of one order, oldest first.

    Events that keep the status (a partial refund, a dispute opened or resolved)
    are told by their refund or dispute line, so each happening reads once.
    """
    lines = [
        HistoryLine(
            at=event.created_at,
            kind="status",
            actor=event.actor,
            what=_("%(from)s → %(to)s")
            % {"from": _status_label(event.from_status), "to": _status_label(event.to_status)},
            detail=event.reason_text,
        )
        for event in order.events.select_related("actor").order_by("created_at", "id")
        if event.from_status != event.to_status
    ]
    for refund in order.refunds.select_related("requested_by", "decided_by").order_by("id"):
        lines.append(
            HistoryLine(
                at=refund.created_at,
                kind="refund",
                actor=refund.requested_by,
                what=_("Refund of %(amount)s: %(status)s")
                % {"amount": format_yuan(refund.amount_fen), "status": refund.get_status_display()},
                detail=reason_text(refund.reason),
            )
        )
    for dispute in order.disputes.select_related("opened_by", "resolved_by").order_by("id"):
        lines.append(
            HistoryLine(
                at=dispute.opened_at,
                kind="dispute",
                actor=dispute.opened_by,
                what=_("Dispute opened"),
                detail=dispute.reason,
            )
        )
        if dispute.resolved_at:
            lines.append(
                HistoryLine(
                    at=dispute.resolved_at,
                    kind="dispute",
                    actor=dispute.resolved_by,
                    what=_("Dispute resolved: %(outcome)s, %(refund)s refunded")
                    % {
                        "outcome": dispute.get_outcome_display(),
                        "refund": format_yuan(dispute.refund_fen),
                    },
                    detail=dispute.resolution_note,
                )
            )
    return sorted(lines, key=lambda line: line.at)


def _status_label(value: str) -> str:
    if not value:
        return str(_("(new)"))
    return str(OrderStatus(value).label) if value in OrderStatus.values else value
