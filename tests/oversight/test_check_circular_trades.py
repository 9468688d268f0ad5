"""Circular trades: two merchants selling to each other within the window, counted per pair."""

import datetime as dt

import pytest
from django.utils import timezone

from oversight.services import checks
from tests.factories.accounts import MerchantFactory
from tests.factories.marketplace import OrderFactory, listed_product
from tests.factories.products import PlanFactory

pytestmark = pytest.mark.django_db


def _sale(seller, buyer, paid_at):
    return OrderFactory(
        buyer=buyer, plan=PlanFactory(product=listed_product(provider=seller)), paid_at=paid_at
    )


def _found() -> dict[tuple[int, int], int]:
    return {
        (p.objects[0]["id"], p.objects[1]["id"]): p.details["matched_orders"]
        for p in checks.check_circular_trades()
    }


def test_only_sales_matched_within_the_window_count(settings):
    settings.EXCHANGE_CIRCULAR_TRADE_DAYS = 30
    now = timezone.now()
    a, b = sorted([MerchantFactory(), MerchantFactory()], key=lambda m: m.pk)
    _sale(a, b, now)  # matched by b's sale 12 days later
    _sale(a, b, now - dt.timedelta(days=80))  # no sale of b within 30 days of it
    _sale(b, a, now + dt.timedelta(days=12))
    # a pair selling one way only, and an unpaid reverse order, are no circle
    c, d = MerchantFactory(), MerchantFactory()
    _sale(c, d, now)
    _sale(d, c, None)
    assert _found() == {(a.pk, b.pk): 1}


def test_sales_further_apart_than_the_window_are_no_circle(settings):
    settings.EXCHANGE_CIRCULAR_TRADE_DAYS = 10
    now = timezone.now()
    a, b = MerchantFactory(), MerchantFactory()
    _sale(a, b, now)
    _sale(b, a, now - dt.timedelta(days=11))
    assert _found() == {}


def test_many_circles_are_all_found_in_order(settings, monkeypatch):
    settings.EXCHANGE_CIRCULAR_TRADE_DAYS = 30
    monkeypatch.setattr(checks, "_PAIRS_PER_STATEMENT", 2)
    now = timezone.now()
    expected = {}
    for _ in range(5):
        a, b = sorted([MerchantFactory(), MerchantFactory()], key=lambda m: m.pk)
        _sale(a, b, now)
        _sale(a, b, now - dt.timedelta(days=3))
        _sale(b, a, now - dt.timedelta(days=1))
        expected[(a.pk, b.pk)] = 2
    found = checks.check_circular_trades()
    assert {
        (p.objects[0]["id"], p.objects[1]["id"]): p.details["matched_orders"] for p in found
    } == expected
    assert [p.objects[0]["id"] for p in found] == sorted(a for a, _b in expected)
