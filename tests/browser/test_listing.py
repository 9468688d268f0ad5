"""Scenario 2 (from a saved draft): the owner submits its product from the product's page;
an operator reviews it in the admin, ticks the checklists and approves it."""

from products.models import Product
from tests.browser.pages import sign_in
from tests.browser.world import trading_world


def test_the_owner_submits_a_draft_and_an_operator_approves_it(steps):
    # given a draft product with a plan, saved by its owner
    world = trading_world()
    Product.objects.filter(pk=world.product.pk).update(
        status="draft", registration_number=None, listed_at=None
    )
    steps.allow(*world.typed())
    product_page = f"/admin/products/product/{world.product.pk}/change/"
    # when the owner submits it for review from the product's page
    owner = steps.person()
    sign_in(steps, owner, world.seller_owner.username)
    owner.goto(product_page)
    steps.shot(owner, "draft")
    owner.click("#step-submit input[type=submit]")
    owner.wait_for_load_state()
    steps.shot(owner, "submitted")
    assert Product.objects.get(pk=world.product.pk).status == "submitted"
    # and an operator ticks the checklists and approves it
    desk = steps.person()
    sign_in(steps, desk, world.operator.username)
    desk.goto(f"/admin/products/product/{world.product.pk}/review/")
    steps.shot(desk, "review")
    for box in desk.query_selector_all("input[type=checkbox]"):
        box.check()
    desk.fill("textarea[name=comments], input[name=comments]", "材料齐全，同意上架")
    desk.click("input[name=_approve]")
    desk.wait_for_load_state()
    # then the product is listed with its registration number
    product = Product.objects.get(pk=world.product.pk)
    assert product.status == "listed"
    steps.allow(product.registration_number or "")
    steps.shot(desk, "listed")
    owner.goto(product_page)
    steps.shot(owner, "listed-owner")
