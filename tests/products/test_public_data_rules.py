"""Products built on public data (公共数据) are checked by publicdata.rules on submit,
on approval and when a plan is priced; each problem is a 400 naming its field."""

import pytest

from core.exceptions import BusinessRuleViolation
from products import services
from products.models import Product
from tests.factories.products import ALL_TICKED
from tests.factories.publicdata import GrantFactory, ScenarioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def grant(owner_a, industry):
    return GrantFactory(grantee=owner_a.merchant, industry=industry, fee_ceiling_fen=1000_00)


def _public_draft(make_draft, owner, grant, **kwargs):
    return make_draft(
        owner, source_kind="public", grant=grant, delivery_mode="api", price_fen=500_00, **kwargs
    )


def test_a_public_data_product_with_its_grant_and_scenario_is_listed(
    owner_a, operator, grant, make_draft
):
    product = _public_draft(make_draft, owner_a, grant)
    services.product_update(
        actor=owner_a, product=product, scenarios=[ScenarioFactory(grant=grant)]
    )
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    product = services.product_approve(actor=operator, product=product, **ALL_TICKED)
    assert product.status == "listed"


def test_submitting_without_a_scenario_is_refused_naming_scenarios(owner_a, grant, make_draft):
    product = _public_draft(make_draft, owner_a, grant)
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_submit(actor=owner_a, product=product)
    assert err.value.field == "scenarios"
    assert Product.objects.get(pk=product.pk).status == "draft"


def test_raw_file_delivery_of_public_data_is_refused_on_submit(owner_a, grant, make_draft):
    product = _public_draft(make_draft, owner_a, grant)
    services.product_update(
        actor=owner_a,
        product=product,
        delivery_mode="file",
        scenarios=[ScenarioFactory(grant=grant)],
    )
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_submit(actor=owner_a, product=product)
    assert err.value.field == "delivery_mode"


def test_a_plan_above_the_grants_fee_ceiling_is_refused_when_priced(owner_a, grant, make_draft):
    product = _public_draft(make_draft, owner_a, grant)
    with pytest.raises(BusinessRuleViolation) as err:
        services.plan_create(actor=owner_a, product=product, kind="one_off", price_fen=2000_00)
    assert err.value.field == "price_fen"
    assert product.plans.count() == 1


def test_approval_is_refused_when_the_grant_stopped_being_active(
    owner_a, operator, grant, make_draft
):
    product = _public_draft(make_draft, owner_a, grant)
    services.product_update(
        actor=owner_a, product=product, scenarios=[ScenarioFactory(grant=grant)]
    )
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    type(grant).objects.filter(pk=grant.pk).update(status="suspended")
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_approve(actor=operator, product=product, **ALL_TICKED)
    assert err.value.field == "grant"
    assert Product.objects.get(pk=product.pk).status == "in_review"


def test_the_api_answers_a_public_data_problem_with_a_400_naming_the_field(
    merchant_a_api, owner_a, grant, make_draft
):
    product = _public_draft(make_draft, owner_a, grant)
    response = merchant_a_api.post(f"/api/v1/products/{product.pk}/submit/")
    assert response.status_code == 400
    assert "scenarios" in response.json()


def test_an_own_data_product_naming_a_grant_is_refused(owner_a, grant, make_draft):
    product = make_draft(owner_a, source_kind="own", grant=grant)
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_submit(actor=owner_a, product=product)
    assert err.value.field == "grant"


def test_a_merchant_names_grant_and_scenarios_through_the_api_and_submits(
    merchant_a_api, owner_a, grant, industry
):
    # given an authorized scenario under the merchant's grant
    scenario = ScenarioFactory(grant=grant)
    # when the merchant creates a public-data draft naming both, prices it and submits
    from tests.factories.products import MANUAL

    created = merchant_a_api.post(
        "/api/v1/products/",
        {"title": "Parking forecast", "industry": industry.code, "delivery_mode": "api",
         "source_kind": "public", "grant": grant.pk, "scenarios": [scenario.pk], **MANUAL},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    assert created.json()["scenarios"] == [scenario.pk]
    priced = merchant_a_api.post(
        "/api/v1/plans/", {"product": product_id, "kind": "one_off", "price": "20000.00"},
        format="json",
    )  # fmt: skip
    # then a price above the grant's ceiling (1000 yuan) is refused, one below accepted
    assert priced.status_code == 400
    assert "price_fen" in priced.json()
    cheaper = merchant_a_api.post(
        "/api/v1/plans/",
        {"product": product_id, "kind": "one_off", "price": "800.00"},
        format="json",
    )
    assert cheaper.status_code == 201
    submitted = merchant_a_api.post(f"/api/v1/products/{product_id}/submit/")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
