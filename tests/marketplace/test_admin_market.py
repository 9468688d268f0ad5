"""The market in the admin: every provider's listed products, filtered, and ordering a plan."""

import pytest
from django.urls import reverse

from marketplace.models import Order
from tests.factories.accounts import MerchantFactory
from tests.factories.marketplace import listed_product
from tests.factories.products import BoardFactory, IndustryFactory, PlanFactory, ProductFactory

pytestmark = pytest.mark.django_db
MARKET = reverse("admin:market")


def product_url(product):
    return reverse("admin:market_product", args=[product.pk])


def listed_titles(response):
    return [row["product"].title for row in response.context["rows"]]


def test_the_market_lists_every_providers_listed_products_only(client, owner_a):
    # given listed products of two providers, and a draft
    mine = listed_product(provider=owner_a.merchant, title="My weather")
    theirs = listed_product(title="Their traffic")
    ProductFactory(status="draft", title="Their draft")
    client.force_login(owner_a)
    # when the merchant opens the market
    response = client.get(MARKET)
    # then listed products of every provider show, never a draft
    assert response.status_code == 200
    assert sorted(listed_titles(response)) == sorted([mine.title, theirs.title])


def test_the_market_filters_by_board_industry_delivery_mode_and_price(client, owner_a):
    weather = BoardFactory(code="weather")
    transport = IndustryFactory(code="transport")
    wanted = listed_product(board=weather, industry=transport, delivery_mode="api")
    PlanFactory(product=wanted, kind="one_off", price_fen=50_00)
    wanted.refresh_from_db()
    listed_product(board=weather, industry=transport, delivery_mode="file")
    listed_product(industry=transport, delivery_mode="api")
    dear = listed_product(board=weather, industry=transport, delivery_mode="api")
    PlanFactory(product=dear, kind="one_off", price_fen=5000_00)
    client.force_login(owner_a)
    # when filtering on all four
    response = client.get(
        MARKET,
        {
            "board": weather.pk,
            "industry": transport.pk,
            "delivery_mode": "api",
            "price_min": "10",
            "price_max": "100.00",
        },
    )
    # then only the product that fits every filter is listed
    assert listed_titles(response) == [wanted.title]


def test_a_bad_price_filter_is_named_and_lists_everything(client, owner_a):
    listed_product()
    client.force_login(owner_a)
    response = client.get(MARKET, {"price_min": "lots"})
    assert response.status_code == 200
    assert "price_min" in response.context["form"].errors
    assert len(listed_titles(response)) == 1


def test_a_merchant_orders_a_plan_from_the_product_page(client, owner_a):
    # given another provider's listed product with a one-off plan of 120 yuan
    product = listed_product(provider=MerchantFactory())
    plan = PlanFactory(product=product, kind="one_off", price_fen=120_00)
    client.force_login(owner_a)
    page = client.get(product_url(product))
    assert "120.00" in page.content.decode()
    # when it orders two
    response = client.post(product_url(product), {"plan": plan.pk, f"plan{plan.pk}-quantity": "2"})
    # then the order is placed for its merchant, and it lands on the order's page
    order = Order.objects.get()
    assert (order.buyer, order.seller, order.amount_fen) == (
        owner_a.merchant,
        product.provider,
        240_00,
    )
    assert order.status == "pending_payment"
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:marketplace_order_change", args=[order.pk])


def test_a_merchant_cannot_order_its_own_product(client, owner_a):
    product = listed_product(provider=owner_a.merchant)
    plan = PlanFactory(product=product, kind="one_off", price_fen=1_00)
    client.force_login(owner_a)
    page = client.get(product_url(product))
    assert page.context["own"]
    assert not page.context["can_order"]
    response = client.post(product_url(product), {"plan": plan.pk, f"plan{plan.pk}-quantity": "1"})
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_a_bad_quantity_is_a_form_error_and_places_nothing(client, owner_a):
    product = listed_product()
    plan = PlanFactory(product=product, kind="one_off", price_fen=1_00)
    client.force_login(owner_a)
    response = client.post(
        product_url(product), {"plan": plan.pk, f"plan{plan.pk}-quantity": "100000"}
    )
    assert response.status_code == 200
    form = next(r["form"] for r in response.context["plans"] if r["plan"] == plan)
    assert "quantity" in form.errors
    assert not Order.objects.exists()


def test_a_product_that_is_not_listed_does_not_open_in_the_market(client, owner_a):
    draft = ProductFactory(status="draft")
    client.force_login(owner_a)
    assert client.get(product_url(draft)).status_code == 404


def test_the_market_is_for_signed_in_roles_only(client):
    product = listed_product()
    assert client.get(MARKET).status_code == 302
    assert client.get(product_url(product)).status_code == 302


def test_public_data_is_ordered_for_an_authorized_scenario_picked_on_the_page(client, owner_a):
    # given a listed product built on public data, serving one authorized scenario
    from tests.factories.publicdata import GrantFactory, ScenarioFactory

    seller = MerchantFactory()
    grant = GrantFactory(grantee=seller, revenue_share_bps=1500)
    scenario = ScenarioFactory(grant=grant, name="Retail site selection")
    product = listed_product(
        provider=seller, source_kind="public", grant=grant, industry=grant.industry
    )
    product.scenarios.add(scenario)
    plan = PlanFactory(product=product, kind="one_off", price_fen=500_00)
    client.force_login(owner_a)
    page = client.get(product_url(product))
    form = next(r["form"] for r in page.context["plans"] if r["plan"] == plan)
    assert list(form.fields["scenario"].queryset) == [scenario]
    # when ordering without naming the scenario
    client.post(product_url(product), {"plan": plan.pk, f"plan{plan.pk}-quantity": "1"})
    # then nothing is placed
    assert not Order.objects.exists()
    # and with the scenario picked the order carries it, and its contract says so
    client.post(
        product_url(product),
        {"plan": plan.pk, f"plan{plan.pk}-quantity": "1", f"plan{plan.pk}-scenario": scenario.pk},
    )
    order = Order.objects.get()
    assert order.scenario == scenario
    order_page = client.get(reverse("admin:marketplace_order_change", args=[order.pk]))
    contract = {str(label): value for label, value in order_page.context["order_contract"]}
    assert contract["授权场景"] == "Retail site selection"
    assert contract["部门收益分成比例"] == "15%"
