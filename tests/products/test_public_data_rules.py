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


# -- another merchant's grant or scenario is refused like a missing one -------------


def _public_body(industry, **refs):
    from tests.factories.products import MANUAL

    return {"title": "Parking forecast", "industry": industry.code, "delivery_mode": "api",
            "source_kind": "public", **refs, **MANUAL}  # fmt: skip


def _refusal(response):
    body = response.json()
    # the message names the id given, so compare everything with the id taken out
    return (
        response.status_code,
        body["error_code"],
        [(item["field"], item["code"]) for item in body["errors"]],
    )


@pytest.mark.parametrize("field", ["grant", "scenarios"])
def test_another_merchants_grant_or_scenario_is_refused_on_create_like_a_missing_id(
    merchant_a_api, owner_b, industry, field
):
    # given merchant B's grant and scenario, and an id that names nothing
    theirs = GrantFactory(grantee=owner_b.merchant, industry=industry)
    scenario = ScenarioFactory(grant=theirs)
    target = theirs.pk if field == "grant" else scenario.pk
    missing = 10**9
    wrap = (lambda pk: pk) if field == "grant" else (lambda pk: [pk])
    # when merchant A creates a draft naming B's record, then the missing id
    refused = merchant_a_api.post(
        "/api/v1/products/", _public_body(industry, **{field: wrap(target)}), format="json"
    )
    absent = merchant_a_api.post(
        "/api/v1/products/", _public_body(industry, **{field: wrap(missing)}), format="json"
    )
    # then both are the same 400 naming the field, and no draft was made
    assert refused.status_code == 400, refused.content
    assert _refusal(refused) == _refusal(absent)
    assert _refusal(refused) == (400, "does_not_exist", [(field, "does_not_exist")])
    assert str(target) in refused.json()["detail"]
    assert not Product.objects.exists()


@pytest.mark.parametrize("field", ["grant", "scenarios"])
def test_another_merchants_grant_or_scenario_is_refused_on_patch(
    merchant_a_api, owner_a, owner_b, grant, industry, make_draft, field
):
    # given A's public draft under A's grant, and B's grant with a scenario
    product = _public_draft(make_draft, owner_a, grant)
    theirs = GrantFactory(grantee=owner_b.merchant, industry=industry)
    scenario = ScenarioFactory(grant=theirs)
    value = theirs.pk if field == "grant" else [scenario.pk]
    # when A points the draft at B's record
    response = merchant_a_api.patch(
        f"/api/v1/products/{product.pk}/", {field: value}, format="json"
    )
    # then it is refused at once and the draft keeps its grant and no scenario
    assert response.status_code == 400, response.content
    assert [item["field"] for item in response.json()["errors"]] == [field]
    product.refresh_from_db()
    assert product.grant_id == grant.pk
    assert not product.scenarios.exists()


def test_an_operator_cannot_give_a_draft_a_grant_its_provider_does_not_hold(
    operator, owner_a, owner_b, grant, industry, make_draft
):
    # given A's draft and B's grant
    product = _public_draft(make_draft, owner_a, grant)
    theirs = GrantFactory(grantee=owner_b.merchant, industry=industry)
    # when an operator (who sees every grant) names B's grant on A's draft
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_update(actor=operator, product=product, grant=theirs)
    # then the service refuses it like a missing id
    assert err.value.field == "grant"
    assert err.value.code == "does_not_exist"
