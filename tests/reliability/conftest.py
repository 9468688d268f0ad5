"""Real processes for the reliability suite: a Redis of the test's own (on a port of the
9500-9599 range, so stopping it touches nothing else), Celery workers in process groups
that can be SIGKILLed, and beat."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import ROOT, _database_url_for_test_db

PORTS = range(9500, 9600)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 9500-9599 for the test's own Redis")


def wait_for(condition, *, timeout: float, what: str, every: float = 0.5):
    """Poll `condition` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class OwnRedis:
    """A redis-server on a loopback port of ours, without persistence (a restart is empty)."""

    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.tmp = tmp
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            [  # noqa: S607 - redis-server from PATH, as CI installs it
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.tmp),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(up, timeout=20, what="the test's Redis to start", every=0.1)

    def stop(self) -> None:
        """Kill it outright, as a crash would: queued and unacknowledged messages are lost."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


class Processes:
    """Celery processes (worker, beat, one-off commands) run against the test database."""

    def __init__(self, tmp: Path, redis_url: str, **env):
        self.tmp = tmp
        self.queue = f"rel-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url_for_test_db(),
            "REDIS_URL": redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "PYTHONPATH": str(ROOT),
            "EXCHANGE_VAR_DIR": str(tmp / "var"),
            **{k: str(v) for k, v in env.items()},
        }
        self.started: list[subprocess.Popen] = []
        self.logs = 0

    def _popen(self, argv: list[str], name: str) -> subprocess.Popen:
        self.logs += 1
        log = (self.tmp / f"{self.logs:02d}-{name}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed argv
            [sys.executable, "-m", "celery", "-A", "config", *argv],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so it can be killed whole
        )  # fmt: skip
        process.log_path = log.name
        self.started.append(process)
        return process

    def worker(self, concurrency: int = 2) -> subprocess.Popen:
        process = self._popen(
            [
                "worker", "--pool=prefork", f"--concurrency={concurrency}",
                "--queues", ",".join([self.queue, *settings.EXCHANGE_QUEUES]),
                "--loglevel=info", "--without-gossip",
                "--without-mingle", "--without-heartbeat",
                "--hostname", f"{self.queue}-{self.logs}@%h",
            ],
            "worker",
        )  # fmt: skip
        wait_for(
            lambda: (
                "ready." in Path(process.log_path).read_text(errors="replace")
                or process.poll() is not None
            ),
            timeout=90,
            what="the worker to start",
        )
        assert process.poll() is None, Path(process.log_path).read_text()
        return process

    def beat(self) -> subprocess.Popen:
        return self._popen(
            [
                "beat", "--loglevel=info",
                "--schedule", str(self.tmp / f"beat-{self.logs}.db"),
                "--pidfile", "",
            ],
            "beat",
        )  # fmt: skip

    def send(self, task: str, *args) -> None:
        """Send one task through the test's broker from a separate process."""
        code = (
            "from config.celery_app import app; "
            f"app.send_task({task!r}, args={list(args)!r}, queue={self.queue!r})"
        )
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", code], cwd=ROOT, env=self.env, check=True, timeout=120
        )

    @staticmethod
    def kill_group(process: subprocess.Popen) -> None:
        """SIGKILL the main process and every pool child at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(20)

    @staticmethod
    def pool_children(process: subprocess.Popen) -> list[int]:
        out = subprocess.run(  # noqa: S603
            ["pgrep", "-P", str(process.pid)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                self.kill_group(process)

    def log(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.tmp.glob("*.log"))
        )


@pytest.fixture
def processes_for(tmp_path, transactional_db):
    if connection.vendor != "postgresql":
        pytest.fail("the reliability suite's processes need PostgreSQL; mark the test postgres")
    made: list[Processes] = []

    def make(redis_url: str, **env) -> Processes:
        made.append(Processes(tmp_path, redis_url, **env))
        return made[-1]

    yield make
    for processes in made:
        processes.stop_all()


class LiveServer:
    """gunicorn serving the exchange on a loopback port of ours, with the given environment."""

    def __init__(self, procs: Processes):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        log = (procs.tmp / "web.log").open("w")
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable, "-m", "gunicorn", "config.wsgi", "--bind",
                f"127.0.0.1:{self.port}", "--workers", "2", "--threads", "4", "--timeout", "60",
            ],
            cwd=ROOT, env=procs.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        procs.started.append(self.process)
        import httpx

        def up() -> bool:
            try:
                return httpx.get(f"{self.base}/api/v1/", timeout=2).status_code < 500
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=90, what="the web server to start")


@pytest.fixture(autouse=True)
def _join_flag_reset():
    """Eager tasks run in two threads at once leave Celery's process-wide "inside a task"
    flag set (each restores what it saw on entry); later tests must not inherit it."""
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


# Hypothesis profiles of the suite's property tests: "ci" is what CI runs (100 examples of
# 30 steps); "dev", the default elsewhere, is a quicker look. HYPOTHESIS_PROFILE picks one.
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
hypothesis_settings.register_profile(
    "ci", max_examples=100, stateful_step_count=30, deadline=None, suppress_health_check=_SLOW_OK
)
hypothesis_settings.register_profile(
    "dev", max_examples=15, stateful_step_count=30, deadline=None, suppress_health_check=_SLOW_OK
)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
