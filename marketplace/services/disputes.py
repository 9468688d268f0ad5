"""Writes for disputes: the buyer opens one, an operator resolves it.

While a dispute is open the order is frozen (Order.is_disputed): it is not
accepted automatically, refunds wait for the resolution and clearing skips it.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from core.money import fen_to_yuan
from core.transitions import lock_one
from marketplace.choices import DisputeOutcome, OrderStatus
from marketplace.models import Dispute, Order
from marketplace.services.orders import BUYER, OPERATOR, _move, _record, _require_side
from marketplace.services.refunds import _refund_locked


@transaction.atomic
def order_dispute_open(*, actor: User, order: Order, reason: str) -> Dispute:
    """The buyer disputes a delivered (or accepted, not yet cleared) order.

    Invariant: while the dispute is open the order is frozen: it is not
    accepted automatically and clearing skips it (Order.is_disputed).
    Opening a dispute on an order that already has one returns that one.
    """
    order = lock_one(Order, order.pk)
    _require_side(order, actor, BUYER)
    if order.is_disputed:
        return order.disputes.get(outcome="")
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.ACCEPTED) or (
        order.clearing_batch_id is not None
    ):
        raise InvalidTransition(
            model_label=str(Order._meta.verbose_name),
            current=order.status,
            target="disputed",
            detail=_(
                "a dispute is opened after delivery and before clearing; this order is %(status)s"
            )
            % {"status": order.status},
        )
    dispute = Dispute.objects.create(order=order, reason=reason, opened_by=actor)
    order.is_disputed = True
    order.save(update_fields=["is_disputed", "updated_at"])
    _record(order, actor=actor, reason=f"dispute opened: {reason}")
    return dispute


@transaction.atomic
def order_dispute_resolve(
    *,
    actor: User,
    order: Order,
    outcome: str,
    reason: str,
    refund_fen: int | None = None,
) -> Dispute:
    """An operator ends a dispute: release to the seller, refund the buyer, or split.

    release: the order goes on to 'accepted' and clears as usual;
    refund: all the escrow goes back to the buyer ('refunded');
    split: `refund_fen` goes back (more than 0, less than the escrow) and the
    rest is released ('accepted').
    """
    order = lock_one(Order, order.pk)
    _require_side(order, actor, OPERATOR)
    if not order.is_disputed:
        raise Conflict(_("no dispute is open on this order"), code="not_disputed")
    dispute = Dispute.objects.select_for_update().get(order=order, outcome="")
    escrow = order.escrow_fen
    if outcome == DisputeOutcome.RELEASE:
        refunded = 0
    elif outcome == DisputeOutcome.REFUND:
        refunded = escrow
    elif outcome == DisputeOutcome.SPLIT:
        if refund_fen is None or not 0 < refund_fen < escrow:
            raise BusinessRuleViolation(
                _("a split refunds more than 0.00 and less than the %(value)s in escrow")
                % {"value": fen_to_yuan(escrow)},
                field="refund",
            )
        refunded = refund_fen
    else:
        raise BusinessRuleViolation(
            _("unknown outcome '%(outcome)s'") % {"outcome": outcome}, field="outcome"
        )
    if refunded:
        _refund_locked(
            order,
            actor=actor,
            amount_fen=refunded,
            reason=f"dispute resolved ({outcome}): {reason}",
        )
    order.is_disputed = False
    order.save(update_fields=["is_disputed", "updated_at"])
    _record(order, actor=actor, reason=f"dispute resolved ({outcome}): {reason}")
    if order.status == OrderStatus.DELIVERED:
        _move(
            order,
            to=OrderStatus.ACCEPTED,
            actor=actor,
            reason=f"released to the seller by the dispute's resolution: {reason}",
            accepted_at=timezone.now(),
        )
    elif order.status == OrderStatus.ACCEPTED:
        # Clearing takes each business day's acceptances; an order frozen past
        # its acceptance day is released into today's, or it would never clear.
        order.accepted_at = timezone.now()
        order.save(update_fields=["accepted_at", "updated_at"])
    dispute.outcome = outcome
    dispute.refund_fen = refunded
    dispute.resolution_note = reason
    dispute.resolved_by = actor
    dispute.resolved_at = timezone.now()
    dispute.save()
    return dispute
