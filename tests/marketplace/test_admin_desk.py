"""A merchant's landing page: what waits on it, its balances and its next payout."""

import pytest
from django.urls import reverse

from products.models import PricingPlan
from settlements.choices import AccountKind
from settlements.services.ledger import account_get
from tests.factories.marketplace import delivered, pay, person_of, place
from tests.factories.products import ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")


def tile(desk, key):
    return next(t for t in [*desk.orders, *desk.products] if t.key == key)


def test_the_desk_shows_what_waits_on_each_side(client, buyer, seller, plan):
    # given an order to deliver, one to accept and one to pay
    to_deliver = pay(place(buyer, plan))
    to_accept = delivered(buyer, plan)
    to_pay = place(buyer, plan)
    place(plan=plan)  # another buyer's order: the seller's to deliver only once paid
    # when the seller opens the admin index
    client.force_login(person_of(seller))
    seller_desk = client.get(INDEX).context["desk"]
    # then its sales to deliver are listed with a link to act
    assert tile(seller_desk, "to_deliver").orders == [to_deliver]
    assert tile(seller_desk, "to_accept").count == 0
    # and the buyer's desk shows the delivery to accept and the order to pay
    client.force_login(person_of(buyer))
    page = client.get(INDEX)
    buyer_desk = page.context["desk"]
    assert tile(buyer_desk, "to_accept").orders == [to_accept]
    assert tile(buyer_desk, "to_pay").orders == [to_pay]
    assert tile(buyer_desk, "to_deliver").count == 0
    html = page.content.decode()
    assert reverse("admin:marketplace_order_change", args=[to_accept.pk]) in html
    assert reverse("admin:market") in html


def test_the_desk_counts_the_merchants_own_products_by_status(client, owner_a, merchant_b):
    # given drafts, a listed product and one returned by the reviewers
    ProductFactory(provider=owner_a.merchant, status="draft")
    returned = ProductFactory(provider=owner_a.merchant, status="draft")
    ReviewFactory(product=returned, verdict="rejected", comments="Add the station list.")
    ProductFactory(provider=owner_a.merchant, status="listed")
    ProductFactory(provider=merchant_b, status="listed")
    # when the owner opens the admin
    client.force_login(owner_a)
    desk = client.get(INDEX).context["desk"]
    # then only its own products are counted
    assert tile(desk, "draft").count == 2
    assert tile(desk, "listed").count == 1
    assert tile(desk, "returned").count == 1
    assert "status__exact=draft" in tile(desk, "draft").url


def test_the_desk_shows_escrow_and_payable_in_yuan(client, buyer, plan):
    # given a paid order: its amount is held in the buyer's escrow
    pay(place(buyer, plan))
    client.force_login(person_of(buyer))
    # when the buyer opens the admin
    page = client.get(INDEX)
    # then the escrow balance reads in yuan, with a link to its statement
    balances = {b.kind: b for b in page.context["desk"].balances}
    escrow = balances[AccountKind.MERCHANT_ESCROW]
    assert escrow.balance_fen == plan.price_fen
    assert "120.00" in page.content.decode()
    account = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=buyer)
    assert escrow.statement_url == reverse(
        "admin:settlements_ledgeraccount_statement", args=[account.pk]
    )
    assert balances[AccountKind.MERCHANT_PAYABLE].balance_fen == 0
    assert page.context["desk"].next_payout is None


def test_operators_keep_the_plain_index(client, operator):
    client.force_login(operator)
    page = client.get(INDEX)
    assert page.status_code == 200
    assert "desk" not in page.context


def test_the_desk_never_counts_another_merchants_orders(client, buyer, seller, plan, owner_b):
    # given orders between two other merchants
    pay(place(buyer, plan))
    delivered(buyer, plan)
    PricingPlan.objects.filter(pk=plan.pk).update(is_active=True)
    # when a third merchant opens its desk
    client.force_login(owner_b)
    desk = client.get(INDEX).context["desk"]
    # then nothing of theirs is counted
    assert all(t.count == 0 for t in desk.orders)
    assert all(b.balance_fen == 0 for b in desk.balances)
