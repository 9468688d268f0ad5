"""The operators' landing page counts each queue and links to it; merchants are refused."""

import pytest
from django.urls import reverse

from tests.factories.accounts import PersonFactory
from tests.factories.products import ProductFactory

pytestmark = pytest.mark.django_db


def test_operator_desk_counts_the_queues_with_links(client, operator, merchant_a):
    # given two products waiting for review
    ProductFactory(provider=merchant_a, status="submitted")
    ProductFactory(provider=merchant_a, status="in_review")
    client.force_login(operator)
    # when
    page = client.get(reverse("operator-home"))
    # then
    assert page.status_code == 200
    queues = {str(q["title"]): q for q in page.context["queues"]}
    assert queues["产品待审核"]["count"] == 2
    assert client.get(queues["产品待审核"]["url"]).status_code == 200
    for queue in queues.values():
        assert client.get(queue["url"]).status_code == 200


def test_merchants_do_not_open_the_operator_desk(client, merchant_a):
    client.force_login(PersonFactory(merchant=merchant_a, merchant_role="owner"))
    assert client.get(reverse("operator-home")).status_code == 403


def test_operators_land_on_their_queues_above_the_models(client, operator):
    client.force_login(operator)
    response = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="operator-queues"' in page
    assert reverse("operator-home") in page
    assert "app-products" in page  # the list of models stays below
