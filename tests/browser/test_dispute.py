"""Scenario 4: a buyer disputes a delivered order from the order's page, with its reason;
an operator resolves it in the admin with a refund."""

from marketplace.models import Order
from tests.browser.pages import order_move, run_action, sign_in
from tests.browser.world import trading_world
from tests.factories.marketplace import delivered

ORDERS = "/admin/marketplace/order/"
REASON = "交付的数据缺少 2024 年记录"


def test_a_buyer_disputes_a_delivery_and_an_operator_refunds_it(steps):
    # given a delivered order between two merchants
    world = trading_world()
    order = delivered(world.buyer, world.plan)
    references = order.payment_notifications.values_list("channel_reference", flat=True)
    steps.allow(*world.typed(), order.number, order.delivery_note, *references)
    # when the buyer opens a dispute with the order page's button, saying what is wrong
    buyer = steps.person()
    sign_in(steps, buyer, world.buyer_owner.username)
    order_move(steps, buyer, order, "dispute", reason=REASON)
    order.refresh_from_db()
    assert order.is_disputed
    assert order.disputes.get().reason == REASON
    assert REASON in buyer.inner_text("body")
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
