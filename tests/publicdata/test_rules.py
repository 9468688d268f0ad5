"""The listing preconditions products ask about (publicdata.rules)."""

import datetime as dt

import pytest
from django.utils import timezone

from publicdata.rules import plan_price_problems, product_listing_problems, scenario_in_force
from tests.factories.accounts import MerchantFactory
from tests.factories.products import IndustryFactory, PlanFactory, ProductFactory
from tests.factories.publicdata import GrantFactory, ScenarioFactory
from tests.publicdata.conftest import make_public_product

pytestmark = pytest.mark.django_db


def fields_of(problems):
    return sorted(field for field, _message in problems)


def test_a_sound_public_data_product_may_be_listed(public_product):
    # given a product meeting every rule  # when asked  # then no problem
    assert product_listing_problems(public_product) == []


def test_public_data_product_without_a_grant_is_refused(merchant_a):
    product = ProductFactory(status="draft", provider=merchant_a, source_kind="public", grant=None)
    assert fields_of(product_listing_problems(product)) == ["grant"]


def test_only_the_grantee_may_use_the_grant(grant, scenario, merchant_b):
    # given a product of merchant B naming merchant A's grant
    product = make_public_product(grant, scenario)
    product.provider = merchant_b
    product.save()
    # when / then
    problems = product_listing_problems(product)
    assert fields_of(problems) == ["grant"]
    assert "被授权方" in problems[0][1]


def test_product_industry_must_be_the_grants(grant, scenario):
    product = make_public_product(grant, scenario)
    product.industry = IndustryFactory(code="finance")
    product.save()
    assert fields_of(product_listing_problems(product)) == ["industry"]


@pytest.mark.parametrize("status", ["pending", "suspended", "revoked", "expired"])
def test_grant_must_be_active(grant, scenario, status):
    product = make_public_product(grant, scenario)
    grant.status = status
    grant.save()
    problems = product_listing_problems(product)
    assert "grant" in fields_of(problems)
    assert any(str(grant.pk) in message for _f, message in problems)


def test_grant_window_must_cover_now(merchant_a):
    # given an active grant whose window has not begun
    grant = GrantFactory(
        grantee=merchant_a,
        valid_from=timezone.now() + dt.timedelta(days=1),
        valid_until=timezone.now() + dt.timedelta(days=30),
    )
    product = make_public_product(grant, ScenarioFactory(grant=grant))
    # then both the grant and the scenario's window are named
    assert fields_of(product_listing_problems(product)) == ["grant", "scenarios"]


def test_product_must_name_a_scenario(grant):
    product = make_public_product(grant)
    assert fields_of(product_listing_problems(product)) == ["scenarios"]


@pytest.mark.parametrize("status", ["proposed", "assessed", "failed", "expired"])
def test_every_named_scenario_must_be_authorized(grant, scenario, status):
    other = ScenarioFactory(grant=grant, status=status)
    product = make_public_product(grant, scenario, other)
    problems = product_listing_problems(product)
    assert fields_of(problems) == ["scenarios"]
    assert str(other.pk) in problems[0][1]


def test_scenario_of_another_grant_is_refused(grant, scenario, merchant_a):
    foreign = ScenarioFactory(grant=GrantFactory(grantee=merchant_a))
    product = make_public_product(grant, scenario, foreign)
    problems = product_listing_problems(product)
    assert fields_of(problems) == ["scenarios"]
    assert "另一项授权" in problems[0][1]


def test_scenario_authorization_window_must_cover_now(grant, scenario):
    scenario.authorization.valid_until = timezone.now() - dt.timedelta(minutes=1)
    scenario.authorization.valid_from = timezone.now() - dt.timedelta(days=2)
    scenario.authorization.save()
    product = make_public_product(grant, scenario)
    assert fields_of(product_listing_problems(product)) == ["scenarios"]


def test_raw_file_delivery_is_refused(grant, scenario):
    product = make_public_product(grant, scenario, delivery_mode="file")
    problems = product_listing_problems(product)
    assert fields_of(problems) == ["delivery_mode"]
    assert "原始数据不出域" in problems[0][1]


@pytest.mark.parametrize("mode", ["api", "report", "model", "privacy_computing"])
def test_results_delivery_modes_are_allowed(grant, scenario, mode):
    product = make_public_product(grant, scenario, delivery_mode=mode)
    assert product_listing_problems(product) == []


def test_plan_above_fee_ceiling_blocks_listing(public_product, grant):
    # given a plan one fen above the ceiling and one exactly at it
    PlanFactory(product=public_product, price_fen=grant.fee_ceiling_fen + 1)
    PlanFactory(product=public_product, price_fen=grant.fee_ceiling_fen)
    # then only the first is named
    problems = product_listing_problems(public_product)
    assert fields_of(problems) == ["price_fen"]
    assert "收费上限" in problems[0][1]


def test_plan_off_sale_does_not_block_listing(public_product, grant):
    PlanFactory(product=public_product, price_fen=grant.fee_ceiling_fen + 1, is_active=False)
    assert product_listing_problems(public_product) == []


def test_metered_unit_price_counts_against_the_ceiling(public_product, grant):
    plan = PlanFactory.build(
        product=public_product,
        kind="metered",
        price_fen=0,
        unit_price_fen=grant.fee_ceiling_fen + 1,
    )
    assert fields_of(plan_price_problems(public_product, plan)) == ["unit_price_fen"]


def test_public_interest_scenario_forces_price_zero(grant, scenario):
    free = ScenarioFactory(grant=grant, purpose="public_interest")
    product = make_public_product(grant, scenario, free)
    paid = PlanFactory(product=product, price_fen=1)
    # then the paid plan is refused, a free one is fine
    assert fields_of(plan_price_problems(product, paid)) == ["price_fen"]
    assert fields_of(product_listing_problems(product)) == ["price_fen"]
    assert plan_price_problems(product, PlanFactory.build(product=product, price_fen=0)) == []


def test_plan_rules_do_not_apply_to_own_data_products(merchant_a):
    product = ProductFactory(status="draft", provider=merchant_a, source_kind="own")
    plan = PlanFactory.build(product=product, price_fen=10**12)
    assert plan_price_problems(product, plan) == []


def test_non_public_product_naming_a_grant_or_scenarios_is_refused(grant, scenario):
    product = make_public_product(grant, scenario)
    product.source_kind = "own"
    product.save()
    assert fields_of(product_listing_problems(product)) == ["grant", "scenarios"]


def test_own_data_product_has_no_public_data_problems(merchant_a):
    product = ProductFactory(
        status="draft", provider=merchant_a, source_kind="own", delivery_mode="file"
    )
    assert product_listing_problems(product) == []


def test_unsaved_public_product_is_judged_without_scenarios(grant):
    product = ProductFactory.build(
        provider=grant.grantee, industry=grant.industry, source_kind="public", grant=grant
    )
    assert fields_of(product_listing_problems(product)) == ["scenarios"]


class TestScenarioInForce:
    def test_authorized_scenario_inside_its_window_is_in_force(self, scenario):
        assert scenario_in_force(scenario)

    def test_not_in_force_before_or_after_its_window(self, scenario):
        auth = scenario.authorization
        assert not scenario_in_force(scenario, at=auth.valid_from - dt.timedelta(seconds=1))
        assert not scenario_in_force(scenario, at=auth.valid_until)  # half-open window
        assert scenario_in_force(scenario, at=auth.valid_from)

    @pytest.mark.parametrize("grant_status", ["pending", "suspended", "revoked", "expired"])
    def test_not_in_force_unless_grant_active(self, scenario, grant_status):
        scenario.grant.status = grant_status
        scenario.grant.save()
        assert not scenario_in_force(scenario)

    @pytest.mark.parametrize("status", ["proposed", "assessed", "failed"])
    def test_not_in_force_without_authorization(self, grant, status):
        assert not scenario_in_force(ScenarioFactory(grant=grant, status=status))

    def test_not_in_force_with_failed_assessment_even_if_marked_authorized(self, grant):
        scenario = ScenarioFactory(grant=grant)
        scenario.assessment.verdict = "fail"
        scenario.assessment.save()
        assert not scenario_in_force(scenario)


def test_merchant_fixture_is_distinct():
    # guards the fixtures above: two merchants never share a credit code
    assert MerchantFactory().credit_code != MerchantFactory().credit_code
