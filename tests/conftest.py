"""Shared fixtures: roles, API clients, service markers and a real Celery worker."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories.accounts import MerchantFactory, OperatorFactory, PersonFactory

ROOT = Path(__file__).resolve().parent.parent


def _redis_reachable() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _database_is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_configure(config):
    # Tests read Chinese from the compiled catalogs; compile any that are older
    # than their .po (as `make setup` does), so a bare `pytest` sees the same words.
    subprocess.run(  # noqa: S603 (our own script, run by this interpreter)
        [sys.executable, str(ROOT / "scripts" / "catalog.py"), "compile"], check=True
    )
    if os.environ.get("REQUIRE_POSTGRES") and not os.environ.get("DATABASE_URL", "").startswith(
        ("postgres://", "postgresql://")
    ):
        raise pytest.UsageError("REQUIRE_POSTGRES is set but DATABASE_URL is not a PostgreSQL URL")
    if os.environ.get("REQUIRE_REDIS") and not _redis_reachable():
        raise pytest.UsageError("REQUIRE_REDIS is set but Redis at REDIS_URL is unreachable")


def pytest_collection_modifyitems(config, items):
    """Skip, and say why, what this machine cannot run; CI sets REQUIRE_* and never skips."""
    postgres = _database_is_postgres()
    redis_ok = _redis_reachable()
    skip_pg = pytest.mark.skip(
        reason="needs PostgreSQL: set DATABASE_URL=postgres://... (runs on SQLite otherwise)"
    )
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://... to a live server")
    for item in items:
        if "postgres" in item.keywords and not postgres and not os.environ.get("REQUIRE_POSTGRES"):
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not redis_ok and not os.environ.get("REQUIRE_REDIS"):
            item.add_marker(skip_redis)


@pytest.fixture
def operator(db):
    return OperatorFactory()


@pytest.fixture
def merchant_a(db):
    return MerchantFactory(status="active", legal_name="Merchant A Data Co.")


@pytest.fixture
def merchant_b(db):
    return MerchantFactory(status="active", legal_name="Merchant B Analytics Co.")


@pytest.fixture
def owner_a(merchant_a):
    return PersonFactory(merchant=merchant_a, merchant_role="owner")


@pytest.fixture
def owner_b(merchant_b):
    return PersonFactory(merchant=merchant_b, merchant_role="owner")


def _token_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_client():
    """An API client; call it with a user to sign in by token, or with None for anonymous."""
    return _token_client


@pytest.fixture
def operator_api(operator):
    return _token_client(operator)


@pytest.fixture
def merchant_a_api(owner_a):
    return _token_client(owner_a)


@pytest.fixture
def merchant_b_api(owner_b):
    return _token_client(owner_b)


class WorkerHandle:
    """A real `celery worker` process listening on its own queue."""

    def __init__(self, process: subprocess.Popen, queue: str, log_path: Path):
        self.process = process
        self.queue = queue
        self.log_path = log_path

    def run(self, task_name: str, *args, timeout: float = 120, **kwargs):
        """Send a task by name through the broker and wait for the worker's result."""
        from config.celery_app import app

        eager = app.conf.task_always_eager
        app.conf.task_always_eager = False  # the task goes to, and returns from, the real worker
        try:
            result = app.send_task(task_name, args=args, kwargs=kwargs, queue=self.queue)
            return result.get(timeout=timeout)
        finally:
            app.conf.task_always_eager = eager

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _database_url_for_test_db() -> str:
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """Start a real Celery worker on Redis, reading the test database, on a queue of its own.

    Needs PostgreSQL (a worker process cannot share SQLite's in-memory test
    database) and Redis. Tests that use it carry both markers.
    """
    if not _database_is_postgres() or not _redis_reachable():
        pytest.fail("celery_worker_process needs PostgreSQL and Redis; mark the test with both")
    queue = f"test-{uuid.uuid4().hex[:10]}"
    log_path = tmp_path / "worker.log"
    # The workloads' own queues (clearing, audit, ...) too, under this test's prefix.
    worker_queues = ",".join([queue, *(f"{queue}-{name}" for name in settings.EXCHANGE_QUEUES)])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url_for_test_db(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_QUEUE_PREFIX": f"{queue}-",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONPATH": str(ROOT),
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--pool=solo", "--queues", worker_queues, "--loglevel=info",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--hostname", f"{queue}@%h",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    handle = WorkerHandle(process, queue, log_path)
    deadline = time.monotonic() + 60
    while "ready." not in handle.log():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{handle.log()}")
        time.sleep(0.2)
    try:
        yield handle
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
