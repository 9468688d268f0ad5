"""The API gateway's own cost: the same calls through /gateway/ and straight to the upstream.

A loopback upstream runs in its own process (bench/benchmarks/_upstream.py).
The floor is httpx calling it directly; the gateway path goes through the
exchange's WSGI application (every middleware, routing, the view), the key
lookup, the rate limit in Redis (when REDIS_URL is set), the call row and
month counter in PostgreSQL, and the same httpx forwarding. Latency: calls
one after another, interleaved with the direct ones. Throughput: several
gateway processes (as a WSGI server runs them) calling for a few seconds.
Each call has its own call id, so every call is counted.
"""

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

NAME = "gateway"
ORDER = 50
TARGET = "p95 added latency under 10 ms, at least 300 calls/s"
PORT = int(os.environ.get("BENCH_GATEWAY_PORT", "9650"))
WARMUP = 100


def _p95_ms(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[-1] * 1000, 2)


def _start_upstream():
    script = Path(__file__).with_name("_upstream.py")
    process = subprocess.Popen([sys.executable, str(script), str(PORT)])  # noqa: S603
    import httpx

    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{PORT}/", timeout=0.2)
            return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the benchmark upstream did not start")


def _buyer_key():
    """A paid monthly subscription to a fresh API product with the upstream registered."""
    from django.test import override_settings

    from accounts.models import Merchant, User
    from delivery.services import gateway
    from marketplace.services.orders import order_place
    from marketplace.services.payments import order_pay, payment_notice_parse, payment_signature
    from products.models import PricingPlan, Product

    product = (
        Product.objects.filter(status="listed", provider__status="active")
        .exclude(registration_number__isnull=True)
        .select_related("provider")
        .first()
    )
    assert product is not None, "the seeded data set has no listed product"
    Product.objects.filter(pk=product.pk).update(delivery_mode="api")
    product.refresh_from_db()
    seller = product.provider
    seller_person = User.objects.filter(merchant=seller).first()
    buyer = Merchant.objects.filter(status="active").exclude(pk=seller.pk).first()
    assert buyer is not None
    buyer_person = User.objects.filter(merchant=buyer).first()
    assert seller_person is not None
    assert buyer_person is not None
    plan = PricingPlan.objects.create(
        product=product, name="bench", kind="subscription", period="month", price_fen=100
    )
    with override_settings(EXCHANGE_GATEWAY_ALLOW_LOOPBACK=True):
        gateway.upstream_register(
            actor=seller_person,
            product=product,
            base_url=f"http://127.0.0.1:{PORT}/v1",
            header_name="X-Upstream-Key",
            secret=secrets.token_urlsafe(16),
        )
    order = order_place(actor=buyer_person, buyer=buyer, plan=plan)
    body = json.dumps(
        {
            "order_number": order.number,
            "amount": "1.00",
            "channel_reference": f"BENCH{secrets.token_hex(6)}",
            "timestamp": int(time.time()),
            "nonce": secrets.token_hex(12),
        }
    ).encode()
    order_pay(notice=payment_notice_parse(body=body, signature=payment_signature(body)))
    key, raw = gateway.api_key_issue(actor=buyer_person, order=order)
    return key, raw


def _wsgi_caller(path: str, query: str, raw_key: str):
    """Call the exchange's WSGI application in-process, as a WSGI server would."""
    import io

    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()

    def call(call_id: str) -> int:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_API_KEY": raw_key,
            "HTTP_X_CALL_ID": call_id,
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status: list[str] = []

        def start_response(line, headers, exc_info=None):
            status.append(line)
            return lambda data: None

        body = handler(environ, start_response)
        b"".join(body)
        body.close()
        return int(status[0].split()[0])

    return call


def _worker(args) -> int:
    """One gateway process calling as fast as it can until the deadline; returns its calls."""
    path, query, raw_key, tag, deadline = args
    from django.db import connection

    connection.close()  # a forked child opens its own connection
    from delivery.services import gateway as service

    service._client = None  # and its own pool to the upstream
    service._redis_client = None
    call = _wsgi_caller(path, query, raw_key)
    done = 0
    while time.time() < deadline:
        assert call(f"{tag}-{done}") == 200
        done += 1
    return done


def run(bench) -> dict:
    import multiprocessing

    import httpx
    from django.db import connection
    from django.test import override_settings

    calls = 500 if bench.quick else 2000
    processes = int(os.environ.get("BENCH_GATEWAY_PROCESSES", "4"))
    seconds = 5 if bench.quick else 15
    upstream = _start_upstream()
    try:
        with override_settings(
            EXCHANGE_GATEWAY_ALLOW_LOOPBACK=True,
            EXCHANGE_GATEWAY_RATE_PER_SECOND=1_000_000,
            ALLOWED_HOSTS=["*"],
        ):
            key, raw = _buyer_key()
            path = f"/gateway/{key.product.registration_number}/observations"
            query = "station=57687"
            through_gateway = _wsgi_caller(path, query, raw)
            direct = httpx.Client(trust_env=False)
            direct_url = f"http://127.0.0.1:{PORT}/v1/observations?{query}"

            def straight(i: int) -> None:
                assert direct.get(direct_url, headers={"X-Call-Id": f"d-{i}"}).status_code == 200

            for i in range(WARMUP):
                assert through_gateway(f"warm-{i}") == 200
                straight(i)
            gateway_samples: list[float] = []
            direct_samples: list[float] = []
            # Interleaved, so both paths see the same machine load.
            for i in range(calls):
                started = time.perf_counter()
                straight(i)
                direct_samples.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert through_gateway(f"bench-{i}") == 200
                gateway_samples.append(time.perf_counter() - started)
            bench.progress(f"{calls} calls each way, one after another")
            # Throughput: several gateway processes (as a WSGI server runs them) for a while.
            connection.close()
            deadline = time.time() + seconds
            jobs = [(path, query, raw, f"p{n}", deadline) for n in range(processes)]
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                started = time.time()
                per_process = pool.map(_worker, jobs)
                elapsed = time.time() - started
            throughput = round(sum(per_process) / elapsed)
            bench.progress(
                f"{sum(per_process)} calls in {elapsed:.1f} s from {processes} processes"
            )
            from delivery.models import GatewayUsage

            counted = GatewayUsage.objects.get(buyer=key.buyer, plan=key.plan).calls
    finally:
        upstream.kill()
        upstream.wait()
    gateway_p95 = _p95_ms(gateway_samples)
    direct_p95 = _p95_ms(direct_samples)
    added_p95 = round(gateway_p95 - direct_p95, 2)
    sequential = round(len(gateway_samples) / sum(gateway_samples))
    return {
        "figures": {
            "headline": f"p95 added {added_p95} ms; {throughput} calls/s "
            f"({processes} processes), {sequential} calls/s (one client)",
            "calls": calls,
            "gateway_p50_ms": round(statistics.median(gateway_samples) * 1000, 2),
            "gateway_p95_ms": gateway_p95,
            "direct_p50_ms": round(statistics.median(direct_samples) * 1000, 2),
            "direct_p95_ms": direct_p95,
            "added_p95_ms": added_p95,
            "calls_per_second": throughput,
            "processes": processes,
            "sequential_calls_per_second": sequential,
            "direct_calls_per_second": round(len(direct_samples) / sum(direct_samples)),
            "counted_calls": counted,
            "expected_counted_calls": WARMUP + calls + sum(per_process),
        },
        "floor": {
            "what": "the same calls straight to the upstream (p95)",
            "seconds": round(direct_p95 / 1000, 5),
        },
        "ratio": round(gateway_p95 / direct_p95, 2) if direct_p95 else None,
        "met": added_p95 < 10 and throughput >= 300,
    }
