"""Scenario 3: a merchant finds a product in the market, orders and pays; the seller
delivers; the buyer accepts."""

from marketplace.models import Order
from tests.browser.pages import order_move as move
from tests.browser.pages import sign_in
from tests.browser.world import trading_world


def test_a_merchant_buys_in_the_market_and_the_seller_delivers(steps, settings):
    # given a listed product of another merchant, and the local demo's payment button
    settings.EXCHANGE_DEMO_PAYMENTS = True
    world = trading_world()
    steps.allow(*world.typed())
    # when the buyer finds it in the market and orders its plan
    buyer = steps.person()
    sign_in(steps, buyer, world.buyer_owner.username)
    buyer.goto("/admin/market/")
    steps.shot(buyer, "market")
    buyer.click(f"text={world.product.title}")
    buyer.wait_for_load_state()
    steps.shot(buyer, "market-product")
    buyer.click(f"form:has(input[name=plan][value='{world.plan.pk}']) input[type=submit]")
    buyer.wait_for_load_state()
    order = Order.objects.get(buyer=world.buyer)
    steps.allow(order.number)
    # and pays through the local demo's payment channel
    move(steps, buyer, order, "pay")
    order.refresh_from_db()
    assert order.status == "paid"
    # then the seller delivers from the order's page and the buyer accepts
    seller = steps.person()
    sign_in(steps, seller, world.seller_owner.username)
    move(steps, seller, order, "deliver", reason="接口地址与密钥已在订单中发放")
    move(steps, buyer, order, "accept")
    order.refresh_from_db()
    assert order.status == "accepted"
