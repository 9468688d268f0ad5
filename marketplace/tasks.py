"""Scheduled trading jobs. Thin: each calls one service, idempotent by its data."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from marketplace.services.idempotency import idempotency_keys_purge
from marketplace.services.orders import orders_auto_accept
from marketplace.services.subscriptions import subscriptions_renew
from marketplace.services.usage import month_start, usage_bill_month


@shared_task(acks_late=True)
def orders_auto_accept_task() -> str:
    """Accept orders delivered EXCHANGE_AUTO_ACCEPT_DAYS ago (each re-checked under its lock)."""
    return f"{orders_auto_accept()} order(s) accepted automatically"


@shared_task(acks_late=True)
def subscriptions_renew_task(within_days: int = 7) -> str:
    """Renew subscriptions ending soon; the unique renewal link makes re-runs harmless."""
    return f"{subscriptions_renew(within_days=within_days)} subscription(s) renewed"


@shared_task(acks_late=True)
def usage_bill_month_task(month: str | None = None) -> str:
    """Bill a month's metered usage (ISO date in the month; default: last month).

    One order per (plan, buyer, month), unique in the database, so a re-run bills nothing twice.
    """
    if month:
        first = month_start(dt.date.fromisoformat(month))
    else:
        first = month_start(month_start(timezone.localdate()) - dt.timedelta(days=1))
    from delivery.services.gateway import gateway_usage_book

    # The gateway's counts become usage records first, so the bill charges them.
    booked = gateway_usage_book(month=first)
    summary = f"{usage_bill_month(month=first)} usage bill(s) for {first:%Y-%m}"
    return summary + (f" ({booked} from the gateway's counts)" if booked else "")


@shared_task(acks_late=True)
def idempotency_keys_purge_task() -> str:
    """Forget order-creation idempotency keys older than 24 hours."""
    return f"{idempotency_keys_purge()} idempotency key(s) purged"
