"""Queueing recorded work so that it always gets done.

Work the exchange has accepted is first a row (a clearing chunk, an audit
run); the Celery message only says "go". Two rules follow:

- A request that starts work checks the broker first (`broker_check`, a
  bounded connect) and answers 503 with Retry-After when it is away, before
  recording anything: a refused request changes nothing.
- The message is sent after the row is committed (`send_after_commit`). If
  the broker goes away in between, or loses the message later (a worker
  killed holding it, a broker restarted empty), the row stays pending and the
  owning app's recovery job, run by beat, queues it again. Every task is
  idempotent by its row, so a message delivered twice does the work once.
"""

import logging
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from core.exceptions import BrokerUnavailable

logger = logging.getLogger(__name__)


def _eager() -> bool:
    from config.celery_app import app

    return bool(app.conf.task_always_eager)


def broker_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a publish raises when the broker is away."""
    import kombu.exceptions

    errors: list[type[BaseException]] = [kombu.exceptions.OperationalError, ConnectionError]
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is in requirements.lock
        pass
    return tuple(errors)


def broker_check() -> None:
    """Raise BrokerUnavailable unless the broker answers within the connect timeout.

    Tasks run in-process (eager, the test settings) and kombu's filesystem
    transport need no server, so there is nothing to check for them.
    """
    if _eager():
        return
    url = settings.CELERY_BROKER_URL
    if urlsplit(url).scheme not in ("redis", "rediss"):
        return
    import redis

    timeout = settings.EXCHANGE_BROKER_CONNECT_TIMEOUT
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except broker_errors() as exc:
        logger.warning("broker unreachable: %s", exc)
        raise BrokerUnavailable() from exc
    finally:
        client.close()


def send(task, *args, **kwargs) -> bool:
    """Publish one task; False (logged) when the broker cannot take it."""
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except broker_errors() as exc:
        logger.warning(
            "%s%r not queued (broker away: %s); its recovery job queues it again",
            task.name,
            args or kwargs,
            exc,
        )
        return False
    return True


def send_each(
    task, arguments: Iterable[tuple], on_unsent: Callable[[list], None] | None = None
) -> list[tuple]:
    """Publish `task(*args)` for each tuple until the broker refuses one; return those sent.

    Stops at the first refusal (the rest would only wait out the same connect
    timeout) and hands the tuples not sent to `on_unsent`, so their rows can
    be marked for the recovery job.
    """
    arguments = list(arguments)
    sent: list[tuple] = []
    for args in arguments:
        if not send(task, *args):
            break
        sent.append(args)
    if on_unsent is not None and len(sent) < len(arguments):
        on_unsent(arguments[len(sent) :])
    return sent


def send_after_commit(
    task, arguments: Iterable[tuple], on_unsent: Callable[[list], None] | None = None
) -> None:
    """`send_each` once the current transaction commits (at once outside one)."""
    arguments = list(arguments)
    transaction.on_commit(lambda: send_each(task, arguments, on_unsent))


def send_now(task, *args, **kwargs):
    """Publish a task that has no row of its own; BrokerUnavailable (503) if it cannot go."""
    broker_check()
    try:
        return task.apply_async(args=args, kwargs=kwargs)
    except broker_errors() as exc:
        raise BrokerUnavailable() from exc
