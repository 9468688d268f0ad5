"""Buyers' integrations placing orders over HTTP with Idempotency-Key, some of them retries.

50 clients (active merchants' owners, each with its API token) place orders
at once against gunicorn with 2 workers, one after another as fast as the
answers come; one request in ten replays an earlier key of the same client
with the same body, as a client does that lost an answer. Every replay must
get the order its key first made, and no key may make two orders.

The floor writes the same rows (the order, its placement event, the key with
its stored answer) in raw SQL, one transaction per order as each request is,
on 2 connections like the 2 workers.
"""

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench import loadgen

NAME = "orders"
ORDER = 60
TARGET = "at least 200 orders/s, 0 duplicates, 0 errors; p95 reported"
PATH = "/api/v1/orders/"
CLIENTS = 50
REPLAY_SHARE = 0.1


def _buyers_and_plans() -> tuple[list[tuple[int | None, str]], list[tuple[int, int]]]:
    """(merchant id, token) of 50 buyers; (plan id, provider id) of one-off plans on sale."""
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from products.models import PricingPlan

    people = list(
        User.objects.filter(merchant__status="active", merchant_role="owner", is_active=True)
        .order_by("id")
        .select_related("merchant")[:CLIENTS]
    )
    buyers = [(p.merchant_id, Token.objects.get_or_create(user=p)[0].key) for p in people]
    plans = list(
        PricingPlan.objects.filter(
            kind="one_off",
            is_active=True,
            product__status="listed",
            product__provider__status="active",
        )
        .exclude(product__source_kind="public")
        .order_by("id")
        .values_list("id", "product__provider_id")[:500]
    )
    return buyers, plans


def _client_requests(n, buyer, token, plans, per_client, rng, sent, run_mark):
    merchant_id = buyer
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    mine = [plan for plan, provider in plans if provider != merchant_id]

    def requests(_client):
        made: list[tuple[str, bytes]] = []
        for i in range(per_client):
            if made and rng.random() < REPLAY_SHARE:
                key, body = rng.choice(made)
            else:
                key = f"bench-{run_mark}-{n}-{i}"
                body = loadgen.json_body({"plan": rng.choice(mine), "quantity": 1})
                made.append((key, body))
            sent.append((n, key))
            yield "POST", PATH, {**headers, "Idempotency-Key": key}, body

    return requests


def floor(bench, order_ids: list[int]) -> float:
    """The same rows in raw SQL, one transaction per order, on 2 connections."""
    import psycopg

    from marketplace.models import Order, OrderEvent, OrderIdempotencyKey

    order_table, event, keys = (
        Order._meta.db_table,
        OrderEvent._meta.db_table,
        OrderIdempotencyKey._meta.db_table,
    )
    columns = [str(f.column) for f in Order._meta.concrete_fields if f.column != "id"]
    chosen = [
        "'F' || o.id" if c == "number" else "now()" if c in {"created_at", "updated_at"} else c
        for c in columns
    ]
    insert_order = (
        f"INSERT INTO {order_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(chosen)} FROM {order_table} o WHERE o.id = %(old)s RETURNING id"
    )
    insert_event = (
        f"INSERT INTO {event} (subject_id, actor_id, from_status, to_status, reason, created_at) "
        f"SELECT %(new)s, actor_id, from_status, to_status, reason, now() FROM {event} "
        "WHERE subject_id = %(old)s"
    )
    insert_key = (
        f"INSERT INTO {keys} (merchant_id, key, request_hash, response_status, "
        "response_body, order_id, created_at) SELECT merchant_id, key || ':floor', "
        f"request_hash, response_status, response_body, %(new)s, now() FROM {keys} "
        "WHERE order_id = %(old)s"
    )
    url = bench.url.replace("postgres://", "postgresql://", 1)
    shares = [order_ids[0::2], order_ids[1::2]]

    def write(ids: list[int]) -> None:
        with psycopg.connect(url) as conn:
            for old in ids:
                with conn.transaction():
                    row = conn.execute(insert_order, {"old": old}).fetchone()
                    new = row[0] if row else None
                    conn.execute(insert_event, {"old": old, "new": new})
                    conn.execute(insert_key, {"old": old, "new": new})

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(write, shares))
    return time.monotonic() - started


def run(bench) -> dict:
    from marketplace.models import Order, OrderIdempotencyKey

    per_client = 6 if bench.quick else 40
    buyers, plans = _buyers_and_plans()
    sent: list[tuple[int, str]] = []
    answers: dict[tuple[int, str], set] = {}
    lock = threading.Lock()

    def on_answer(n, request, status, data):
        if status not in (200, 201):
            return
        key = request[2]["Idempotency-Key"]
        with lock:
            answers.setdefault((n, key), set()).add(json.loads(data)["id"])

    # Keys live 24 hours: a second run on a kept database must not replay the first's.
    run_mark = f"{time.time_ns():x}"
    clients = [
        # which plan, which replay: one random source per client, nothing secret
        _client_requests(
            n, merchant, token, plans, per_client, random.Random(f"15:{n}"), sent, run_mark
        )
        for n, (merchant, token) in enumerate(buyers)
    ]
    before = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0
    bench.progress(
        f"orders: {len(clients)} clients x {per_client} requests over HTTP, gunicorn 2 workers"
    )
    with loadgen.gunicorn(bench.url):
        outcome = loadgen.closed_loop(clients, on_answer=on_answer)
    summary = outcome.summary()
    made = list(Order.objects.filter(pk__gt=before).order_by("id").values_list("id", flat=True))
    keys = {key for _n, key in sent}
    replays = len(sent) - len(keys)
    # a key that answered with two orders, or more orders than keys: a duplicate
    split = sum(1 for ids in answers.values() if len(ids) > 1)
    stored = OrderIdempotencyKey.objects.filter(order_id__in=made).count()
    duplicates = split + max(len(made) - len(keys), 0) + (len(made) - stored)
    bench.progress(f"orders floor: the same {len(made):,} orders' rows in raw SQL ...")
    floor_seconds = floor(bench, made) if made else None
    per_second = round(len(made) / outcome.seconds, 1) if outcome.seconds else 0
    ratio = round(outcome.seconds / floor_seconds, 2) if floor_seconds else None
    return {
        "figures": {
            "headline": (
                f"{per_second} orders/s ({len(made):,} orders, {replays} replays), "
                f"p95 {summary['p95_ms']} ms, {duplicates} duplicates, "
                f"{summary['errors']} errors"
            ),
            "orders_per_second": per_second,
            "orders_made": len(made),
            "replays": replays,
            "duplicates": duplicates,
            "clients": len(clients),
            "http": summary,
        },
        "floor": {
            "what": "the same rows (order, event, key with its answer) in raw SQL, "
            "one transaction per order, 2 connections",
            "seconds": round(floor_seconds, 2) if floor_seconds else None,
            "orders_per_second": round(len(made) / floor_seconds, 1) if floor_seconds else None,
        },
        "ratio": ratio,
        "met": per_second >= 200 and duplicates == 0 and summary["errors"] == 0,
    }
