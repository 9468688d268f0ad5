"""Suspending or exiting a merchant suspends its listed products; reinstating brings them back.

Driven end to end through the merchants API actions (accounts), which call
products.services.products_follow_merchant_status.
"""

import pytest

from products import services
from products.models import Product

pytestmark = pytest.mark.django_db


def _merchant_action(operator_api, merchant, verb):
    response = operator_api.post(
        f"/api/v1/merchants/{merchant.pk}/{verb}/", {"reason": "test"}, format="json"
    )
    assert response.status_code == 200, response.content
    return response


def test_suspending_a_merchant_suspends_its_listed_products_and_reinstating_restores_them(
    operator_api, operator, owner_a, merchant_a, make_listed, make_draft
):
    # given two listed products, one already suspended by an operator, and a draft
    kept = make_listed(owner_a, title="kept")
    held = make_listed(owner_a, title="held by operator")
    services.product_suspend(actor=operator, product=held, reason="complaint")
    draft = make_draft(owner_a, title="draft")
    # when the merchant is suspended through the API
    _merchant_action(operator_api, merchant_a, "suspend")
    # then its listed product is suspended because of the merchant
    kept.refresh_from_db()
    assert (kept.status, kept.suspension_cause) == ("suspended", "merchant")
    assert Product.objects.get(pk=held.pk).suspension_cause == "operator"
    assert Product.objects.get(pk=draft.pk).status == "draft"
    # when it is reinstated
    _merchant_action(operator_api, merchant_a, "reinstate")
    # then only the product it suspended comes back
    kept.refresh_from_db()
    assert (kept.status, kept.suspension_cause) == ("listed", "")
    assert Product.objects.get(pk=held.pk).status == "suspended"


def test_an_exited_merchants_products_stay_suspended(
    operator_api, owner_a, merchant_a, make_listed
):
    product = make_listed(owner_a)
    _merchant_action(operator_api, merchant_a, "exit")
    product.refresh_from_db()
    assert (product.status, product.suspension_cause) == ("suspended", "merchant")


def test_lifting_an_operator_suspension_while_the_merchant_is_suspended_hands_over_the_cause(
    operator_api, operator, owner_a, merchant_a, make_listed
):
    # given a product suspended by an operator, then its merchant suspended
    product = make_listed(owner_a)
    services.product_suspend(actor=operator, product=product, reason="complaint")
    _merchant_action(operator_api, merchant_a, "suspend")
    # when the operator lifts their suspension
    response = operator_api.post(
        f"/api/v1/products/{product.pk}/reinstate/", {"reason": "resolved"}, format="json"
    )
    # then it is refused: the provider is not active
    assert response.status_code == 400
    assert "provider" in response.json()
    # and reinstating the merchant does not bring back an operator's suspension
    _merchant_action(operator_api, merchant_a, "reinstate")
    assert Product.objects.get(pk=product.pk).status == "suspended"


def test_a_product_in_review_of_a_suspended_merchant_cannot_be_approved(
    operator_api, operator, owner_a, merchant_a, make_draft
):
    product = make_draft(owner_a)
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    _merchant_action(operator_api, merchant_a, "suspend")
    from tests.factories.products import ALL_TICKED

    response = operator_api.post(
        f"/api/v1/products/{product.pk}/approve/", ALL_TICKED, format="json"
    )
    assert response.status_code == 400
    assert "provider" in response.json()
