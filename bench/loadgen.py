"""What the HTTP benchmarks share: a gunicorn on loopback and a bounded load generator.

The server is the exchange as deployed (gunicorn, 2 sync workers) on the
benchmark database, bound to 127.0.0.1 on a port of the benchmarks' range.
The load generator is plain threads with http.client: it needs nothing
installed and, being bounded in threads and seconds, cannot run away with
the machine. Its own CPU shares the 2 cores with the server; the results
say so.
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# The benchmarks' loopback ports (PROTOCOL: this working copy's range).
PORT = int(os.environ.get("BENCH_HTTP_PORT", "9801"))
WORKERS = 2


def _up(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        conn.request("GET", "/api/schema/?format=json", headers={"Host": "localhost"})
        conn.getresponse().read()
        conn.close()
    except OSError:
        return False
    return True


@contextmanager
def gunicorn(url: str, *, port: int = PORT, workers: int = WORKERS) -> Iterator[str]:
    """The exchange served by gunicorn on 127.0.0.1:port against the database `url`."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # nothing these requests do needs the broker
    log = open(ROOT / "var" / f"bench-gunicorn-{port}.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "--workers", str(workers), "--bind", f"{HOST}:{port}",
            "--backlog", "256", "--timeout", "60", "--log-level", "warning",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _up(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see var/bench-gunicorn-{port}.log")
            time.sleep(0.3)
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass
class Outcome:
    """What one run of the load generator saw."""

    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    not_sent: int = 0

    def summary(self) -> dict:
        ok = sum(n for code, n in self.statuses.items() if 200 <= code < 300)
        return {
            "requests": self.sent,
            "not_sent_in_time": self.not_sent,
            "ok": ok,
            "errors": self.sent - ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seconds": round(self.seconds, 2),
            "requests_per_second": round(self.sent / self.seconds, 1) if self.seconds else 0,
            "p50_ms": percentile(self.latencies, 50),
            "p95_ms": percentile(self.latencies, 95),
            "p99_ms": percentile(self.latencies, 99),
            "first_errors": self.errors[:5],
        }


def percentile(samples: list[float], pct: int) -> float | None:
    if len(samples) < 2:
        return round(samples[0] * 1000, 2) if samples else None
    return round(statistics.quantiles(samples, n=100)[pct - 1] * 1000, 2)


class Client:
    """One keep-alive connection that reconnects when the server closes it."""

    def __init__(self, port: int = PORT):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, headers: dict, body: bytes | None = None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers={"Host": "localhost", **headers})
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.conn.close()
                self.conn = None
            return response.status, data
        raise AssertionError("unreachable")


def fixed_rate(
    make_request: Callable[[int], tuple[str, str, dict, bytes | None]],
    *,
    rate: float,
    seconds: float,
    threads: int = 32,
    port: int = PORT,
) -> Outcome:
    """Send requests at a fixed arrival rate for `seconds`, from at most `threads` at once.

    Request i is due at start + i / rate. Its latency counts from when it was
    due, not from when a thread got to it, so a server that falls behind
    shows in the latencies instead of slowing the arrivals down.
    """
    outcome = Outcome()
    lock = threading.Lock()
    planned = int(rate * seconds)
    counter = iter(range(planned))
    start = time.monotonic() + 0.2
    # A server far behind would keep the machine busy draining the schedule:
    # what was not sent by then is reported as not sent, not waited for.
    stop_at = start + seconds * 1.5 + 5

    def worker() -> None:
        client = Client(port)
        while True:
            with lock:
                i = next(counter, None)
            if i is None or time.monotonic() > stop_at:
                return
            due = start + i / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            method, path, headers, body = make_request(i)
            try:
                status, _data = client.request(method, path, headers, body)
            except (http.client.HTTPException, OSError) as error:
                status = 0
                with lock:
                    outcome.errors.append(f"{path}: {error!r}")
            took = time.monotonic() - due
            with lock:
                outcome.sent += 1
                outcome.latencies.append(took)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
                if status and not 200 <= status < 300 and len(outcome.errors) < 20:
                    outcome.errors.append(f"{path}: {status}")

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    outcome.seconds = time.monotonic() - start
    outcome.not_sent = planned - outcome.sent
    return outcome


def closed_loop(
    clients: list[Callable[[Client], Iterator[tuple[str, str, dict, bytes | None]]]],
    *,
    port: int = PORT,
    on_answer: Callable[[int, tuple, int, bytes], None] | None = None,
) -> Outcome:
    """Each client sends its requests one after another, all clients at once."""
    outcome = Outcome()
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients) + 1)

    def worker(n: int, requests) -> None:
        client = Client(port)
        barrier.wait()
        for request in requests(client):
            method, path, headers, body = request
            started = time.monotonic()
            try:
                status, data = client.request(method, path, headers, body)
            except (http.client.HTTPException, OSError) as error:
                status, data = 0, b""
                with lock:
                    outcome.errors.append(f"{path}: {error!r}")
            took = time.monotonic() - started
            with lock:
                outcome.sent += 1
                outcome.latencies.append(took)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
                if status and not 200 <= status < 300 and len(outcome.errors) < 20:
                    outcome.errors.append(f"{path}: {status} {data[:200]!r}")
            if on_answer:
                on_answer(n, request, status, data)

    pool = [
        threading.Thread(target=worker, args=(n, requests), daemon=True)
        for n, requests in enumerate(clients)
    ]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in pool:
        thread.join()
    outcome.seconds = time.monotonic() - started
    return outcome


def json_body(data) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()
