"""Idempotency keys for order creation (the Idempotency-Key header).

A retried request with the same key and the same body gets the first
answer again, status and body; the same key with another body is refused.
The unique (merchant, key) constraint decides between two concurrent
requests: the key is written with the answer, at the end of the order's
transaction, so the second waits for the first to commit, is undone, and
replays the first's answer.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Merchant
from core.exceptions import BusinessRuleViolation, Conflict
from marketplace.models import Order, OrderIdempotencyKey

# Keys are kept at least this long; the daily purge deletes older ones.
IDEMPOTENCY_KEY_TTL = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 100


def _request_fingerprint(data) -> str:
    """sha256 of the body's canonical JSON: key order and whitespace do not matter."""
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(row: OrderIdempotencyKey, fingerprint: str) -> tuple[int, dict]:
    if row.request_hash != fingerprint:
        raise Conflict(
            _(
                "this Idempotency-Key was already used with a different "
                "request body; use a new key for a new order"
            ),
            code="idempotency_key_reused",
            extra={"field": "Idempotency-Key"},
        )
    if row.response_status is None or row.response_body is None:
        # The key's row and its response commit together, so a committed key
        # without a response would mean the table was edited by hand.
        raise Conflict(
            _("this Idempotency-Key has no stored response; use a new key"),
            code="idempotency_key_incomplete",
            extra={"field": "Idempotency-Key"},
        )
    return row.response_status, row.response_body


def idempotent_order_create(
    *,
    merchant: Merchant,
    key: str,
    body,
    create: Callable[[], tuple[int, dict, Order]],
) -> tuple[int, dict]:
    """Run `create` once per (merchant, key); return (status, body), replayed on retries.

    A request that fails (4xx) stores nothing, so it may be retried with the
    same key once corrected.
    """
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BusinessRuleViolation(
            _("send an Idempotency-Key header of 1 to %(max_key_length)s printable characters")
            % {"max_key_length": MAX_KEY_LENGTH},
            field="Idempotency-Key",
            code="required",
        )
    fingerprint = _request_fingerprint(body)
    existing = _committed(merchant, key)
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            status, response, order = create()
            # The key is written last, with its answer, in the order's
            # transaction. A request with the same key that got here first
            # makes this insert wait for it and then fail, which undoes this
            # order too; that request's answer is then replayed.
            OrderIdempotencyKey.objects.create(
                merchant=merchant,
                key=key,
                request_hash=fingerprint,
                response_status=status,
                response_body=response,
                order=order,
            )
            return status, response
    except Exception:
        # The same key's first request may have committed while this one ran:
        # this one's key then failed to insert (IntegrityError), or it was
        # refused for what the first did (a metered plan it now holds). Either
        # way the retry gets the first answer, as it would have had it waited.
        committed = _committed(merchant, key)
        if committed is None:
            raise
        return _replay(committed, fingerprint)


def _committed(merchant: Merchant, key: str) -> OrderIdempotencyKey | None:
    return OrderIdempotencyKey.objects.filter(merchant=merchant, key=key).first()


def idempotency_keys_purge(*, now: dt.datetime | None = None) -> int:
    """Delete keys older than IDEMPOTENCY_KEY_TTL; returns how many went."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_TTL
    deleted, _ = OrderIdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
