import datetime as dt

import pytest
from django.utils import timezone

from marketplace import tasks
from marketplace.models import Order, OrderIdempotencyKey, UsageRecord
from marketplace.services.idempotency import idempotency_keys_purge
from tests.factories.marketplace import delivered, pay, place
from tests.factories.products import PlanFactory

pytestmark = pytest.mark.django_db


def test_auto_accept_task_reports_what_it_did(buyer, plan):
    order = delivered(buyer, plan)
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - dt.timedelta(days=30))
    assert tasks.orders_auto_accept_task.delay().get() == "1 order(s) accepted automatically"


def test_renew_task(buyer, product):
    plan = PlanFactory(product=product, kind="subscription", period="year", price_fen=1_000_00)
    order = pay(place(buyer, plan))
    Order.objects.filter(pk=order.pk).update(period_end=timezone.localdate())
    assert tasks.subscriptions_renew_task.delay().get() == "1 subscription(s) renewed"


def test_usage_bill_task_defaults_to_last_month(seller, buyer, product):
    plan = PlanFactory(product=product, kind="metered", price_fen=0, unit_price_fen=100)
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    UsageRecord.objects.create(
        seller=seller,
        buyer=buyer,
        plan=plan,
        record_id="r",
        calls=3,
        used_at=timezone.make_aware(dt.datetime.combine(last_month, dt.time(23, 59))),
    )
    result = tasks.usage_bill_month_task.delay().get()
    assert result == f"1 usage bill(s) for {last_month:%Y-%m}"
    assert Order.objects.get(plan=plan).amount_fen == 3_00


def test_keys_are_kept_a_day_then_purged(buyer):
    # given a key from 23 hours ago and one from 25 hours ago
    fresh = OrderIdempotencyKey.objects.create(merchant=buyer, key="a", request_hash="0")
    old = OrderIdempotencyKey.objects.create(merchant=buyer, key="b", request_hash="0")
    now = timezone.now()
    OrderIdempotencyKey.objects.filter(pk=fresh.pk).update(created_at=now - dt.timedelta(hours=23))
    OrderIdempotencyKey.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(hours=25))
    # when
    assert idempotency_keys_purge() == 1
    # then
    assert list(OrderIdempotencyKey.objects.values_list("key", flat=True)) == ["a"]
    assert tasks.idempotency_keys_purge_task.delay().get() == "0 idempotency key(s) purged"


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_accepts_and_a_second_run_changes_nothing(celery_worker_process):
    # given an order delivered 30 days ago (committed: the worker is another process)
    from tests.factories.accounts import MerchantFactory
    from tests.factories.marketplace import listed_product

    plan = PlanFactory(product=listed_product(), price_fen=10_00)
    order = delivered(MerchantFactory(), plan)
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - dt.timedelta(days=30))
    # when the daily task runs twice through Redis
    first = celery_worker_process.run("marketplace.tasks.orders_auto_accept_task")
    second = celery_worker_process.run("marketplace.tasks.orders_auto_accept_task")
    # then
    assert (first, second) == (
        "1 order(s) accepted automatically",
        "0 order(s) accepted automatically",
    )
    order.refresh_from_db()
    assert order.status == "accepted"
    assert order.events.filter(to_status="accepted").count() == 1
