"""Writes for refunds: an operator's or seller's refund, and the buyer's refund requests.

A refund returns escrow to the buyer before clearing and posts the ledger
entry in the same transaction; a full refund ends the order in 'refunded'.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from core.money import fen_to_yuan
from core.transitions import lock_in_pk_order, lock_one, transition
from marketplace.choices import (
    REFUND_TRANSITIONS,
    REFUNDABLE_STATUSES,
    OrderStatus,
    RefundStatus,
)
from marketplace.models import Order, Refund, RefundEvent
from marketplace.services.orders import BUYER, OPERATOR, SELLER, _move, _record, _require_side


def _check_refundable(order: Order, amount_fen: int, *, field: str = "amount") -> None:
    if order.status not in REFUNDABLE_STATUSES:
        raise InvalidTransition(
            model_label=str(Order._meta.verbose_name),
            current=order.status,
            target=OrderStatus.REFUNDED,
            detail=_("an order that is %(status)s holds no escrow to refund")
            % {"status": order.status},
        )
    if order.clearing_batch_id is not None:
        # Clearing has computed this order's split; the money is no longer ours to return.
        raise Conflict(_("clearing has already taken this order"), code="in_clearing")
    if amount_fen <= 0:
        raise BusinessRuleViolation(_("a refund is more than 0.00"), field=field)
    if amount_fen > order.escrow_fen:
        raise BusinessRuleViolation(
            _("at most %(escrow)s is left in escrow for this order")
            % {"escrow": fen_to_yuan(order.escrow_fen)},
            field=field,
            code="exceeds_escrow",
        )


def _refund_open(order: Order, *, actor: User | None, amount_fen: int, reason: str) -> Refund:
    """A new refund in status requested, with the event that records who asked."""
    refund = Refund.objects.create(
        order=order, amount_fen=amount_fen, reason=reason, requested_by=actor
    )
    RefundEvent.objects.create(
        subject=refund,
        actor=actor,
        from_status="",
        to_status=RefundStatus.REQUESTED,
        reason=reason,
    )
    return refund


def _refund_move(refund: Refund, *, to: str, actor: User | None, reason: str, **changes) -> bool:
    return transition(
        refund,
        to=to,
        actor=actor,
        reason=reason,
        transitions=REFUND_TRANSITIONS,
        changes=changes,
    )


def _refund_locked(
    order: Order,
    *,
    actor: User | None,
    amount_fen: int,
    reason: str,
    refund: Refund | None = None,
) -> Refund:
    """Return `amount_fen` of the locked order's escrow to the buyer; post the ledger entry."""
    from settlements.choices import AccountKind, EntryPurpose
    from settlements.services.ledger import Line, account_get, journal_post

    _check_refundable(order, amount_fen)
    now = timezone.now()
    decided_by = actor if getattr(actor, "pk", None) else None
    if refund is None:
        # A refund the seller or an operator makes is a request decided at once.
        refund = _refund_open(order, actor=decided_by, amount_fen=amount_fen, reason=reason)
    _refund_move(
        refund,
        to=RefundStatus.COMPLETED,
        actor=decided_by,
        reason=reason,
        amount_fen=amount_fen,
        decided_by=decided_by,
        decided_at=now,
    )
    refunded = order.refunded_fen + amount_fen
    text = f"refund of {fen_to_yuan(amount_fen)}: {reason}"
    if refunded == order.amount_fen:
        _move(order, to=OrderStatus.REFUNDED, actor=actor, reason=text, refunded_fen=refunded)
        # Nothing is left to refund; open requests have nothing to act on.
        still_open = order.refunds.filter(status=RefundStatus.REQUESTED).values_list(
            "pk", flat=True
        )
        for request in lock_in_pk_order(Refund, still_open):
            _refund_move(
                request,
                to=RefundStatus.DECLINED,
                actor=decided_by,
                reason="the order was refunded in full",
                decided_at=now,
            )
    else:
        order.refunded_fen = refunded
        order.save(update_fields=["refunded_fen", "updated_at"])
        _record(order, actor=actor, reason=f"partial {text}")
    journal_post(
        idempotency_key=f"refund:{refund.pk}",
        purpose=EntryPurpose.REFUND,
        order_id=order.pk,
        lines=[
            Line(
                account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=order.buyer_id), -amount_fen
            ),
            Line(account_get(kind=AccountKind.BANK_CLEARING), amount_fen),
        ],
        memo=f"refund {order.number}",
    )
    return refund


def _refuse_while_disputed(order: Order) -> None:
    if order.is_disputed:
        raise Conflict(
            _("a dispute is open on this order; refunds go through the dispute's resolution"),
            code="disputed",
        )


@transaction.atomic
def order_refund(
    *, actor: User, order: Order, amount_fen: int | None = None, reason: str
) -> Refund:
    """Refund part or all (default: all that is left) of the escrow, before clearing.

    By an operator, or by the seller giving its own money back. Invariant:
    refunds never exceed the amount paid; a full refund ends in 'refunded'.
    The row lock makes a refund and a clearing of the same order exclusive:
    clearing moves only orders still 'accepted' (a conditional UPDATE), and a
    refund refuses an order that is already cleared.
    """
    order = lock_one(Order, order.pk)
    _require_side(order, actor, OPERATOR, SELLER)
    _refuse_while_disputed(order)
    return _refund_locked(
        order,
        actor=actor,
        amount_fen=order.escrow_fen if amount_fen is None else amount_fen,
        reason=reason,
    )


@transaction.atomic
def order_refund_request(
    *, actor: User, order: Order, amount_fen: int | None = None, reason: str
) -> Refund:
    """The buyer asks for part or all of its money back; the seller or an operator decides."""
    order = lock_one(Order, order.pk)
    _require_side(order, actor, BUYER)
    _refuse_while_disputed(order)
    amount_fen = order.escrow_fen if amount_fen is None else amount_fen
    _check_refundable(order, amount_fen)
    refund = _refund_open(order, actor=actor, amount_fen=amount_fen, reason=reason)
    _record(order, actor=actor, reason=f"refund of {fen_to_yuan(amount_fen)} asked: {reason}")
    return refund


def _lock_request(refund: Refund) -> tuple[Order, Refund]:
    # Order first, then refund: the same order as every other path that
    # touches both, so two deciders never deadlock.
    order = lock_one(Order, refund.order_id)
    refund = lock_one(Refund, refund.pk)
    if refund.status != RefundStatus.REQUESTED:
        raise Conflict(
            _("this refund request is already %(status)s") % {"status": refund.status},
            code="decided",
        )
    return order, refund


@transaction.atomic
def refund_request_approve(*, actor: User, refund: Refund, reason: str = "") -> Refund:
    """The seller or an operator grants a buyer's refund request."""
    order, refund = _lock_request(refund)
    _require_side(order, actor, OPERATOR, SELLER)
    _refuse_while_disputed(order)
    return _refund_locked(
        order,
        actor=actor,
        amount_fen=refund.amount_fen,
        reason=reason or refund.reason,
        refund=refund,
    )


@transaction.atomic
def refund_request_decline(*, actor: User, refund: Refund, reason: str) -> Refund:
    """The seller or an operator declines a refund request; the buyer may then dispute."""
    order, refund = _lock_request(refund)
    _require_side(order, actor, OPERATOR, SELLER)
    _refund_move(
        refund,
        to=RefundStatus.DECLINED,
        actor=actor,
        reason=reason,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    _record(order, actor=actor, reason=f"refund request declined: {reason}")
    return refund
