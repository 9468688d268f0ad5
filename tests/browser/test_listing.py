"""Scenario 2: the owner lists a product with a plan on the admin's one-page create form,
reads the plan's price as saved, submits it from the product's page; an operator reviews it
in the admin, ticks the checklists and approves it."""

from products.models import PricingPlan, Product
from tests.browser.pages import sign_in
from tests.browser.world import MANUAL_ZH, trading_world

TITLE = "湖南逐日土壤墒情"
PLAN = "年度订阅"


def fill_product_form(steps, page, industry_pk: int) -> None:
    """The product's add page: its description, then one plan in the inline below it."""
    page.goto("/admin/products/product/add/")
    steps.shot(page, "add-product")
    page.fill("#id_title", TITLE)
    page.fill("#id_summary", "全省 1 公里网格逐日土壤含水量")
    for field, text in MANUAL_ZH.items():
        page.fill(f"#id_{field}", text)
    page.select_option("#id_industry", str(industry_pk))
    page.select_option("#id_source_kind", "own")
    page.select_option("#id_grade", "general")
    page.select_option("#id_delivery_mode", "file")
    page.fill("#id_volume_bytes", "5000000000")
    page.fill("#id_tags", "土壤, 墒情")
    # the plan: a row of the inline, added as a person adds it
    page.click("#plans-group .add-row a")
    page.fill("#id_plans-0-name", PLAN)
    page.select_option("#id_plans-0-kind", "subscription")
    page.select_option("#id_plans-0-period", "year")
    page.fill("#id_plans-0-price", "12800.50")
    steps.shot(page, "add-product-filled")
    # the one-page form, plans included, fits a 1280 px screen
    assert page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    page.click("input[name=_continue]")
    page.wait_for_url("**/change/**")


def test_the_owner_lists_a_product_with_a_plan_and_an_operator_approves_it(steps):
    # given a merchant's owner and an operator, who can both sign in
    world = trading_world()
    steps.allow(*world.typed())
    # when the owner creates the product with its plan on one page
    owner = steps.person()
    sign_in(steps, owner, world.seller_owner.username)
    fill_product_form(steps, owner, world.industry.pk)
    product = Product.objects.get(title=TITLE)
    plan = PricingPlan.objects.get(product=product)
    assert (product.provider, product.status) == (world.seller, "draft")
    assert (plan.name, plan.kind, plan.period, plan.price_fen) == (
        PLAN,
        "subscription",
        "year",
        1_280_050,
    )
    # then its page shows the plan's price as saved, in yuan
    steps.shot(owner, "draft")
    assert owner.input_value("#id_plans-0-price") == "12800.50"
    # when the owner submits it for review from the product's page
    owner.click("#step-submit input[type=submit]")
    owner.wait_for_load_state()
    steps.shot(owner, "submitted")
    assert Product.objects.get(pk=product.pk).status == "submitted"
    # and an operator ticks the checklists and approves it
    desk = steps.person()
    sign_in(steps, desk, world.operator.username)
    desk.goto("/admin/products/product/?status__exact=submitted")
    steps.shot(desk, "review-queue")
    desk.click(f"a[href='/admin/products/product/{product.pk}/review/']")
    desk.wait_for_load_state()
    steps.shot(desk, "review")
    for box in desk.query_selector_all("input[type=checkbox]"):
        box.check()
    desk.fill("textarea[name=comments], input[name=comments]", "材料齐全，同意上架")
    desk.click("input[name=_approve]")
    desk.wait_for_load_state()
    # then the product is listed with its registration number, and its price reads in yuan
    product.refresh_from_db()
    assert product.status == "listed"
    steps.allow(product.registration_number or "")
    steps.shot(desk, "listed")
    owner.goto(f"/admin/products/product/{product.pk}/change/")
    steps.shot(owner, "listed-owner")
    assert "¥12,800.50" in owner.inner_text("#plans-group")
