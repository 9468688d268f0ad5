"""Scenarios: 一场景一评估一授权, one scenario, one assessment, one authorization."""

import datetime as dt

import pytest
from django.utils import timezone

from core.exceptions import BusinessRuleViolation, Conflict
from publicdata import services
from publicdata.models import ScenarioAssessment, ScenarioAuthorization
from publicdata.rules import scenario_in_force
from tests.factories.publicdata import GrantFactory, ScenarioFactory

pytestmark = pytest.mark.django_db


def assess(scenario, verdict="pass", **kwargs):
    return services.scenario_assess(
        actor=None,
        scenario=scenario,
        assessor=kwargs.pop("assessor", "Hunan data security assessment centre"),
        assessed_on=kwargs.pop("assessed_on", timezone.localdate()),
        risk_findings=kwargs.pop("risk_findings", "Aggregates only; no personal records."),
        verdict=verdict,
    )


def authorize(scenario, *, start=None, end=None, document_number="HNSJ-2026-001"):
    grant = scenario.grant
    return services.scenario_authorize(
        actor=None,
        scenario=scenario,
        document_number=document_number,
        valid_from=start or grant.valid_from,
        valid_until=end or grant.valid_until,
    )


@pytest.fixture
def proposed(grant, operator):
    return services.scenario_create(
        actor=operator, grant=grant, name="Static traffic", purpose="industry"
    )


def test_proposed_scenario_awaits_assessment_and_is_not_in_force(proposed):
    assert proposed.status == "proposed"
    assert not scenario_in_force(proposed)
    assert proposed.events.get().to_status == "proposed"


def test_pass_then_authorize_puts_the_scenario_in_force(proposed):
    # when assessed with a pass and authorized over the grant's window
    assess(proposed)
    authorize(proposed)
    # then it is in force and every step is recorded
    proposed.refresh_from_db()
    assert proposed.status == "authorized"
    assert scenario_in_force(proposed)
    assert list(proposed.events.values_list("to_status", flat=True)) == [
        "proposed",
        "assessed",
        "authorized",
    ]


def test_a_failed_assessment_ends_the_scenario(proposed):
    assess(proposed, verdict="fail", risk_findings="Re-identification risk")
    proposed.refresh_from_db()
    assert proposed.status == "failed"
    with pytest.raises(Conflict) as exc:
        authorize(proposed)
    assert exc.value.code == "not_assessed"
    assert not ScenarioAuthorization.objects.filter(scenario=proposed).exists()


def test_each_scenario_is_assessed_once(proposed):
    assess(proposed, verdict="fail")
    with pytest.raises(Conflict) as exc:
        assess(proposed, verdict="pass")
    assert exc.value.code == "already_assessed"
    assert "新场景" in exc.value.message
    assert ScenarioAssessment.objects.get(scenario=proposed).verdict == "fail"


def test_retrying_means_a_new_scenario(proposed, grant):
    assess(proposed, verdict="fail")
    retry = services.scenario_create(
        actor=None, grant=grant, name="Static traffic (second attempt)", purpose="industry"
    )
    assess(retry)
    authorize(retry)
    retry.refresh_from_db()
    assert retry.status == "authorized"


def test_no_authorization_without_an_assessment(proposed):
    with pytest.raises(Conflict) as exc:
        authorize(proposed)
    assert exc.value.code == "not_assessed"


def test_each_scenario_is_authorized_once(proposed):
    assess(proposed)
    authorize(proposed)
    with pytest.raises(Conflict) as exc:
        authorize(proposed, document_number="HNSJ-2026-002")
    assert exc.value.code == "already_authorized"
    assert ScenarioAuthorization.objects.filter(scenario=proposed).count() == 1


@pytest.mark.parametrize(
    ("start_shift", "end_shift", "field"),
    [
        (dt.timedelta(seconds=-1), dt.timedelta(0), "valid_from"),
        (dt.timedelta(0), dt.timedelta(seconds=1), "valid_until"),
    ],
)
def test_authorization_window_must_lie_inside_the_grants(
    proposed, grant, start_shift, end_shift, field
):
    assess(proposed)
    with pytest.raises(BusinessRuleViolation) as exc:
        authorize(proposed, start=grant.valid_from + start_shift, end=grant.valid_until + end_shift)
    assert exc.value.field == field
    proposed.refresh_from_db()
    assert proposed.status == "assessed"


def test_authorization_window_must_not_be_empty(proposed, grant):
    assess(proposed)
    with pytest.raises(BusinessRuleViolation) as exc:
        authorize(proposed, start=grant.valid_until, end=grant.valid_until)
    assert exc.value.field == "valid_until"


def test_no_authorization_under_a_revoked_grant(proposed, grant):
    assess(proposed)
    services.grant_revoke(actor=None, grant=grant, reason="breach")
    with pytest.raises(BusinessRuleViolation) as exc:
        authorize(proposed)
    assert exc.value.field == "grant"


def test_assessment_dated_in_the_future_is_refused(proposed):
    with pytest.raises(BusinessRuleViolation) as exc:
        assess(proposed, assessed_on=timezone.localdate() + dt.timedelta(days=1))
    assert exc.value.field == "assessed_on"
    proposed.refresh_from_db()
    assert proposed.status == "proposed"


def test_scenarios_are_proposed_only_under_a_live_grant(merchant_a):
    for status in ("suspended", "revoked", "expired"):
        with pytest.raises(BusinessRuleViolation):
            services.scenario_create(
                actor=None,
                grant=GrantFactory(grantee=merchant_a, status=status),
                name="x",
                purpose="industry",
            )


def test_authorized_scenario_outside_its_window_is_not_in_force(grant):
    scenario = ScenarioFactory(grant=grant)
    later = scenario.authorization.valid_until + dt.timedelta(seconds=1)
    assert not scenario_in_force(scenario, at=later)
