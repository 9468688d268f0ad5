"""An order's page: the buyer pays (demo), accepts or disputes; the seller delivers; both read
its money, its contract and its history; nobody else opens it or moves it."""

import pytest
from django.urls import reverse

from marketplace.services import refunds
from tests.factories.accounts import MerchantFactory
from tests.factories.marketplace import delivered, pay, person_of, place

pytestmark = pytest.mark.django_db


def page_url(order):
    return reverse("admin:marketplace_order_change", args=[order.pk])


def move(client, order, name, reason="", **data):
    url = reverse("admin:marketplace_order_move", args=[order.pk, name])
    return client.post(url, {"reason": reason, **data}, follow=True)


def moves_on_page(client, order):
    return [m.name for m, _url in client.get(page_url(order)).context["order_moves"]]


def test_the_buyer_pays_from_the_page_in_the_demo(client, settings, buyer, plan):
    # given the local demo and an order waiting for payment
    settings.EXCHANGE_DEMO_PAYMENTS = True
    order = place(buyer, plan)
    client.force_login(person_of(buyer))
    assert moves_on_page(client, order) == ["pay", "cancel"]
    # when the buyer presses the simulate-payment button
    response = move(client, order, "pay")
    # then the order is paid through the notification path and the page says so
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.payment_notifications.count() == 1
    assert response.redirect_chain[-1][0] == page_url(order)


def test_without_the_demo_there_is_no_pay_button_and_posting_changes_nothing(
    client, settings, buyer, plan
):
    settings.EXCHANGE_DEMO_PAYMENTS = False
    order = place(buyer, plan)
    client.force_login(person_of(buyer))
    assert "pay" not in moves_on_page(client, order)
    move(client, order, "pay")
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_the_seller_delivers_and_the_buyer_accepts_from_the_page(client, buyer, seller, plan):
    # given a paid order
    order = pay(place(buyer, plan))
    # when the seller delivers from the order's page with a note
    client.force_login(person_of(seller))
    assert moves_on_page(client, order) == ["deliver"]
    move(client, order, "deliver", "files on the SFTP, folder 2026-12")
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order.delivery_note == "files on the SFTP, folder 2026-12"
    # then the buyer may accept or dispute, and accepts
    client.force_login(person_of(buyer))
    assert moves_on_page(client, order) == ["accept", "dispute", "request_refund"]
    move(client, order, "accept")
    order.refresh_from_db()
    assert order.status == "accepted"


def test_a_dispute_needs_a_reason(client, buyer, plan):
    order = delivered(buyer, plan)
    client.force_login(person_of(buyer))
    # when the buyer disputes without saying why
    move(client, order, "dispute", "  ")
    order.refresh_from_db()
    assert not order.is_disputed
    # and with a reason
    move(client, order, "dispute", "half the stations are missing")
    order.refresh_from_db()
    assert order.is_disputed
    assert order.disputes.get().reason == "half the stations are missing"
    assert moves_on_page(client, order) == []


def test_a_side_cannot_make_the_other_sides_move(client, buyer, seller, plan):
    order = delivered(buyer, plan)
    client.force_login(person_of(seller))
    response = move(client, order, "accept")
    order.refresh_from_db()
    assert order.status == "delivered"
    assert "只有买方" in response.content.decode()


def test_another_merchant_can_neither_open_nor_move_the_order(client, buyer, plan):
    order = pay(place(buyer, plan))
    client.force_login(person_of(MerchantFactory()))
    assert client.get(page_url(order)).status_code in (302, 404)
    url = reverse("admin:marketplace_order_move", args=[order.pk, "deliver"])
    assert client.post(url, {"reason": ""}).status_code == 404
    order.refresh_from_db()
    assert order.status == "paid"


def test_both_sides_read_the_history_contract_and_money_split(client, buyer, seller, plan):
    # given an order paid, delivered, partly refunded and disputed
    order = delivered(buyer, plan)
    refunds.order_refund_request(
        actor=person_of(buyer), order=order, amount_fen=20_00, reason="one file was empty"
    )
    for person in (person_of(buyer), person_of(seller)):
        client.force_login(person)
        # when each side opens the order's page
        page = client.get(page_url(order))
        # then the history tells every status change and the refund request
        history = page.context["order_history"]
        kinds = [line["kind"] for line in history]
        assert kinds.count("status") == 3  # placed, paid, delivered
        assert "refund" in kinds
        # the contract reads as labelled fields, money in yuan
        contract = {str(label): value for label, value in page.context["order_contract"]}
        assert contract["单价"] == "¥120.00"
        assert contract["卖方"].startswith("Xiang Weather Data Co.")
        assert contract["使用条款"] == "No resale; Hunan only."
        # and the split adds up to what stays after refunds
        money = dict((str(k), v) for k, v in page.context["order_money"])
        assert money["订单金额"] == "¥120.00"
        html = page.content.decode()
        assert "contract_snapshot" not in html
        assert '"plan":' not in html


def test_a_merchant_lists_its_orders_with_the_counterparty_not_both_parties(client, buyer, plan):
    place(buyer, plan)
    client.force_login(person_of(buyer))
    changelist = client.get(reverse("admin:marketplace_order_changelist"))
    columns = [
        c if isinstance(c, str) else c.__name__ for c in changelist.context["cl"].list_display
    ]
    assert "counterparty" in columns
    assert "buyer" not in columns
    assert len(columns) <= 7


def test_the_buyer_asks_for_a_refund_and_the_seller_grants_or_declines_it(
    client, buyer, seller, plan
):
    # given a delivered order of 120 yuan
    order = delivered(buyer, plan)
    client.force_login(person_of(buyer))
    # when the buyer asks for 20 yuan back from the order's page
    move(client, order, "request_refund", "one file was empty", amount="20.00")
    refund = order.refunds.get()
    assert (refund.amount_fen, refund.status) == (20_00, "requested")
    assert "request_refund" not in moves_on_page(client, order)
    # then the seller reads the request on the page and grants it
    client.force_login(person_of(seller))
    page = client.get(page_url(order))
    assert page.context["order_refund_request"] == refund
    assert [m.name for m, _u in page.context["order_moves"]] == ["grant_refund", "decline_refund"]
    move(client, order, "grant_refund")
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == "completed"
    assert order.refunded_fen == 20_00
    # and a second request is declined with a reason
    client.force_login(person_of(buyer))
    move(client, order, "request_refund", "and another", amount="10.00")
    client.force_login(person_of(seller))
    move(client, order, "decline_refund", "")
    assert order.refunds.filter(status="requested").count() == 1
    move(client, order, "decline_refund", "the file was complete")
    assert order.refunds.filter(status="declined").count() == 1


def test_a_bad_refund_amount_is_named_and_asks_nothing(client, buyer, plan):
    order = delivered(buyer, plan)
    client.force_login(person_of(buyer))
    response = move(client, order, "request_refund", "why", amount="lots")
    assert not order.refunds.exists()
    assert response.status_code == 200


def test_a_merchants_usage_list_names_the_counterparty(client, buyer, seller):
    from tests.factories.marketplace import _usage

    record = _usage(seller, buyer)
    client.force_login(person_of(buyer))
    changelist = client.get(reverse("admin:marketplace_usagerecord_changelist"))
    columns = [
        c if isinstance(c, str) else c.__name__ for c in changelist.context["cl"].list_display
    ]
    assert "counterparty" in columns
    assert "seller" not in columns
    assert "buyer" not in columns
    assert list(changelist.context["cl"].queryset) == [record]
    assert "Xiang Weather Data Co." in changelist.content.decode()
