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


def test_the_market_page_reads_as_the_market_serializer_shows_each_product(
    merchant_b_api, merchant_a
):
    # given listed products with plans (one capped, one withdrawn), scenarios and a recognition
    import json

    from interchange.models import RegistrationRecognition
    from products.api.market import market_page, market_rows
    from products.api.serializers import MarketProductSerializer
    from products.api.views import MarketProductViewSet
    from tests.factories.interchange import PartnerRecordFactory
    from tests.factories.publicdata import ScenarioFactory

    first = ProductFactory(provider=merchant_a)
    PlanFactory(product=first, price_fen=12_34)
    PlanFactory(product=first, is_active=False)
    second = ProductFactory(provider=merchant_a, tags="weather, hourly")
    PlanFactory(product=second, kind="metered", price_fen=0, unit_price_fen=5, monthly_cap_fen=9_00)
    older, newer = ScenarioFactory(), ScenarioFactory()
    second.scenarios.add(older, newer)
    record = PartnerRecordFactory(publisher_credit_code=merchant_a.credit_code)
    RegistrationRecognition.objects.create(
        product=second,
        partner=record.partner,
        partner_record=record,
        registration_number=record.registration_number,
        status="recognised",
    )
    ProductFactory(provider=merchant_a)  # no plans at all
    # when the market's list reads them as plain rows, and the serializer reads them as models
    queryset = MarketProductViewSet().get_queryset().order_by("-listed_at", "-id")
    fast = market_page(list(market_rows(queryset)))
    slow = MarketProductSerializer(list(queryset), many=True).data
    # then both say the same, field for field, in the same order
    assert json.dumps(fast) == json.dumps(slow)
    assert [len(row["scenarios"]) for row in fast if row["id"] == second.pk] == [2]
    assert any(row["recognised_registrations"] for row in fast)
    # and the API's page is that list
    body = merchant_b_api.get(LIST).json()
    assert body["results"] == json.loads(json.dumps(slow))
