"""The exchange's API gateway: buyers call a product's upstream through the exchange.

The seller registers the upstream (base URL, the header and secret the upstream
expects; the secret sealed under the master key). A buyer with a paid
subscription, or using a metered plan, gets an API key: shown once, stored as
its SHA-256, revocable, expiring with the period (the subscription's end, or
the end of the month for metered plans). `/gateway/<registration number>/<path>`
forwards each call and counts it once per call id (the `X-Call-Id` header a
client repeats when it retries). The counts are the exchange's own measure:
metered bills are built from them (`gateway_usage_book`).
"""

import datetime as dt
import hashlib
import ipaddress
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation, Conflict
from core.filters import local_day_start
from core.scoping import is_operator, merchant_id_of
from core.sql import aware_utc, quoted_table
from delivery.crypto import open_text, seal_text
from delivery.models import ApiKey, GatewayCall, GatewayUsage, Upstream
from marketplace.choices import OrderStatus, UsageSource
from marketplace.models import Order, UsageRecord
from marketplace.services.usage import month_start, next_month, usage_right_in_force
from products.choices import DeliveryMode, PlanKind, ProductStatus
from products.models import PricingPlan, Product

KEY_PREFIX = "dxk_"
KEY_HEADER = "X-Api-Key"
CALL_ID_HEADER = "X-Call-Id"
MAX_CALL_ID = 64
MAX_PATH = 1000
MAX_REDIRECTS = 3
# Orders under which a subscription's calls are served.
IN_FORCE_STATUSES = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.DELIVERED,
        OrderStatus.ACCEPTED,
        OrderStatus.CLEARED,
        OrderStatus.SETTLED,
    }
)
# Request headers passed to the upstream; everything else (cookies, the buyer's
# key, the exchange's own auth) stays at the gateway.
FORWARDED_REQUEST_HEADERS = ("accept", "accept-language", "content-type", "user-agent")
FORWARDED_RESPONSE_HEADERS = ("content-type", "content-language", "etag", "last-modified")
LOOPBACK_NAMES = frozenset({"localhost"})


class GatewayRefusal(Exception):
    """A call the gateway does not forward: HTTP `status`, a code and a sentence."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None):
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        super().__init__(message)


# --- the upstream ----------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def upstream_url_check(url: str) -> str:
    """The base URL cleaned, or BusinessRuleViolation: https, a host, no credentials or query.

    Plain http is accepted only for a loopback host, and only where
    EXCHANGE_GATEWAY_ALLOW_LOOPBACK is on (tests, development); production
    refuses loopback hosts altogether.
    """
    url = (url or "").strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allow_loopback = settings.EXCHANGE_GATEWAY_ALLOW_LOOPBACK
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        raise BusinessRuleViolation(
            _("Give the upstream as https://host/path, without credentials or a query."),
            field="base_url",
        )
    if _is_loopback(host) and not allow_loopback:
        raise BusinessRuleViolation(
            _("The upstream must be reachable on the internet, not this machine."),
            field="base_url",
            code="loopback",
        )
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        raise BusinessRuleViolation(
            _("The upstream must be served over https."), field="base_url", code="https_required"
        )
    return url.rstrip("/")


def _check_header_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100 or not all(c.isalnum() or c in "-_" for c in name):
        raise BusinessRuleViolation(
            _("Give a header name of letters, digits, '-' and '_'."), field="header_name"
        )
    if name.lower() in {"host", "content-length", "transfer-encoding", "connection", "cookie"}:
        raise BusinessRuleViolation(_("This header is the gateway's own."), field="header_name")
    return name


@transaction.atomic
def upstream_register(
    *, actor: User, product: Product, base_url: str, header_name: str, secret: str
) -> Upstream:
    """Register (or replace) the upstream of the seller's API product; the secret is sealed."""
    if is_operator(actor) or merchant_id_of(actor) != product.provider_id:
        raise PermissionDenied(_("Only the seller's people register the upstream of its products."))
    if product.delivery_mode != DeliveryMode.API:
        raise BusinessRuleViolation(
            _("Only products delivered as an API go through the gateway."),
            field="product",
            code="not_an_api_product",
        )
    url = upstream_url_check(base_url)
    header = _check_header_name(header_name)
    if not secret or len(secret) > 4000 or any(ord(c) < 32 for c in secret):
        raise BusinessRuleViolation(
            _("Give the secret the upstream expects (printable, up to 4000 characters)."),
            field="secret",
        )
    upstream, _created = Upstream.objects.update_or_create(
        product=product,
        defaults={
            "base_url": url,
            "header_name": header,
            "secret_sealed": seal_text(secret, context=f"upstream:{product.pk}"),
            "registered_by": actor,
        },
    )
    return upstream


def upstream_secret(upstream: Upstream) -> str:
    return open_text(upstream.secret_sealed, context=f"upstream:{upstream.product_id}")


# --- API keys --------------------------------------------------------------------------------


def _key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _end_of_day(day: dt.date) -> dt.datetime:
    return local_day_start(day + dt.timedelta(days=1))


@transaction.atomic
def api_key_issue(
    *, actor: User, order: Order | None = None, plan: PricingPlan | None = None
) -> tuple[ApiKey, str]:
    """A key for the buyer's person `actor`; returns (key, the key in clear, shown once).

    A subscription key comes from a paid subscription order and expires with its
    period. A metered key names a metered plan and expires at the end of the
    month; the month's calls are billed from the gateway's counts.
    """
    merchant_id = merchant_id_of(actor)
    if is_operator(actor) or merchant_id is None:
        raise PermissionDenied(_("API keys are issued to the buyer's people."))
    now = timezone.now()
    if order is not None:
        order = Order.objects.select_related("plan", "product").get(pk=order.pk)
        if order.buyer_id != merchant_id:
            raise PermissionDenied(_("API keys are issued to the buyer's people."))
        if order.plan.kind != PlanKind.SUBSCRIPTION or order.period_end is None:
            raise BusinessRuleViolation(
                _("Keys come from subscription orders; name a metered plan instead."),
                field="order",
            )
        if order.status not in IN_FORCE_STATUSES or order.refunded_fen:
            raise Conflict(
                _("The order is %(status)s, not in force.")
                % {"status": order.get_status_display()},
                code="not_in_force",
            )
        plan, product, expires_at = order.plan, order.product, _end_of_day(order.period_end)
    elif plan is not None:
        plan = PricingPlan.objects.select_related("product").get(pk=plan.pk)
        product = plan.product
        if plan.kind != PlanKind.METERED:
            raise BusinessRuleViolation(
                _("Name a metered plan, or the subscription order."), field="plan"
            )
        if product.provider_id == merchant_id:
            raise BusinessRuleViolation(_("A merchant does not buy its own product."), field="plan")
        if not plan.is_active or product.status != ProductStatus.LISTED:
            raise BusinessRuleViolation(_("This plan is not on sale."), field="plan")
        buyer = Merchant.objects.get(pk=merchant_id)
        if not usage_right_in_force(buyer=buyer, plan=plan, day=timezone.localdate()):
            raise Conflict(
                _("You hold no paid order of this product in force."), code="not_in_force"
            )
        expires_at = local_day_start(next_month(month_start(timezone.localdate())))
    else:
        raise BusinessRuleViolation(_("Name the subscription order or the metered plan."))
    if (
        product.delivery_mode != DeliveryMode.API
        or not Upstream.objects.filter(product=product).exists()
    ):
        raise Conflict(
            _("This product is not served through the exchange's gateway."), code="no_gateway"
        )
    if expires_at <= now:
        raise Conflict(_("The period has ended."), code="not_in_force")
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        buyer_id=merchant_id,
        product=product,
        plan=plan,
        order=order,
        prefix=raw[: len(KEY_PREFIX) + 6],
        key_sha256=_key_hash(raw),
        issued_to=actor,
        expires_at=expires_at,
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, actor: User, key: ApiKey, reason: str = "") -> ApiKey:
    """Revoke a key, by the buyer's people or an operator; calls with it are refused at once."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if not is_operator(actor) and merchant_id_of(actor) != key.buyer_id:
        raise PermissionDenied(_("Keys are revoked by the buyer's people or an operator."))
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.revoke_reason = reason
        key.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return key


# --- per-key rate limit ----------------------------------------------------------------------


class _LocalWindows:
    """Per-second counters in this process, for machines without Redis."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[tuple[int, int], int] = {}

    def hit(self, key_id: int, second: int) -> int:
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= second}
            count = self._counts.get((key_id, second), 0) + 1
            self._counts[(key_id, second)] = count
            return count


_local = _LocalWindows()
_redis_client = None


def _redis():
    global _redis_client
    url = settings.EXCHANGE_GATEWAY_REDIS_URL
    if not url:
        return None
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(url, socket_timeout=0.5)
    return _redis_client


def rate_limit_hit(key_id: int) -> None:
    """Count a call in the key's current second; GatewayRefusal(429) beyond the limit.

    Redis holds the counters when configured, so every gateway process shares them.
    """
    limit = settings.EXCHANGE_GATEWAY_RATE_PER_SECOND
    second = int(time.time())
    client = _redis()
    if client is not None:
        name = f"gateway:rate:{key_id}:{second}"
        pipe = client.pipeline()
        pipe.incr(name)
        pipe.expire(name, 2)
        count = int(pipe.execute()[0])
    else:
        count = _local.hit(key_id, second)
    if count > limit:
        raise GatewayRefusal(
            429,
            "rate_limited",
            _("More than %(limit)s calls per second with this key.") % {"limit": limit},
            retry_after=1,
        )


# --- forwarding ------------------------------------------------------------------------------


@dataclass
class GatewayAnswer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


_client_lock = threading.Lock()
_client: httpx.Client | None = None


def http_client() -> httpx.Client:
    """One pooled client per process; redirects are followed by hand (same host only)."""
    global _client
    with _client_lock:
        if _client is None:
            timeout = settings.EXCHANGE_GATEWAY_TIMEOUT_SECONDS
            _client = httpx.Client(
                follow_redirects=False,
                timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                trust_env=False,
            )
        return _client


@dataclass(frozen=True)
class KeyInForce:
    """What one call needs of its key, read in one query (the gateway's hot path)."""

    key_id: int
    buyer_id: int
    seller_id: int
    product_id: int
    plan_id: int
    order_id: int | None
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    registration_number: str
    product_status: str
    plan_kind: str
    plan_active: bool
    included_calls: int
    monthly_cap_fen: int | None
    unit_price_fen: int
    order_status: str | None
    order_refunded_fen: int | None
    order_period_start: dt.date | None
    base_url: str
    header_name: str
    secret_sealed: str


def _key_lookup_sql() -> str:
    return f"""
        SELECT k.id, k.buyer_id, p.provider_id, k.product_id, k.plan_id, k.order_id,
               k.expires_at, k.revoked_at, p.registration_number, p.status, pl.kind,
               pl.is_active, pl.included_calls, pl.monthly_cap_fen, pl.unit_price_fen,
               o.status, o.refunded_fen, o.period_start,
               u.base_url, u.header_name, u.secret_sealed
        FROM {quoted_table(ApiKey)} k
        JOIN {quoted_table(Product)} p ON p.id = k.product_id
        JOIN {quoted_table(PricingPlan)} pl ON pl.id = k.plan_id
        JOIN {quoted_table(Upstream)} u ON u.product_id = k.product_id
        LEFT JOIN {quoted_table(Order)} o ON o.id = k.order_id
        WHERE k.key_sha256 = %s
    """  # noqa: S608


def _key_for(raw: str) -> KeyInForce:
    if not raw:
        raise GatewayRefusal(401, "key_missing", _("Send your API key in X-Api-Key."))
    with connection.cursor() as cursor:
        cursor.execute(_key_lookup_sql(), [_key_hash(raw)])
        row = cursor.fetchone()
    if row is None:
        raise GatewayRefusal(401, "key_unknown", _("This API key is not valid."))
    key = KeyInForce(*row)
    if key.revoked_at is not None:
        raise GatewayRefusal(403, "key_revoked", _("This API key has been revoked."))
    if aware_utc(key.expires_at) <= timezone.now():
        raise GatewayRefusal(403, "key_expired", _("This API key has expired."))
    return key


def _check_in_force(key: KeyInForce, registration_number: str) -> None:
    if key.registration_number != registration_number:
        raise GatewayRefusal(403, "wrong_product", _("This API key is for another product."))
    if key.product_status != ProductStatus.LISTED:
        raise GatewayRefusal(403, "not_in_force", _("The product is not on the exchange now."))
    today = timezone.localdate()
    if key.order_id is not None:
        start = key.order_period_start
        if isinstance(start, str):  # SQLite
            start = dt.date.fromisoformat(start)
        in_period = start is not None and start <= today
        if key.order_status not in IN_FORCE_STATUSES or key.order_refunded_fen or not in_period:
            raise GatewayRefusal(403, "not_in_force", _("The order is not in force."))
    elif not key.plan_active or not _metered_right(key, today):
        raise GatewayRefusal(403, "not_in_force", _("No order of this product is in force."))


def _metered_right(key: KeyInForce, day: dt.date) -> bool:
    """The buyer of a metered key holds an order of the product in force on `day`."""
    covering = Q(period_start__isnull=True) | Q(period_start__lte=day, period_end__gte=day)
    return (
        Order.objects.filter(
            seller_id=key.seller_id,
            buyer_id=key.buyer_id,
            product_id=key.product_id,
            status__in=IN_FORCE_STATUSES,
            billed_month__isnull=True,
        )
        .filter(covering)
        .exists()
    )


def _month_limit(key: KeyInForce) -> int | None:
    """Calls allowed in a month: metered plans stop where the month's bill reaches the cap."""
    if key.plan_kind != PlanKind.METERED or key.monthly_cap_fen is None:
        return None
    if not key.unit_price_fen:
        return None
    return key.included_calls + key.monthly_cap_fen // key.unit_price_fen


def _seconds_to_next_month() -> int:
    start = local_day_start(next_month(month_start(timezone.localdate())))
    return max(1, int((start - timezone.now()).total_seconds()))


@dataclass
class CallRow:
    pk: int
    call_id: str
    month: dt.date
    counted: bool  # counted by this attempt


def _count_call(key: KeyInForce, call_id: str, method: str, path: str) -> CallRow:
    """Record the attempt and count the call once, in one transaction.

    A new call id inserts the call row already counted; a known one adds an
    attempt and counts only if no earlier attempt did (a conditional UPDATE).
    The month's counter goes up by one unless the plan's monthly limit is
    reached (a conditional upsert); then nothing of this attempt is kept and
    the call is refused with 429.
    """
    month = month_start(timezone.localdate())
    calls, usage = quoted_table(GatewayCall), quoted_table(GatewayUsage)
    limit = _month_limit(key)
    # The count is what the buyer is billed for, so it commits durably (waits for
    # the disk) before the call is forwarded: a crash forgets no counted call.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {calls} (api_key_id, call_id, buyer_id, plan_id, month, method,
                    path, attempts, is_counted, created_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, 1, %s, %s)
                ON CONFLICT (api_key_id, call_id) DO NOTHING RETURNING id""",  # noqa: S608
            [key.key_id, call_id, key.buyer_id, key.plan_id, month, method,
             path[:MAX_PATH], True, timezone.now()],
        )  # fmt: skip
        inserted = cursor.fetchone()
        if inserted is not None:
            pk, counted = inserted[0], True
        else:
            cursor.execute(
                f"SELECT id, is_counted FROM {calls} WHERE api_key_id = %s AND call_id = %s",  # noqa: S608
                [key.key_id, call_id],
            )
            pk, was_counted = cursor.fetchone()
            cursor.execute(
                f"UPDATE {calls} SET attempts = attempts + 1, is_counted = %s WHERE id = %s",  # noqa: S608
                [True, pk],
            )
            counted = not was_counted
        if counted:
            cap = "" if limit is None else f" WHERE {usage}.calls < %s"
            cursor.execute(
                f"""INSERT INTO {usage} (buyer_id, plan_id, month, calls) VALUES (%s, %s, %s, 1)
                    ON CONFLICT (buyer_id, plan_id, month)
                    DO UPDATE SET calls = {usage}.calls + 1{cap} RETURNING calls""",  # noqa: S608
                [key.buyer_id, key.plan_id, month, *([] if limit is None else [limit])],
            )
            if cursor.fetchone() is None or (limit is not None and limit < 1):
                transaction.set_rollback(True)
                raise GatewayRefusal(
                    429,
                    "monthly_cap",
                    _("This month's calls have reached the plan's monthly cap."),
                    retry_after=_seconds_to_next_month(),
                )
    return CallRow(pk=pk, call_id=call_id, month=month, counted=counted)


def _release(key: KeyInForce, call: CallRow) -> None:
    """The upstream failed: the call is not counted, so its retry may count."""
    with transaction.atomic():
        if GatewayCall.objects.filter(pk=call.pk, is_counted=True).update(is_counted=False):
            GatewayUsage.objects.filter(
                buyer_id=key.buyer_id, plan_id=key.plan_id, month=call.month
            ).update(calls=F("calls") - 1)


def _call_finish(call: CallRow, *, status: int, started: float, size: int) -> None:
    # The answer's status and timing are diagnostics, not the count (committed
    # durably before forwarding): this commit need not wait for the disk.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"UPDATE {quoted_table(GatewayCall)} SET status_code = %s, duration_ms = %s, "  # noqa: S608
            "response_bytes = %s WHERE id = %s",
            [status, int((time.monotonic() - started) * 1000), size, call.pk],
        )


def _forward(
    base_url: str, *, method: str, path: str, query: str, headers: dict, body: bytes
) -> GatewayAnswer:
    client = http_client()
    cap = settings.EXCHANGE_GATEWAY_MAX_RESPONSE_BYTES
    base = urlsplit(base_url)
    url = f"{base_url}/{path.lstrip('/')}" + (f"?{query}" if query else "")
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            with client.stream(method, url, headers=headers, content=body) as answer:
                if answer.is_redirect:
                    target = answer.next_request.url if answer.next_request else None
                    if target is None or (target.scheme, target.netloc.decode()) != (
                        base.scheme,
                        base.netloc,
                    ):
                        raise GatewayRefusal(
                            502,
                            "upstream_redirect",
                            _("The upstream redirected to another host; not followed."),
                        )
                    url = str(target)
                    continue
                declared = answer.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > cap:
                    raise GatewayRefusal(
                        502, "upstream_too_large", _("The upstream's answer is too large.")
                    )
                received = bytearray()
                for piece in answer.iter_bytes():
                    received += piece
                    if len(received) > cap:
                        raise GatewayRefusal(
                            502, "upstream_too_large", _("The upstream's answer is too large.")
                        )
                kept = {
                    name: answer.headers[name]
                    for name in FORWARDED_RESPONSE_HEADERS
                    if name in answer.headers
                }
                return GatewayAnswer(answer.status_code, bytes(received), kept)
        except httpx.TimeoutException as exc:
            raise GatewayRefusal(
                504, "upstream_timeout", _("The upstream did not answer in time.")
            ) from exc
        except httpx.HTTPError as exc:
            raise GatewayRefusal(
                502, "upstream_unreachable", _("The upstream could not be reached.")
            ) from exc
    raise GatewayRefusal(502, "upstream_redirect", _("The upstream redirected too many times."))


def gateway_call(
    *,
    registration_number: str,
    path: str,
    method: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> GatewayAnswer:
    """Forward one buyer call to the product's upstream, counted once per call id.

    Order of checks: the key (401/403), the order in force (403), the per-key
    rate limit (429), the month's cap (429, counted only for a new call id).
    A call is counted when the upstream answers below 500; a 5xx, a timeout or
    an unreachable upstream releases the count so the client's retry counts.
    """
    key = _key_for(headers.get(KEY_HEADER, "") or "")
    _check_in_force(key, registration_number)
    rate_limit_hit(key.key_id)
    call_id = (headers.get(CALL_ID_HEADER) or "").strip()
    if len(call_id) > MAX_CALL_ID or any(not (32 < ord(c) < 127) for c in call_id):
        raise GatewayRefusal(
            400, "invalid", _("X-Call-Id is at most 64 printable ASCII characters.")
        )
    call = _count_call(key, call_id or secrets.token_hex(16), method, path)
    sent_headers = {name: headers[name] for name in FORWARDED_REQUEST_HEADERS if headers.get(name)}
    sent_headers[key.header_name] = open_text(
        key.secret_sealed, context=f"upstream:{key.product_id}"
    )
    sent_headers[CALL_ID_HEADER] = call.call_id
    started = time.monotonic()
    try:
        answer = _forward(
            key.base_url, method=method, path=path, query=query, headers=sent_headers, body=body
        )
    except GatewayRefusal as refusal:
        if call.counted:
            _release(key, call)
        _call_finish(call, status=refusal.status, started=started, size=0)
        raise
    if answer.status >= 500 and call.counted:
        _release(key, call)
    _call_finish(call, status=answer.status, started=started, size=len(answer.body))
    answer.headers[CALL_ID_HEADER] = call.call_id
    return answer


# --- billing from the gateway's counts -------------------------------------------------------


def gateway_usage_book(*, month: dt.date) -> int:
    """Turn the month's gateway counts into usage records measured by the exchange.

    One record per (plan, buyer, month), id `gateway:<plan>:<buyer>:<yyyy-mm>`,
    with source `gateway`, so the monthly bill (usage_bill_month) charges what
    the gateway counted. Idempotent: a re-run finds the record and leaves it.
    Returns how many records were made.
    """
    month = month_start(month)
    made = 0
    rows = (
        GatewayUsage.objects.filter(month=month, calls__gt=0, plan__kind=PlanKind.METERED)
        .select_related("plan__product")
        .order_by("pk")
    )
    for usage in rows:
        record_id = f"gateway:{usage.plan_id}:{usage.buyer_id}:{month:%Y-%m}"
        _record, created = UsageRecord.objects.get_or_create(
            seller_id=usage.plan.product.provider_id,
            record_id=record_id,
            defaults={
                "buyer_id": usage.buyer_id,
                "plan_id": usage.plan_id,
                "calls": usage.calls,
                "used_at": local_day_start(month),
                "source": UsageSource.GATEWAY,
            },
        )
        made += created
    return made


def gateway_serves(product: Product) -> bool:
    """True when the product's calls go through the exchange's gateway."""
    return Upstream.objects.filter(product=product).exists()
