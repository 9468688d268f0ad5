"""Edits that go through services via the shared PATCH path (core.api.ServiceUpdateMixin)."""

import pytest
from django.urls import reverse

from tests.factories.products import PlanFactory, ProductFactory
from tests.factories.publicdata import CatalogEntryFactory, DepartmentFactory

pytestmark = pytest.mark.django_db


def test_operator_renames_a_department_and_a_merchant_cannot(operator_api, merchant_a_api):
    # given
    department = DepartmentFactory(name="Old name")
    url = reverse("department-detail", args=[department.pk])
    # when a merchant tries, then an operator does
    refused = merchant_a_api.patch(url, {"name": "Merchant's name"}, format="json")
    done = operator_api.patch(url, {"name": "Provincial Weather Bureau"}, format="json")
    # then only the operator's edit lands
    assert refused.status_code == 403
    assert done.status_code == 200, done.content
    assert done.json()["name"] == "Provincial Weather Bureau"
    department.refresh_from_db()
    assert department.name == "Provincial Weather Bureau"


def test_catalog_entry_edit_rejects_an_unknown_grade_naming_the_field(operator_api):
    entry = CatalogEntryFactory(grade="general")
    url = reverse("catalog-entry-detail", args=[entry.pk])
    bad = operator_api.patch(url, {"grade": "secret"}, format="json")
    good = operator_api.patch(url, {"grade": "important"}, format="json")
    assert bad.status_code == 400
    assert "grade" in bad.json()
    assert good.status_code == 200
    entry.refresh_from_db()
    assert entry.grade == "important"


def test_provider_edits_its_draft_and_another_merchant_gets_404(
    merchant_a, merchant_a_api, merchant_b_api
):
    product = ProductFactory(provider=merchant_a, status="draft", title="Draft title")
    url = reverse("product-detail", args=[product.pk])
    outsider = merchant_b_api.patch(url, {"title": "Taken over"}, format="json")
    owner = merchant_a_api.patch(url, {"title": "Hourly rainfall by county"}, format="json")
    assert outsider.status_code == 404
    assert owner.status_code == 200, owner.content
    product.refresh_from_db()
    assert product.title == "Hourly rainfall by county"


def test_provider_reprices_a_draft_plan_in_yuan(merchant_a, merchant_a_api, merchant_b_api):
    plan = PlanFactory(product=ProductFactory(provider=merchant_a, status="draft"), price_fen=100)
    url = reverse("plan-detail", args=[plan.pk])
    assert merchant_b_api.patch(url, {"price": "9.99"}, format="json").status_code == 404
    assert merchant_a_api.patch(url, {"price": "1.234"}, format="json").status_code == 400
    response = merchant_a_api.patch(url, {"price": "12.34"}, format="json")
    assert response.status_code == 200, response.content
    plan.refresh_from_db()
    assert plan.price_fen == 1234
