"""Scenario 5: after clearing, both merchants read their balances and statement lines."""

from settlements.choices import AccountKind
from settlements.services.clearing import clearing_run_for_day
from settlements.services.ledger import account_get
from tests.browser.pages import sign_in
from tests.browser.world import trading_world
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders


def test_both_merchants_read_their_balances_and_statements(steps):
    # given two accepted orders of ¥12,345.00 cleared at a 3 % fee
    world = trading_world()
    default_fee(300)
    day = a_past_day()
    orders = make_accepted_orders(
        day=day, count=2, sellers=[world.seller], buyers=[world.buyer], amounts=[1_234_500]
    )
    clearing_run_for_day(business_date=day)
    steps.allow(*world.typed(), *(o.product.title for o in orders))
    payable = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=world.seller)
    escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=world.buyer)
    # when the seller opens its accounts and its payable account's statement
    seller = steps.person()
    sign_in(steps, seller, world.seller_owner.username)
    seller.goto("/admin/settlements/ledgeraccount/")
    steps.shot(seller, "seller-accounts")
    assert "¥23,949.30" in seller.inner_text("#result_list")
    seller.goto(f"/admin/settlements/ledgeraccount/{payable.pk}/statement/")
    steps.shot(seller, "seller-statement")
    # then the lines add up to the balance, in yuan
    statement = seller.inner_text("#content")
    assert "¥11,974.65" in statement
    assert "¥23,949.30" in statement
    # and the buyer's escrow is back to nothing once the sales are cleared
    buyer = steps.person()
    sign_in(steps, buyer, world.buyer_owner.username)
    buyer.goto(f"/admin/settlements/ledgeraccount/{escrow.pk}/statement/")
    steps.shot(buyer, "buyer-statement")
    text = buyer.inner_text("#content")
    assert "¥12,345.00" in text
    assert "¥0.00" in text
