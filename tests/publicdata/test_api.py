"""Operators' endpoints for departments, catalog entries, grants and scenarios."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from publicdata.models import Department, Grant, Scenario
from tests.factories.products import IndustryFactory
from tests.factories.publicdata import (
    CatalogEntryFactory,
    DepartmentFactory,
    GrantFactory,
    ScenarioFactory,
)

pytestmark = pytest.mark.django_db
GRANTS = reverse("grant-list")
SCENARIOS = reverse("scenario-list")


def url(basename, obj, action=None):
    name = f"{basename}-{action}" if action else f"{basename}-detail"
    return reverse(name, args=[obj.pk])


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def grant_payload(department, industry, grantee, **overrides):
    start = timezone.now()
    return {
        "department": department.pk,
        "industry": industry.code,
        "grantee": grantee.pk,
        "valid_from": start.isoformat(),
        "valid_until": (start + dt.timedelta(days=365)).isoformat(),
        "revenue_share_bps": 1500,
        "fee_ceiling": "2000.00",
        **overrides,
    }


class TestDepartmentsAndCatalog:
    def test_operator_registers_a_department_and_an_entry(self, operator_api):
        response = operator_api.post(
            reverse("department-list"),
            {"code": "HN-GA", "name": "Public Security Department", "level": "province"},
            format="json",
        )
        assert response.status_code == 201, response.content
        department = Department.objects.get(code="HN-GA")
        entry = operator_api.post(
            reverse("catalog-entry-list"),
            {
                "department": department.pk,
                "code": "GA-0001",
                "name": "Vehicle registrations",
                "fields": "plate, type, registered_on",
                "grade": "important",
                "update_frequency": "daily",
            },
            format="json",
        )
        assert entry.status_code == 201, entry.content

    def test_duplicate_department_code_is_a_400_naming_code(self, operator_api):
        DepartmentFactory(code="HN-GA")
        response = operator_api.post(
            reverse("department-list"),
            {"code": "HN-GA", "name": "Again", "level": "province"},
            format="json",
        )
        assert response.status_code == 400
        body = response.json()
        assert [e["field"] for e in body["errors"]] == ["code"]
        assert "code" not in body

    def test_merchants_read_reference_data_but_do_not_write_it(self, merchant_a_api):
        department = DepartmentFactory()
        CatalogEntryFactory(department=department)
        assert ids(merchant_a_api.get(reverse("department-list"))) == {department.pk}
        assert merchant_a_api.get(reverse("catalog-entry-list")).status_code == 200
        refused = merchant_a_api.post(
            reverse("department-list"), {"code": "X", "name": "X", "level": "city"}, format="json"
        )
        assert refused.status_code == 403
        patched = merchant_a_api.patch(url("department", department), {"name": "Mine"})
        assert patched.status_code == 403

    def test_catalog_filters_by_department(self, operator_api):
        a, b = DepartmentFactory(), DepartmentFactory()
        entry = CatalogEntryFactory(department=a)
        CatalogEntryFactory(department=b)
        assert ids(operator_api.get(reverse("catalog-entry-list"), {"department": a.pk})) == {
            entry.pk
        }


class TestGrantsApi:
    def test_operator_creates_and_activates_a_grant(self, operator_api, merchant_a):
        department, industry = DepartmentFactory(), IndustryFactory()
        response = operator_api.post(
            GRANTS, grant_payload(department, industry, merchant_a), format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["status"], body["fee_ceiling"]) == ("pending", "2000.00")
        grant = Grant.objects.get(pk=body["id"])
        assert grant.fee_ceiling_fen == 2000_00
        activated = operator_api.post(url("grant", grant, "activate"), {}, format="json")
        assert activated.status_code == 200, activated.content
        assert activated.json()["status"] == "active"
        assert [e["to_status"] for e in activated.json()["events"]] == ["pending", "active"]

    def test_overlapping_grant_is_a_409_naming_the_grant_in_force(
        self, operator_api, merchant_a, merchant_b
    ):
        first = GrantFactory(grantee=merchant_a)
        response = operator_api.post(
            GRANTS, grant_payload(first.department, first.industry, merchant_b), format="json"
        )
        assert response.status_code == 409
        body = response.json()
        assert body["error_code"] == "grant_in_force"
        assert body["conflicting_grant"]["id"] == first.pk
        assert body["conflicting_grant"]["grantee"] == merchant_a.pk
        assert body["conflicting_grant"]["valid_until"]
        assert str(first.pk) in body["detail"]

    @pytest.mark.parametrize(
        ("override", "field"),
        [
            ({"fee_ceiling": "abc"}, "fee_ceiling"),
            ({"fee_ceiling": 12.5}, "fee_ceiling"),
            ({"fee_ceiling": "1" * 40}, "fee_ceiling"),
            ({"fee_ceiling": "-1.00"}, "fee_ceiling"),
            ({"revenue_share_bps": "lots"}, "revenue_share_bps"),
            ({"revenue_share_bps": 10**30}, "revenue_share_bps"),
            ({"grantee": 10**30}, "grantee"),
            ({"grantee": 999_999}, "grantee"),
            ({"department": "x"}, "department"),
            ({"valid_from": "yesterday"}, "valid_from"),
            ({"valid_until": "2000-01-01T00:00:00+08:00"}, "valid_until"),
            ({"entries": [10**30]}, "entries"),
            ({"reason": 1}, "reason"),
        ],
    )
    def test_garbage_is_a_400_naming_the_field(self, operator_api, merchant_a, override, field):
        payload = {**grant_payload(DepartmentFactory(), IndustryFactory(), merchant_a), **override}
        response = operator_api.post(GRANTS, payload, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json()
        assert not Grant.objects.exists()

    def test_missing_fields_are_named(self, operator_api):
        response = operator_api.post(GRANTS, {}, format="json")
        assert response.status_code == 400
        assert {"department", "industry", "grantee", "valid_from"} <= set(response.json())

    def test_suspend_needs_a_reason_and_revoking_twice_is_a_no_op(self, operator_api, merchant_a):
        grant = GrantFactory(grantee=merchant_a)
        assert operator_api.post(url("grant", grant, "suspend"), {}).status_code == 400
        first = operator_api.post(url("grant", grant, "revoke"), {"reason": "breach"})
        second = operator_api.post(url("grant", grant, "revoke"), {"reason": "breach"})
        assert (first.status_code, second.status_code) == (200, 200)
        assert grant.events.count() == 1
        reinstated = operator_api.post(url("grant", grant, "reinstate"), {"reason": "oops"})
        assert reinstated.status_code == 409

    @pytest.mark.parametrize("verb", ["activate", "suspend", "reinstate", "revoke"])
    def test_merchants_cannot_act_on_grants(self, merchant_a_api, merchant_a, verb):
        grant = GrantFactory(grantee=merchant_a)
        response = merchant_a_api.post(url("grant", grant, verb), {"reason": "self-service"})
        assert response.status_code == 403
        grant.refresh_from_db()
        assert grant.status == "active"

    def test_merchant_reads_only_its_own_grants(self, merchant_a_api, merchant_a, merchant_b):
        own = GrantFactory(grantee=merchant_a)
        other = GrantFactory(grantee=merchant_b)
        assert ids(merchant_a_api.get(GRANTS)) == {own.pk}
        assert merchant_a_api.get(url("grant", other)).status_code == 404
        refused = merchant_a_api.post(
            GRANTS, grant_payload(DepartmentFactory(), IndustryFactory(), merchant_a), format="json"
        )
        assert refused.status_code == 403

    def test_filters_on_department_industry_grantee_and_status(
        self, operator_api, merchant_a, merchant_b
    ):
        a = GrantFactory(grantee=merchant_a)
        b = GrantFactory(grantee=merchant_b, status="suspended")
        assert ids(operator_api.get(GRANTS, {"department": a.department_id})) == {a.pk}
        assert ids(operator_api.get(GRANTS, {"industry": b.industry.code})) == {b.pk}
        assert ids(operator_api.get(GRANTS, {"grantee": merchant_b.pk})) == {b.pk}
        assert ids(operator_api.get(GRANTS, {"status": "suspended"})) == {b.pk}
        assert ids(operator_api.get(GRANTS, {"status": ["active", "suspended"]})) == {a.pk, b.pk}
        assert operator_api.get(GRANTS, {"status": "bogus"}).status_code == 400
        assert operator_api.get(GRANTS, {"grantee": 10**30}).status_code == 400
        assert operator_api.get(GRANTS, {"industry": "x"}).status_code == 400

    def test_window_filters(self, operator_api, merchant_a):
        now = timezone.now()
        past = GrantFactory(
            grantee=merchant_a,
            valid_from=now - dt.timedelta(days=100),
            valid_until=now - dt.timedelta(days=50),
        )
        current = GrantFactory(grantee=merchant_a)
        today = timezone.localdate()
        assert ids(operator_api.get(GRANTS, {"active_on": today.isoformat()})) == {current.pk}
        sixty_days_ago = (today - dt.timedelta(days=60)).isoformat()
        assert ids(operator_api.get(GRANTS, {"active_on": sixty_days_ago})) == {past.pk}
        in_range = operator_api.get(
            GRANTS,
            {
                "window_from": (today - dt.timedelta(days=70)).isoformat(),
                "window_to": (today - dt.timedelta(days=40)).isoformat(),
            },
        )
        assert ids(in_range) == {past.pk}
        open_ended = operator_api.get(GRANTS, {"window_from": sixty_days_ago})
        assert ids(open_ended) == {past.pk, current.pk}
        assert operator_api.get(GRANTS, {"active_on": "not-a-date"}).status_code == 400

    def test_pending_grant_terms_change_and_active_ones_do_not(self, operator_api, merchant_a):
        department, industry = DepartmentFactory(), IndustryFactory()
        created = operator_api.post(
            GRANTS, grant_payload(department, industry, merchant_a), format="json"
        ).json()
        grant = Grant.objects.get(pk=created["id"])
        changed = operator_api.patch(url("grant", grant), {"fee_ceiling": "10.00"}, format="json")
        assert changed.status_code == 200, changed.content
        assert changed.json()["fee_ceiling"] == "10.00"
        operator_api.post(url("grant", grant, "activate"), {}, format="json")
        frozen = operator_api.patch(url("grant", grant), {"fee_ceiling": "99.00"}, format="json")
        assert frozen.status_code == 409


class TestScenariosApi:
    def test_propose_assess_authorize(self, operator_api, merchant_a):
        grant = GrantFactory(grantee=merchant_a)
        created = operator_api.post(
            SCENARIOS,
            {"grant": grant.pk, "name": "Healthcare", "purpose": "public_interest"},
            format="json",
        )
        assert created.status_code == 201, created.content
        scenario = Scenario.objects.get(pk=created.json()["id"])
        assessed = operator_api.post(
            url("scenario", scenario, "assess"),
            {
                "assessor": "Provincial assessment panel",
                "assessed_on": timezone.localdate().isoformat(),
                "risk_findings": "Aggregated statistics only",
                "verdict": "pass",
            },
            format="json",
        )
        assert assessed.status_code == 200, assessed.content
        assert assessed.json()["assessment"]["verdict"] == "pass"
        authorized = operator_api.post(
            url("scenario", scenario, "authorize"),
            {
                "document_number": "CS-2026-01",
                "valid_from": grant.valid_from.isoformat(),
                "valid_until": grant.valid_until.isoformat(),
            },
            format="json",
        )
        assert authorized.status_code == 200, authorized.content
        body = authorized.json()
        assert body["status"] == "authorized"
        assert body["authorization"]["document_number"] == "CS-2026-01"
        assert [e["to_status"] for e in body["events"]] == ["proposed", "assessed", "authorized"]

    def test_authorizing_outside_the_grant_window_is_a_400_naming_the_field(
        self, operator_api, merchant_a
    ):
        grant = GrantFactory.create(grantee=merchant_a)
        scenario = ScenarioFactory(grant=grant, status="assessed")
        response = operator_api.post(
            url("scenario", scenario, "authorize"),
            {
                "document_number": "X-1",
                "valid_from": grant.valid_from.isoformat(),
                "valid_until": (grant.valid_until + dt.timedelta(days=1)).isoformat(),
            },
            format="json",
        )
        assert response.status_code == 400
        assert "valid_until" in response.json()

    def test_second_assessment_is_a_409(self, operator_api, merchant_a):
        scenario = ScenarioFactory(grant=GrantFactory(grantee=merchant_a), status="failed")
        response = operator_api.post(
            url("scenario", scenario, "assess"),
            {
                "assessor": "Panel",
                "assessed_on": timezone.localdate().isoformat(),
                "risk_findings": "Fixed now",
                "verdict": "pass",
            },
            format="json",
        )
        assert response.status_code == 409
        assert response.json()["error_code"] == "already_assessed"

    def test_bad_verdict_is_a_400(self, operator_api, merchant_a):
        scenario = ScenarioFactory(grant=GrantFactory(grantee=merchant_a), status="proposed")
        response = operator_api.post(
            url("scenario", scenario, "assess"),
            {"assessor": "P", "assessed_on": "2026-13-01", "risk_findings": "", "verdict": "maybe"},
            format="json",
        )
        assert response.status_code == 400
        assert {"assessed_on", "risk_findings", "verdict"} <= set(response.json())

    def test_merchant_reads_its_scenarios_but_cannot_act(
        self, merchant_a_api, merchant_a, merchant_b
    ):
        own = ScenarioFactory(grant=GrantFactory(grantee=merchant_a), status="proposed")
        ScenarioFactory(grant=GrantFactory(grantee=merchant_b))
        assert ids(merchant_a_api.get(SCENARIOS)) == {own.pk}
        refused = merchant_a_api.post(
            url("scenario", own, "assess"),
            {
                "assessor": "Me",
                "assessed_on": timezone.localdate().isoformat(),
                "risk_findings": "none",
                "verdict": "pass",
            },
            format="json",
        )
        assert refused.status_code == 403

    def test_scenario_filters(self, operator_api, merchant_a, merchant_b):
        a = ScenarioFactory(grant=GrantFactory(grantee=merchant_a), purpose="public_interest")
        b = ScenarioFactory(grant=GrantFactory(grantee=merchant_b), status="proposed")
        assert ids(operator_api.get(SCENARIOS, {"grantee": merchant_a.pk})) == {a.pk}
        assert ids(operator_api.get(SCENARIOS, {"grant": b.grant_id})) == {b.pk}
        assert ids(operator_api.get(SCENARIOS, {"department": a.grant.department_id})) == {a.pk}
        assert ids(operator_api.get(SCENARIOS, {"status": "proposed"})) == {b.pk}
        assert ids(operator_api.get(SCENARIOS, {"purpose": "public_interest"})) == {a.pk}
        today = timezone.localdate().isoformat()
        assert ids(operator_api.get(SCENARIOS, {"active_on": today})) == {a.pk}


def test_schema_builds(operator_api):
    assert operator_api.get(reverse("api-schema")).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"valid_from": "0001-01-01T00:00:00+08:00"},
        {"valid_until": "9999-12-31T23:59:59-12:00"},
        {"valid_from": None},
        {"fee_ceiling": None},
        {"entries": "all"},
        {"entries": [None]},
        {"revenue_share_bps": True},
        {"grantee": [1]},
        {"industry": {"id": 1}},
    ],
)
def test_extreme_or_malformed_grant_input_never_500s(operator_api, merchant_a, payload):
    body = {**grant_payload(DepartmentFactory(), IndustryFactory(), merchant_a), **payload}
    response = operator_api.post(GRANTS, body, format="json")
    assert response.status_code in (201, 400, 409), response.content


@pytest.mark.parametrize(
    "payload",
    [
        {"valid_from": "soon"},
        {"valid_until": "0001-01-01T00:00:00+08:00"},
        {"document_number": ""},
        {"document_number": "x" * 61},
        {},
    ],
)
def test_malformed_authorization_is_a_400(operator_api, merchant_a, payload):
    grant = GrantFactory(grantee=merchant_a)
    scenario = ScenarioFactory(grant=grant, status="assessed")
    body = {
        "document_number": "X-1",
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": grant.valid_until.isoformat(),
        **payload,
    }
    if not payload:
        body = {}
    response = operator_api.post(url("scenario", scenario, "authorize"), body, format="json")
    assert response.status_code == 400, response.content
    scenario.refresh_from_db()
    assert scenario.status == "assessed"


def test_unknown_ids_are_404s(operator_api):
    for basename in ("department", "catalog-entry", "grant", "scenario"):
        assert operator_api.get(reverse(f"{basename}-detail", args=[10**30])).status_code == 404
    assert operator_api.post(reverse("grant-activate", args=[999_999]), {}).status_code == 404
