import random

import pytest

from core.demo import DemoContext
from marketplace import demo
from marketplace.models import Order
from tests.factories.accounts import MerchantFactory, OperatorFactory
from tests.factories.marketplace import listed_product
from tests.factories.products import PlanFactory

pytestmark = pytest.mark.django_db


def test_demo_makes_orders_in_every_trading_status_through_the_services():
    # given merchants and listed products with one-off, subscription and metered plans
    merchants = [MerchantFactory() for _ in range(6)]
    products = []
    for i in range(24):
        product = listed_product(provider=merchants[i % 3])
        kind = ["one_off", "subscription", "one_off", "free"][i % 4]
        PlanFactory(product=product, kind=kind, period="month" if kind == "subscription" else "",
                    price_fen=0 if kind == "free" else 99_00)  # fmt: skip
        products.append(product)
    PlanFactory(product=products[0], kind="metered", price_fen=0, unit_price_fen=3)
    context = DemoContext(rng=random.Random(1), merchants=6, write=lambda s: None)
    context.made.update(merchants=merchants, products=products, operator=OperatorFactory())
    # when
    demo.seed(context)
    # then
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses >= {"pending_payment", "cancelled", "paid", "delivered", "accepted", "refunded"}
    assert Order.objects.filter(is_disputed=True).exists()
    assert Order.objects.filter(refunded_fen__gt=0, status="accepted").exists()
    assert Order.objects.filter(billed_month__isnull=False).exists()
    assert all(o.events.exists() for o in Order.objects.all())


def test_demo_without_products_skips_quietly():
    lines = []
    context = DemoContext(rng=random.Random(1), merchants=0, write=lines.append)
    context.made.update(merchants=[], products=[])
    demo.seed(context)
    assert not Order.objects.exists()
    assert lines
