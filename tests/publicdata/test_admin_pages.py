"""Operators record grants and assess scenarios on admin pages, through the same services."""

import pytest
from django.urls import reverse

from publicdata.models import Grant
from tests.factories.products import IndustryFactory
from tests.factories.publicdata import DepartmentFactory, ScenarioFactory

pytestmark = pytest.mark.django_db


def test_operator_records_a_grant_and_a_refusal_names_the_field(client, operator, merchant_a):
    # given
    department, industry = DepartmentFactory(), IndustryFactory()
    url = reverse("admin:publicdata_grant_create")
    client.force_login(operator)
    form = {
        "department": department.pk,
        "industry": industry.pk,
        "grantee": merchant_a.pk,
        "valid_from": "2030-01-01 00:00",
        "valid_until": "2029-01-01 00:00",
        "revenue_share_bps": "1500",
        "fee_ceiling": "1000.50",
    }
    # when the window ends before it starts, then refused on the page, nothing recorded
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert refused.context["form"].errors
    assert not Grant.objects.exists()
    # when corrected
    done = client.post(url, {**form, "valid_until": "2031-01-01 00:00"})
    # then a pending grant, its ceiling in fen
    assert done.status_code == 302
    grant = Grant.objects.get()
    assert (grant.status, grant.fee_ceiling_fen) == ("pending", 100_050)


def test_operator_records_a_scenarios_assessment(client, operator):
    # given
    scenario = ScenarioFactory(status="proposed")
    url = reverse("admin:publicdata_scenario_assess", args=[scenario.pk])
    client.force_login(operator)
    # when
    done = client.post(
        url,
        {
            "assessor": "省数据局",
            "assessed_on": "2026-01-05",
            "risk_findings": "低风险",
            "verdict": "pass",
        },
    )
    # then
    assert done.status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == "assessed"
