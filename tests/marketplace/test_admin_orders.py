import pytest
from django.db.models import F
from django.urls import reverse

from marketplace.models import Order
from tests.factories.marketplace import delivered, pay, person_of, place

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:marketplace_order_changelist")


def act(client, action, orders, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in orders], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_buyer_sees_purchases_and_seller_sees_sales(client, buyer, seller, plan):
    # given
    order = place(buyer, plan)
    place()  # strangers' order
    # then each side sees only this order, on its own side of the filter
    client.force_login(person_of(buyer))
    assert list(client.get(CHANGELIST).context["cl"].queryset) == [order]
    assert list(client.get(CHANGELIST, {"side": "sales"}).context["cl"].queryset) == []
    client.force_login(person_of(seller))
    assert list(client.get(CHANGELIST, {"side": "sales"}).context["cl"].queryset) == [order]
    page = client.get(reverse("admin:marketplace_order_change", args=[order.pk]))
    assert page.status_code == 200


def test_only_the_seller_delivers_from_the_admin(client, buyer, seller, plan):
    order = pay(place(buyer, plan))
    # when the buyer tries
    client.force_login(person_of(buyer))
    response = act(client, "deliver", [order])
    order.refresh_from_db()
    assert order.status == "paid"
    assert "只有卖方" in response.content.decode()
    # when the seller does
    client.force_login(person_of(seller))
    act(client, "deliver", [order], reason="files on the SFTP")
    order.refresh_from_db()
    assert (order.status, order.delivery_note) == ("delivered", "files on the SFTP")


def test_buyer_asks_for_a_partial_refund_and_disputes_from_the_admin(client, buyer, plan):
    order = delivered(buyer, plan)
    client.force_login(person_of(buyer))
    act(client, "request_refund", [order], reason="half missing", amount="60.00")
    assert order.refunds.get().amount_fen == 60_00
    act(client, "open_dispute", [order], reason="half missing")
    order.refresh_from_db()
    assert order.is_disputed


def test_bad_amount_in_the_admin_changes_nothing(client, buyer, plan):
    order = delivered(buyer, plan)
    client.force_login(person_of(buyer))
    response = act(client, "request_refund", [order], reason="x", amount="lots")
    assert "amount" in response.content.decode()
    assert not order.refunds.exists()


def test_operator_resolves_a_dispute_from_the_admin(client, operator, buyer, plan):
    order = delivered(buyer, plan)
    client.force_login(person_of(buyer))
    act(client, "open_dispute", [order], reason="wrong")
    client.force_login(operator)
    act(client, "resolve_refund", [order], reason="proven")
    order.refresh_from_db()
    assert (order.status, order.is_disputed) == ("refunded", False)
    assert Order.objects.count() == 1


def test_both_sides_read_the_orders_history_refunds_and_disputes_and_edit_none(
    client, buyer, seller, plan
):
    # given an order with a refund asked and a dispute opened
    order = delivered(buyer, plan)
    client.force_login(person_of(buyer))
    act(client, "request_refund", [order], reason="half missing", amount="60.00")
    act(client, "open_dispute", [order], reason="rows missing for March")
    page_url = reverse("admin:marketplace_order_change", args=[order.pk])
    for side in (buyer, seller):
        client.force_login(person_of(side))
        # when either side opens the order's page
        page = client.get(page_url)
        # then the status changes, the refund and the dispute are all on it
        shown = {
            inline.opts.model._meta.model_name: inline
            for inline in page.context["inline_admin_formsets"]
        }
        assert {"refund", "dispute"} <= set(shown)
        history = page.context["order_history"]
        status_changes = order.events.exclude(from_status=F("to_status")).count()
        assert [line["kind"] for line in history].count("status") == status_changes >= 2
        assert "rows missing for March" in page.content.decode()
        # and none of them can be edited, added to or deleted from there
        for inline in shown.values():
            assert not inline.has_add_permission
            assert not inline.has_change_permission
            assert not inline.has_delete_permission
