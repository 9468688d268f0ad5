"""The market list's kept pages: the same page again is a kept one; a change shows at once."""

import pytest
from django.core.cache import caches
from django.urls import reverse
from rest_framework.test import APIClient

from products.models import Product
from tests.factories.products import PlanFactory, ProductFactory

pytestmark = pytest.mark.django_db
LIST = reverse("market-product-list")


@pytest.fixture(autouse=True)
def market_cache_on(settings):
    settings.EXCHANGE_MARKET_CACHE_SECONDS = 60
    caches["market"].clear()
    yield
    caches["market"].clear()


def _titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_the_same_page_again_is_the_kept_one(merchant_b_api, merchant_a):
    ProductFactory(provider=merchant_a, title="Rainfall by county")
    first = merchant_b_api.get(LIST, {"ordering": "title"})
    again = merchant_b_api.get(LIST, {"ordering": "title"})
    assert first.status_code == again.status_code == 200
    assert "X-Market-Cache" not in first
    assert again["X-Market-Cache"] == "hit"
    assert again.content == first.content
    assert again["Content-Type"] == "application/json"
    # another page address is built afresh
    assert "X-Market-Cache" not in merchant_b_api.get(LIST, {"ordering": "-title"})


def test_a_saved_product_or_new_plan_shows_at_once(merchant_b_api, merchant_a):
    product = Product.objects.get(
        pk=ProductFactory(provider=merchant_a, title="Rainfall by county").pk
    )
    assert _titles(merchant_b_api.get(LIST)) == ["Rainfall by county"]
    product.title = "Rainfall by township"
    product.save()
    response = merchant_b_api.get(LIST)
    assert "X-Market-Cache" not in response
    assert _titles(response) == ["Rainfall by township"]
    plan = PlanFactory(product=product, price_fen=12_34)
    row = merchant_b_api.get(LIST).json()["results"][0]
    assert plan.pk in [p["id"] for p in row["plans"]]


def test_a_kept_page_is_never_shown_to_a_caller_not_signed_in(merchant_b_api, merchant_a):
    ProductFactory(provider=merchant_a)
    merchant_b_api.get(LIST)
    assert merchant_b_api.get(LIST)["X-Market-Cache"] == "hit"
    stranger = APIClient()
    assert stranger.get(LIST).status_code in (401, 403)
    tokenless = APIClient(HTTP_AUTHORIZATION="Token not-a-token")
    assert tokenless.get(LIST).status_code in (401, 403)


def test_refusals_and_the_browsable_page_are_not_kept(merchant_b_api, merchant_a):
    ProductFactory(provider=merchant_a)
    for _ in range(2):
        refused = merchant_b_api.get(LIST, {"grade": "secret"})
        assert refused.status_code == 400
        assert "X-Market-Cache" not in refused
    for _ in range(2):
        page = merchant_b_api.get(LIST, HTTP_ACCEPT="text/html")
        assert page.status_code == 200
        assert "X-Market-Cache" not in page


def test_each_language_has_its_own_kept_page(merchant_b_api, merchant_a):
    ProductFactory(provider=merchant_a)
    merchant_b_api.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = merchant_b_api.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    assert "X-Market-Cache" not in english
    assert merchant_b_api.get(LIST, HTTP_ACCEPT_LANGUAGE="en")["X-Market-Cache"] == "hit"


def test_off_when_its_seconds_are_zero(merchant_b_api, merchant_a, settings):
    settings.EXCHANGE_MARKET_CACHE_SECONDS = 0
    ProductFactory(provider=merchant_a)
    merchant_b_api.get(LIST)
    assert "X-Market-Cache" not in merchant_b_api.get(LIST)
