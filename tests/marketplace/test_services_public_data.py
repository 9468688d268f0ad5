"""一场景一评估一授权: public data is sold only for an authorized scenario of the product."""

import pytest

from core.exceptions import BusinessRuleViolation
from marketplace.models import Order
from marketplace.services import subscriptions
from tests.factories.marketplace import listed_product, pay, place
from tests.factories.products import PlanFactory
from tests.factories.publicdata import GrantFactory, ScenarioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def grant(seller):
    return GrantFactory(grantee=seller, revenue_share_bps=1500)


@pytest.fixture
def scenario(grant):
    return ScenarioFactory(grant=grant, name="Retail site selection")


@pytest.fixture
def public_plan(seller, grant, scenario):
    product = listed_product(
        provider=seller, source_kind="public", grant=grant, industry=grant.industry
    )
    product.scenarios.add(scenario)
    return PlanFactory(product=product, price_fen=500_00)


def test_order_carries_grant_scenario_department_and_share(buyer, public_plan, grant, scenario):
    # when
    order = place(buyer, public_plan, scenario=scenario)
    # then
    assert (order.grant, order.scenario, order.department) == (grant, scenario, grant.department)
    assert order.department_share_bps == 1500
    public = order.contract["public_data"]
    assert public["scenario"]["name"] == "Retail site selection"
    assert public["department"]["code"] == grant.department.code
    assert public["revenue_share_bps"] == 1500


def test_no_scenario_no_trade(buyer, public_plan):
    with pytest.raises(BusinessRuleViolation) as exc:
        place(buyer, public_plan)
    assert exc.value.field == "scenario"
    assert not Order.objects.exists()


def test_a_scenario_the_product_does_not_serve_is_refused(buyer, public_plan, grant):
    other = ScenarioFactory(grant=grant)
    with pytest.raises(BusinessRuleViolation) as exc:
        place(buyer, public_plan, scenario=other)
    assert exc.value.code == "not_served"


def test_a_scenario_of_another_grant_is_refused(buyer, public_plan):
    with pytest.raises(BusinessRuleViolation) as exc:
        place(buyer, public_plan, scenario=ScenarioFactory())
    assert exc.value.code == "wrong_grant"


def test_a_scenario_not_in_force_is_refused(buyer, public_plan, scenario):
    # given the grant is suspended, so the scenario is no longer in force
    grant = scenario.grant
    grant.status = "suspended"
    grant.save()
    with pytest.raises(BusinessRuleViolation) as exc:
        place(buyer, public_plan, scenario=scenario)
    assert exc.value.code == "not_in_force"


def test_an_unassessed_scenario_is_refused(buyer, public_plan, grant):
    proposed = ScenarioFactory(grant=grant, status="proposed")
    public_plan.product.scenarios.add(proposed)
    with pytest.raises(BusinessRuleViolation) as exc:
        place(buyer, public_plan, scenario=proposed)
    assert exc.value.code == "not_in_force"


def test_naming_a_scenario_for_ordinary_data_is_refused(buyer, plan, scenario):
    with pytest.raises(BusinessRuleViolation) as exc:
        place(buyer, plan, scenario=scenario)
    assert exc.value.field == "scenario"


def test_a_renewal_keeps_the_scenario_while_it_is_in_force(buyer, seller, grant, scenario):
    product = listed_product(
        provider=seller, source_kind="public", grant=grant, industry=grant.industry
    )
    product.scenarios.add(scenario)
    plan = PlanFactory(product=product, kind="subscription", period="month", price_fen=10_00)
    order = pay(place(buyer, plan, scenario=scenario))
    renewal = subscriptions.order_renew(actor=None, order=order)
    assert (renewal.scenario, renewal.department_share_bps) == (scenario, 1500)
    grant.status = "revoked"
    grant.save()
    assert subscriptions.order_renew(actor=None, order=renewal) is None


def test_the_api_names_the_missing_scenario(api_client, buyer, public_plan, scenario):
    from django.urls import reverse

    from tests.factories.marketplace import person_of

    client = api_client(person_of(buyer))
    url = reverse("order-list")
    missing = client.post(url, {"plan": public_plan.pk}, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert missing.status_code == 400
    assert "scenario" in missing.json()
    named = client.post(
        url, {"plan": public_plan.pk, "scenario": scenario.pk}, format="json",
        HTTP_IDEMPOTENCY_KEY="b",
    )  # fmt: skip
    assert named.status_code == 201, named.content
    assert named.json()["scenario"] == scenario.pk
