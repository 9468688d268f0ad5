"""The payment channel's notifications: verify, then move the money into escrow.

The channel signs the raw request body with HMAC-SHA256 and the shared secret
(settings.EXCHANGE_PAYMENT_WEBHOOK_SECRET) and sends the hex digest in the
X-Payment-Signature header. The body carries a Unix `timestamp` and a
`nonce`, so the signature covers them: a captured notification cannot be
re-sent with a fresh timestamp, and a replay within the window is refused by
the nonce's unique constraint.
"""

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict
from core.input import json_loads_checked
from core.money import MoneyError, fen_to_yuan, yuan_to_fen
from core.transitions import lock_one, transition
from marketplace.choices import ORDER_TRANSITIONS, OrderStatus, PaymentOutcome
from marketplace.models import Order, PaymentNotification

# A notification more than this far from our clock is refused.
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
SIGNATURE_HEADER = "X-Payment-Signature"


class SignatureInvalid(Exception):
    """The notification is not from the channel (HTTP 403)."""


@dataclass(frozen=True)
class PaymentNotice:
    order_number: str
    amount_fen: int
    channel_reference: str
    nonce: str
    sent_at: dt.datetime


def payment_signature(body: bytes, secret: str | None = None) -> str:
    """Hex HMAC-SHA256 of the raw body: what the channel puts in X-Payment-Signature."""
    key = (secret or settings.EXCHANGE_PAYMENT_WEBHOOK_SECRET).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _text(data: dict, field: str, max_length: int) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise BusinessRuleViolation(_("required, a non-empty string"), field=field)
    if len(value) > max_length:
        raise BusinessRuleViolation(
            _("at most %(max_length)s characters") % {"max_length": max_length}, field=field
        )
    return value.strip()


def payment_notice_parse(
    *, body: bytes, signature: str, now: dt.datetime | None = None
) -> PaymentNotice:
    """Check the signature first (nothing else is read from an unsigned body), then the fields."""
    expected = payment_signature(body)
    if not hmac.compare_digest(expected, (signature or "").strip().lower()):
        raise SignatureInvalid("the signature does not match the body")
    # Depth and NUL characters are checked as for every other JSON body.
    data = json_loads_checked(body)
    if not isinstance(data, dict):
        raise BusinessRuleViolation(_("the body is a JSON object"), code="parse_error")
    timestamp = data.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise BusinessRuleViolation(_("Unix seconds, an integer"), field="timestamp")
    now = now or timezone.now()
    try:
        sent_at = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BusinessRuleViolation(_("not a valid time"), field="timestamp") from exc
    if abs(now - sent_at) > MAX_CLOCK_SKEW:
        raise BusinessRuleViolation(
            _("more than 5 minutes away from the exchange's clock"), field="timestamp", code="stale"
        )
    amount = data.get("amount")
    if not isinstance(amount, str):
        raise BusinessRuleViolation(_('yuan as a decimal string, such as "12.34"'), field="amount")
    try:
        amount_fen = yuan_to_fen(amount)
    except MoneyError as exc:
        raise BusinessRuleViolation(str(exc), field="amount") from exc
    return PaymentNotice(
        order_number=_text(data, "order_number", 32),
        amount_fen=amount_fen,
        channel_reference=_text(data, "channel_reference", 64),
        nonce=_text(data, "nonce", 64),
        sent_at=sent_at,
    )


def order_pay(*, notice: PaymentNotice) -> tuple[Order, str]:
    """pending_payment -> paid on the channel's word; the amount goes into the buyer's escrow.

    Invariants: each nonce is used once; the amount paid equals the order's
    amount; one order is paid once (the row lock makes two notifications, or
    a notification and a cancel, take effect one after the other, and the
    second sees the first's result). A notification for an order already paid
    changes nothing and answers 200.
    """
    from settlements.choices import AccountKind, EntryPurpose
    from settlements.services.ledger import Line, account_get, journal_post

    if PaymentNotification.objects.filter(nonce=notice.nonce).exists():
        raise Conflict(_("this nonce was already used: a replayed notification"), code="replay")
    pk = Order.objects.filter(number=notice.order_number).values_list("pk", flat=True).first()
    if pk is None:
        raise BusinessRuleViolation(_("no such order"), field="order_number", code="not_found")
    with transaction.atomic():
        order = lock_one(Order, pk)
        if order.status == OrderStatus.PENDING_PAYMENT:
            if notice.amount_fen != order.amount_fen:
                raise BusinessRuleViolation(
                    _("the order's amount is %(amount)s, not %(amount2)s")
                    % {
                        "amount": fen_to_yuan(order.amount_fen),
                        "amount2": fen_to_yuan(notice.amount_fen),
                    },
                    field="amount",
                    code="mismatch",
                )
            outcome = PaymentOutcome.PAID
        elif order.paid_at is not None:
            outcome = PaymentOutcome.DUPLICATE
        else:
            # Cancelled before the money arrived: the channel must send it back.
            raise Conflict(
                _("the order is %(status)s and takes no payment") % {"status": order.status},
                code="not_payable",
            )
        try:
            with transaction.atomic():
                PaymentNotification.objects.create(
                    nonce=notice.nonce,
                    order=order,
                    channel_reference=notice.channel_reference,
                    amount_fen=notice.amount_fen,
                    sent_at=notice.sent_at,
                    outcome=outcome,
                )
        except IntegrityError as exc:
            raise Conflict(
                _("this nonce was already used: a replayed notification"), code="replay"
            ) from exc
        if outcome == PaymentOutcome.DUPLICATE:
            return order, outcome
        transition(
            order,
            to=OrderStatus.PAID,
            actor=None,
            reason=f"paid through the channel, reference {notice.channel_reference}",
            transitions=ORDER_TRANSITIONS,
            changes={"paid_at": timezone.now()},
        )
        journal_post(
            idempotency_key=f"payment:order:{order.pk}",
            purpose=EntryPurpose.PAYMENT,
            order_id=order.pk,
            lines=[
                Line(account_get(kind=AccountKind.BANK_CLEARING), -order.amount_fen),
                Line(
                    account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=order.buyer_id),
                    order.amount_fen,
                ),
            ],
            memo=f"payment {order.number} ref {notice.channel_reference}",
        )
    return order, outcome


def payment_notification_receive(*, body: bytes, signature: str) -> tuple[Order, str]:
    """The one path a notification from the payment channel takes: verify, read, pay.

    SignatureInvalid when the body is not the channel's; the rest as `order_pay`.
    """
    notice = payment_notice_parse(body=body, signature=signature)
    return order_pay(notice=notice)


def payment_demo_simulate(*, actor: User, order: Order) -> tuple[Order, str]:
    """For the local demo only: play the channel paying `order` in full.

    Signs a notification with the webhook secret, as the channel would, and
    sends it down `payment_notification_receive`, so the demo pays exactly as
    production does. Refused unless settings.EXCHANGE_DEMO_PAYMENTS is on
    (never in production) and the actor is one of the buyer's people.
    """
    if not settings.EXCHANGE_DEMO_PAYMENTS:
        raise PermissionDenied(_("simulated payments are for the local demo only"))
    if getattr(actor, "merchant_id", None) != order.buyer_id:
        raise PermissionDenied(_("only the buyer may pay for this order"))
    body = json.dumps(
        {
            "order_number": order.number,
            "amount": fen_to_yuan(order.amount_fen),
            "channel_reference": f"DEMO{secrets.token_hex(6).upper()}",
            "timestamp": int(timezone.now().timestamp()),
            "nonce": secrets.token_hex(16),
        }
    ).encode()
    return payment_notification_receive(body=body, signature=payment_signature(body))
