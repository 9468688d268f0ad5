"""The API builds only the filters a query string names, and filters exactly as the whole set."""

from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.urls import reverse

from core.filters import filters_asked
from marketplace.filters import OrderFilter
from products.filters import ProductFilter
from products.models import Product
from tests.factories.products import IndustryFactory, PlanFactory, ProductFactory

pytestmark = pytest.mark.django_db
LIST = reverse("market-product-list")


def test_a_filterset_is_narrowed_to_the_names_asked_and_kept():
    narrowed = filters_asked(ProductFilter, ["grade", "ordering", "cursor"])
    assert list(narrowed.base_filters) == ["grade"]
    assert filters_asked(ProductFilter, ["cursor", "grade"]) is narrowed
    # a suffixed key keeps its filter; the whole set asked is the class itself
    assert "price_min" in filters_asked(ProductFilter, ["price_min_x"]).base_filters
    assert filters_asked(ProductFilter, list(ProductFilter.base_filters)) is ProductFilter
    assert filters_asked(OrderFilter, []).base_filters == {}


@pytest.fixture
def market(merchant_a):
    weather = IndustryFactory(code="weather")
    cheap = ProductFactory(provider=merchant_a, industry=weather, grade="general")
    PlanFactory(product=cheap, price_fen=3_00)
    dear = ProductFactory(provider=merchant_a, grade="important", delivery_mode="file")
    PlanFactory(product=dear, price_fen=900_00)
    Product.objects.filter(pk=cheap.pk).update(min_price_fen=3_00)
    Product.objects.filter(pk=dear.pk).update(min_price_fen=900_00)
    return cheap, dear


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"grade": "important"},
        {"industry": "weather"},
        {"delivery_mode": ["api", "file"]},
        {"delivery_mode": "file", "price_min": "10"},
        {"price_max": "5.00", "ordering": "title"},
        {"registration_number": "nobody's"},
        {"delisting_requested": "true"},
    ],
)
def test_the_market_filters_as_the_whole_filterset_does(merchant_b_api, market, query):
    listed = Product.objects.filter(status="listed")
    whole = ProductFilter(data=QueryDict(urlencode(query, doseq=True)), queryset=listed)
    assert whole.is_valid(), whole.errors
    expected = set(whole.qs.values_list("id", flat=True))
    response = merchant_b_api.get(LIST, query)
    assert response.status_code == 200, response.content
    assert {row["id"] for row in response.json()["results"]} == expected


def test_a_bad_value_of_a_filter_asked_is_still_refused_by_name(merchant_b_api, market):
    response = merchant_b_api.get(LIST, {"grade": "secret", "price_min": "cheap"})
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"grade", "price_min"}
