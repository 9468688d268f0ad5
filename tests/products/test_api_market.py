import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories.products import PlanFactory, ProductFactory

pytestmark = pytest.mark.django_db
LIST = reverse("market-product-list")


def test_buyers_see_every_providers_listed_products_with_plans_on_sale(merchant_b_api, merchant_a):
    # given a listed product of merchant A with one plan on sale and one withdrawn
    product = ProductFactory(provider=merchant_a)
    on_sale = PlanFactory(product=product, price_fen=12_34)
    PlanFactory(product=product, is_active=False)
    # when merchant B browses the market
    body = merchant_b_api.get(LIST).json()
    # then it sees the offer and only the plan on sale, priced in yuan
    row = next(r for r in body["results"] if r["id"] == product.pk)
    assert [p["id"] for p in row["plans"]] == [on_sale.pk]
    assert row["plans"][0]["price"] == "12.34"
    assert "reviews" not in row
    assert "events" not in row


@pytest.mark.parametrize("status", ["draft", "submitted", "in_review", "suspended", "delisted"])
def test_unlisted_products_are_not_in_the_market(merchant_b_api, merchant_a, status):
    product = ProductFactory(provider=merchant_a, status=status)
    ids = {r["id"] for r in merchant_b_api.get(LIST).json()["results"]}
    assert product.pk not in ids
    detail = merchant_b_api.get(reverse("market-product-detail", args=[product.pk]))
    assert detail.status_code == 404


def test_the_market_is_read_only(merchant_b_api, merchant_a):
    product = ProductFactory(provider=merchant_a)
    url = reverse("market-product-detail", args=[product.pk])
    assert merchant_b_api.post(LIST, {}, format="json").status_code == 405
    assert merchant_b_api.patch(url, {"title": "mine now"}, format="json").status_code == 405
    assert merchant_b_api.delete(url).status_code == 405
    product.refresh_from_db()
    assert product.title != "mine now"


def test_anonymous_visitors_are_refused(api_client):
    assert api_client(None).get(LIST).status_code == 401


def test_a_market_page_costs_the_same_statements_however_many_products_it_shows(
    merchant_b_api, merchant_a, django_assert_max_num_queries
):
    # given a page of one listed product, counted, and then a page of twelve
    PlanFactory(product=ProductFactory(provider=merchant_a))
    with CaptureQueriesContext(connection) as one:
        assert merchant_b_api.get(LIST).status_code == 200
    for _ in range(11):
        PlanFactory(product=ProductFactory(provider=merchant_a))
    # then the longer page runs no statement per product (plans, scenarios and
    # recognised registrations are fetched once per page)
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = merchant_b_api.get(LIST).json()
    assert len(body["results"]) == 12
