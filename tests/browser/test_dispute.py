"""Scenario 4: a buyer disputes a delivered order; an operator resolves it with a refund."""

from marketplace.models import Order
from tests.browser.pages import run_action, sign_in
from tests.browser.world import trading_world
from tests.factories.marketplace import delivered

ORDERS = "/admin/marketplace/order/"


def test_a_buyer_disputes_a_delivery_and_an_operator_refunds_it(steps):
    # given a delivered order between two merchants
    world = trading_world()
    order = delivered(world.buyer, world.plan)
    references = order.payment_notifications.values_list("channel_reference", flat=True)
    steps.allow(*world.typed(), order.number, order.delivery_note, *references)
    # when the buyer opens a dispute on it in the admin, with a reason
    buyer = steps.person()
    sign_in(steps, buyer, world.buyer_owner.username)
    buyer.goto(f"{ORDERS}{order.pk}/change/")
    steps.shot(buyer, "order-delivered")
    run_action(steps, buyer, ORDERS, order.pk, "open_dispute", reason="交付的数据缺少 2024 年记录")
    order.refresh_from_db()
    assert order.is_disputed
    # and an operator resolves it by refunding the buyer
    desk = steps.person()
    sign_in(steps, desk, world.operator.username)
    desk.goto(f"{ORDERS}{order.pk}/change/")
    steps.shot(desk, "order-disputed")
    run_action(steps, desk, ORDERS, order.pk, "resolve_refund", reason="卖方确认数据不完整")
    # then the order is refunded and both sides read its history in Chinese
    order = Order.objects.get(pk=order.pk)
    assert order.status == "refunded"
    assert order.refunded_fen == order.amount_fen
    buyer.goto(f"{ORDERS}{order.pk}/change/")
    steps.shot(buyer, "order-refunded-buyer")
    assert "退款给买方" in buyer.inner_text("body")
    seller = steps.person()
    sign_in(steps, seller, world.seller_owner.username)
    seller.goto(f"{ORDERS}{order.pk}/change/")
    steps.shot(seller, "order-refunded-seller")
