"""The gateway, in front of a loopback upstream this module starts on 127.0.0.1:9621."""

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exceptions import BusinessRuleViolation
from delivery.models import ApiKey, GatewayCall, GatewayUsage, Upstream
from delivery.services import gateway
from marketplace.choices import UsageSource
from marketplace.models import UsageRecord
from marketplace.services import refunds
from marketplace.services.usage import month_start, usage_bill, usage_record_submit
from tests.factories.accounts import MerchantFactory, OperatorFactory
from tests.factories.marketplace import listed_product, pay, person_of, place
from tests.factories.products import PlanFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PORT = 9621
SECRET = "upstream-secret-7f3a"


class Upstream_(BaseHTTPRequestHandler):
    """A tiny upstream: echoes what it got, with a few misbehaving paths."""

    failures: dict[str, int] = {}

    def log_message(self, *args):
        pass

    def _answer(self, code: int, body: bytes, **headers):
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.headers.get("X-Upstream-Key") != SECRET:
            return self._answer(401, b"no secret")
        if self.path.startswith("/v1/away"):
            return self._answer(302, b"", Location="http://198.51.100.7/elsewhere")
        if self.path.startswith("/v1/hop"):
            return self._answer(302, b"", Location=f"http://127.0.0.1:{PORT}/v1/echo?hopped=1")
        if self.path.startswith("/v1/big"):
            return self._answer(200, b"x" * 300_000, **{"Content-Type": "text/plain"})
        if self.path.startswith("/v1/flaky"):
            call_id = self.headers.get("X-Call-Id", "")
            seen = Upstream_.failures.get(call_id, 0)
            Upstream_.failures[call_id] = seen + 1
            if seen == 0:
                return self._answer(503, b"busy")
        body = json.dumps(
            {"path": self.path, "call_id": self.headers.get("X-Call-Id"),
             "api_key": self.headers.get("X-Api-Key")}
        ).encode()  # fmt: skip
        return self._answer(200, body, **{"Content-Type": "application/json"})

    do_POST = do_GET


@pytest.fixture(scope="module")
def upstream_server():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Upstream_)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORT}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def gateway_settings(settings):
    settings.EXCHANGE_GATEWAY_ALLOW_LOOPBACK = True
    settings.EXCHANGE_GATEWAY_RATE_PER_SECOND = 1000
    settings.EXCHANGE_GATEWAY_MAX_RESPONSE_BYTES = 200_000


def api_product(base_url):
    product = listed_product(delivery_mode="api")
    gateway.upstream_register(
        actor=person_of(product.provider),
        product=product,
        base_url=base_url,
        header_name="X-Upstream-Key",
        secret=SECRET,
    )
    return product


@pytest.fixture
def subscription_key(upstream_server):
    product = api_product(upstream_server)
    plan = PlanFactory(product=product, kind="subscription", period="month", price_fen=500_00)
    order = pay(place(plan=plan))
    key, raw = gateway.api_key_issue(actor=person_of(order.buyer), order=order)
    return key, raw


def with_free_order(product):
    """A buyer holding a free order of the product: the right a metered plan's calls need."""
    buyer = MerchantFactory()
    place(buyer, PlanFactory(product=product, kind="free", price_fen=0, name="Free"))
    return buyer


def call(client, key: ApiKey, raw: str, path="echo", call_id=None, **extra):
    url = f"/gateway/{key.product.registration_number}/{path}"
    headers = {"HTTP_X_API_KEY": raw, **extra}
    if call_id:
        headers["HTTP_X_CALL_ID"] = call_id
    return client.get(url, **headers)


def test_the_upstream_secret_is_sealed_and_https_is_required(upstream_server, settings):
    # given
    product = api_product(upstream_server)
    upstream = Upstream.objects.get(product=product)

    # then the secret is not stored in clear, and only the gateway opens it
    assert SECRET not in upstream.secret_sealed
    assert gateway.upstream_secret(upstream) == SECRET
    with pytest.raises(BusinessRuleViolation):
        gateway.upstream_url_check("http://data.example.com/v1")
    settings.EXCHANGE_GATEWAY_ALLOW_LOOPBACK = False
    with pytest.raises(BusinessRuleViolation):
        gateway.upstream_url_check(upstream_server)
    assert (
        gateway.upstream_url_check("https://data.example.com/v1/") == "https://data.example.com/v1"
    )


def test_a_call_is_forwarded_with_the_upstream_secret_not_the_buyer_key(subscription_key, client):
    # given
    key, raw = subscription_key

    # when
    response = call(client, key, raw, "echo?station=57687", call_id="c-1")

    # then the upstream saw its secret and the path, not the buyer's key
    assert response.status_code == 200
    seen = response.json()
    assert seen["path"] == "/v1/echo?station=57687"
    assert seen["api_key"] is None
    assert seen["call_id"] == "c-1"
    assert response["X-Call-Id"] == "c-1"


def test_retries_with_the_same_call_id_count_once(subscription_key, client):
    # given
    key, raw = subscription_key

    # when the client sends one call three times, and another call once
    for _ in range(3):
        assert call(client, key, raw, call_id="retry-me").status_code == 200
    call(client, key, raw, call_id="other")

    # then two calls are counted
    usage = GatewayUsage.objects.get(buyer=key.buyer, plan=key.plan)
    assert usage.calls == 2
    assert GatewayCall.objects.get(call_id="retry-me").attempts == 3


def test_a_failed_upstream_answer_is_not_counted_and_its_retry_is(subscription_key, client):
    # given
    key, raw = subscription_key

    # when the upstream fails the first attempt and the client retries
    first = call(client, key, raw, "flaky", call_id="flaky-1")
    second = call(client, key, raw, "flaky", call_id="flaky-1")

    # then
    assert (first.status_code, second.status_code) == (503, 200)
    assert GatewayUsage.objects.get(buyer=key.buyer, plan=key.plan).calls == 1


def test_the_rate_limit_per_key_answers_429_with_retry_after(subscription_key, client, settings):
    # given
    key, raw = subscription_key
    settings.EXCHANGE_GATEWAY_RATE_PER_SECOND = 3
    time.sleep(1 - time.time() % 1)  # start at the beginning of a second

    # when
    codes = [call(client, key, raw) for _ in range(5)]

    # then
    assert [r.status_code for r in codes[:3]] == [200, 200, 200]
    assert codes[4].status_code == 429
    assert codes[4]["Retry-After"] == "1"
    assert codes[4].json()["error_code"] == "rate_limited"


def test_the_monthly_cap_stops_metered_calls(upstream_server, client):
    # given a metered plan: 2 calls included, 1 yuan a call, at most 3 yuan a month
    product = api_product(upstream_server)
    plan = PlanFactory(
        product=product, kind="metered", price_fen=0, unit_price_fen=100,
        included_calls=2, monthly_cap_fen=300,
    )  # fmt: skip
    buyer = with_free_order(product)
    key, raw = gateway.api_key_issue(actor=person_of(buyer), plan=plan)

    # when the buyer calls six times
    codes = [call(client, key, raw, call_id=f"m-{i}").status_code for i in range(6)]

    # then five go through (2 included + 3 paid) and the sixth waits for next month
    assert codes == [200] * 5 + [429]
    assert GatewayUsage.objects.get(buyer=buyer, plan=plan).calls == 5


def test_revoked_expired_and_foreign_keys_are_refused(subscription_key, client):
    # given
    key, raw = subscription_key

    # when the key is used for another product, then revoked
    other = listed_product(delivery_mode="api")
    wrong = client.get(f"/gateway/{other.registration_number}/echo", HTTP_X_API_KEY=raw)
    gateway.api_key_revoke(actor=OperatorFactory(), key=key, reason="leaked")
    revoked = call(client, key, raw)
    expired_key, expired_raw = gateway.api_key_issue(actor=person_of(key.buyer), order=key.order)
    ApiKey.objects.filter(pk=expired_key.pk).update(expires_at=timezone.now())
    expired = call(client, expired_key, expired_raw)
    unknown = call(client, key, "dxk_not-a-key")

    # then
    assert wrong.status_code == 403
    assert (revoked.status_code, revoked.json()["error_code"]) == (403, "key_revoked")
    assert (expired.status_code, expired.json()["error_code"]) == (403, "key_expired")
    assert unknown.status_code == 401
    assert key.expires_at.date() >= key.order.period_end


def test_a_refunded_order_is_not_in_force(subscription_key, client):
    # given
    key, raw = subscription_key
    refunds.order_refund(actor=OperatorFactory(), order=key.order, reason="no service")

    # when
    response = call(client, key, raw)

    # then
    assert (response.status_code, response.json()["error_code"]) == (403, "not_in_force")


def test_redirects_to_other_hosts_and_large_answers_are_refused(subscription_key, client):
    # given
    key, raw = subscription_key

    # when
    away = call(client, key, raw, "away")
    hop = call(client, key, raw, "hop")
    big = call(client, key, raw, "big")

    # then same-host redirects are followed, others are not; the size cap holds
    assert (away.status_code, away.json()["error_code"]) == (502, "upstream_redirect")
    assert hop.status_code == 200
    assert "hopped=1" in hop.json()["path"]
    assert (big.status_code, big.json()["error_code"]) == (502, "upstream_too_large")


def test_the_metered_bill_is_built_from_the_gateway_counts(upstream_server, client):
    # given a metered plan and seven calls through the gateway (one retried)
    product = api_product(upstream_server)
    plan = PlanFactory(
        product=product, kind="metered", price_fen=0, unit_price_fen=250, included_calls=3
    )
    buyer = with_free_order(product)
    key, raw = gateway.api_key_issue(actor=person_of(buyer), plan=plan)
    for i in range(7):
        call(client, key, raw, call_id=f"b-{i}")
    call(client, key, raw, call_id="b-0")
    month = month_start(timezone.localdate())

    # when the month is booked and billed
    booked = gateway.gateway_usage_book(month=month)
    again = gateway.gateway_usage_book(month=month)
    bill = usage_bill(plan_id=plan.pk, buyer_id=buyer.pk, month=month)

    # then the bill charges the gateway's count, labelled as measured by the exchange
    assert (booked, again) == (1, 0)
    assert bill is not None
    assert bill.contract["usage"]["calls"] == 7
    assert bill.contract["usage"]["source"] == "gateway"
    assert bill.amount_fen == (7 - 3) * 250
    assert UsageRecord.objects.get(billed_order=bill).source == "gateway"


def test_sellers_do_not_report_usage_of_gateway_products(upstream_server):
    # given
    product = api_product(upstream_server)
    plan = PlanFactory(product=product, kind="metered", price_fen=0, unit_price_fen=100)

    # then
    with pytest.raises(BusinessRuleViolation):
        usage_record_submit(
            actor=person_of(product.provider), seller=product.provider, record_id="r-1",
            buyer=MerchantFactory(), plan=plan, calls=10,
            used_at=timezone.now() - dt.timedelta(hours=1),
        )  # fmt: skip


def test_keys_over_the_api_are_shown_once_and_revoked_by_the_buyer(subscription_key, api_client):
    # given
    key, _raw = subscription_key
    buyer_api = api_client(person_of(key.buyer))

    # when the buyer takes another key, lists keys, and revokes the new one
    issued = buyer_api.post(reverse("api-key-list"), {"order": key.order_id}, format="json")
    listed = buyer_api.get(reverse("api-key-list")).json()["results"]
    revoked = buyer_api.post(
        reverse("api-key-revoke", args=[issued.json()["id"]]), {}, format="json"
    )

    # then the key is in the answer once, never in the list, and stored hashed
    assert issued.status_code == 201
    raw = issued.json()["key"]
    assert raw.startswith("dxk_")
    assert all("key" not in row for row in listed)
    assert not ApiKey.objects.filter(key_sha256=raw).exists()
    assert revoked.json()["is_active"] is False


def test_statements_say_the_gateway_measured_a_usage_bill(upstream_server, client):
    # given a metered bill from the gateway's counts, paid
    from settlements.models import Posting
    from settlements.selectors import statement_csv, statement_for_account

    product = api_product(upstream_server)
    plan = PlanFactory(
        product=product, kind="metered", price_fen=0, unit_price_fen=250, included_calls=0
    )
    buyer = with_free_order(product)
    key, raw = gateway.api_key_issue(actor=person_of(buyer), plan=plan)
    for i in range(4):
        call(client, key, raw, call_id=f"s-{i}")
    month = month_start(timezone.localdate())
    gateway.gateway_usage_book(month=month)
    bill = pay(usage_bill(plan_id=plan.pk, buyer_id=buyer.pk, month=month))
    account = Posting.objects.filter(entry__order=bill).first().account
    today = timezone.localdate()

    # when
    statement = statement_for_account(account=account, date_from=today, date_to=today)

    # then the bill's line says who measured the usage
    line = next(line for line in statement.lines if line.order_id == bill.pk)
    assert line.usage_source == "gateway"
    assert str(UsageSource.GATEWAY.label) in statement_csv(statement)
