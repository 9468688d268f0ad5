"""The market's product list, as buyers and their integrations page through it.

Every filter of the market list, every ordering, and cursor pages deep into
the default ordering, each asked through the whole stack in-process (Django's
test client: middleware, token authentication, DRF, serializers), and then
over HTTP against gunicorn with 2 workers at a fixed arrival rate from a
load generator on loopback. The floor is the same SQL statements the
in-process requests ran, replayed through a plain psycopg connection.
"""

import gc
import time
import urllib.parse

from bench import loadgen

NAME = "catalog"
ORDER = 50
TARGET = "p95 under 15 ms in-process; at least 400 requests/s over HTTP with 0 errors"
PATH = "/api/v1/market/products/"
DEPTHS = (2, 5, 10)
ORDERINGS = ("listed_at", "-listed_at", "title", "-title", "min_price_fen", "-min_price_fen")


def _cases(bench) -> dict[str, str]:
    """One query string per filter and ordering, taken from the data itself."""
    from django.db.models import Count

    from products.models import Product

    listed = Product.objects.filter(status="listed")
    one = listed.select_related("industry", "provider").order_by("id").first()
    if one is None:
        return {"first page": ""}
    busiest = listed.values("provider_id").annotate(n=Count("id")).order_by("-n").first()
    provider = busiest["provider_id"] if busiest else one.provider_id
    # a word of a real title, as a buyer would type it
    word = one.title[:2]
    return {
        "first page": "",
        "industry": f"industry={one.industry.code}",
        "board": "board=weather",
        "delivery_mode": f"delivery_mode={one.delivery_mode}",
        "two delivery modes": "delivery_mode=api&delivery_mode=file",
        "grade": f"grade={one.grade}",
        "source_kind": f"source_kind={one.source_kind}",
        "provider": f"provider={provider}",
        "provider_region": f"provider_region={one.provider.region}",
        "price_min": "price_min=10000",
        "price_max": "price_max=500",
        "listed_from": f"listed_from={(bench.day.replace(day=1)).isoformat()}",
        "listed_to": f"listed_to={bench.day.replace(year=bench.day.year - 1).isoformat()}",
        "registration_number": f"registration_number={one.registration_number}",
        "delisting_requested": "delisting_requested=true",
        "search": f"search={urllib.parse.quote(word)}",
        "industry + price + ordering": (
            f"industry={one.industry.code}&price_max=2000&ordering=min_price_fen"
        ),
        **{f"ordering={key}": f"ordering={key}" for key in ORDERINGS},
    }


def _token() -> str:
    """An API token of an active buyer merchant's owner (made here if it has none)."""
    from rest_framework.authtoken.models import Token

    from accounts.models import User

    person = (
        User.objects.filter(merchant__status="active", merchant_role="owner", is_active=True)
        .order_by("id")
        .first()
    )
    if person is None:
        raise RuntimeError("no active merchant owner: seed the database first")
    token, _ = Token.objects.get_or_create(user=person)
    return token.key


def _deep_paths(client, depth_max: int) -> dict[int, str]:
    """The path of page 2, 5, 10 ... of the default ordering, following the next links."""
    paths = {}
    path = PATH
    for page in range(1, depth_max + 1):
        if page in DEPTHS:
            paths[page] = path
        response = client.get(path)
        following = response.json().get("next")
        if not following:
            break
        parts = urllib.parse.urlsplit(following)
        path = f"{parts.path}?{parts.query}"
    return paths


def in_process(bench, token: str, repeat: int) -> tuple[dict, dict, list[str]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost", headers={"authorization": f"Token {token}"})
    paths = {name: f"{PATH}?{qs}" if qs else PATH for name, qs in _cases(bench).items()}
    deep = _deep_paths(client, max(DEPTHS))
    paths.update({f"cursor page {n}": p for n, p in deep.items()})
    # As each web worker does once loaded (config/wsgi.py): what start-up built
    # is kept out of the collector's full passes, which otherwise pause a request.
    gc.collect()
    gc.freeze()
    timings: dict[str, list[float]] = {}
    statements: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    for name, path in paths.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")
        rows[name] = len(response.json()["results"])
        # the token lookup and the page's own statements; savepoints are not SQL work
        statements[name] = [
            q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]
        ]
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path)
            samples.append(time.perf_counter() - started)
        timings[name] = samples
    gc.unfreeze()
    return timings, statements, list(paths.values())


def floor(bench, statements: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    import psycopg

    url = bench.url.replace("postgres://", "postgresql://", 1)
    timings = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name, sqls in statements.items():
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                for sql in sqls:
                    conn.execute(sql).fetchall()
                samples.append(time.perf_counter() - started)
            timings[name] = samples
    return timings


def over_http(bench, token: str, paths: list[str], rate: float, seconds: float) -> dict:
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def request(i: int):
        return "GET", paths[i % len(paths)], headers, None

    with loadgen.gunicorn(bench.url):
        loadgen.fixed_rate(request, rate=20, seconds=1, threads=4)  # warm both workers
        outcome = loadgen.fixed_rate(request, rate=rate, seconds=seconds, threads=48)
    return outcome.summary()


def _all(timings: dict[str, list[float]]) -> list[float]:
    return [s for samples in timings.values() for s in samples]


def run(bench) -> dict:
    repeat = 5 if bench.quick else 20
    token = _token()
    bench.progress("catalog: every filter, ordering and cursor depth, in-process ...")
    timings, statements, paths = in_process(bench, token, repeat)
    floor_timings = floor(bench, statements, repeat)
    p95 = loadgen.percentile(_all(timings), 95)
    floor_p95 = loadgen.percentile(_all(floor_timings), 95)
    per_case = {
        name: {
            "p95_ms": loadgen.percentile(samples, 95),
            "floor_p95_ms": loadgen.percentile(floor_timings[name], 95),
            "statements": len(statements[name]),
        }
        for name, samples in timings.items()
    }
    worst = max(per_case, key=lambda n: per_case[n]["p95_ms"] or 0)
    rate = 100.0 if bench.quick else 450.0
    seconds = 5.0 if bench.quick else 15.0
    bench.progress(f"catalog over HTTP: {rate:g} requests/s for {seconds:g} s, gunicorn 2 workers")
    http = over_http(bench, token, paths, rate, seconds)
    ratio = round(p95 / floor_p95, 2) if p95 and floor_p95 else None
    return {
        "figures": {
            "headline": (
                f"in-process p95 {p95} ms (worst: {worst}, {per_case[worst]['p95_ms']} ms); "
                f"HTTP {http['requests_per_second']}/s offered {rate:g}/s, "
                f"p95 {http['p95_ms']} ms, {http['errors']} errors"
            ),
            "in_process_p95_ms": p95,
            "cases": per_case,
            "repeats": repeat,
            "http": {"offered_per_second": rate, "workers": loadgen.WORKERS, **http},
        },
        "floor": {
            "what": "the same SQL statements each request ran, through a plain psycopg connection",
            "p95_ms": floor_p95,
        },
        "ratio": ratio,
        "met": bool(
            p95 is not None
            and p95 < 15
            and http["errors"] == 0
            and http["requests_per_second"] >= 400
            and http["not_sent_in_time"] == 0
        ),
    }
