import datetime as dt

import pytest
from django.utils import timezone

from marketplace.models import Order
from oversight.models import AuditFinding, AuditRun
from oversight.services.audit import audit_run_execute
from oversight.services.chain import chain_seal
from oversight.services.stats import stats_refresh
from tests.factories.accounts import MerchantFactory, PersonFactory
from tests.factories.oversight import AuditFindingFactory, a_seal

pytestmark = pytest.mark.django_db

FINDINGS = "/api/v1/audit-findings/"
RUNS = "/api/v1/audit-runs/"


@pytest.fixture
def findings(db):
    now = timezone.now()
    return [
        AuditFindingFactory(kind="stuck_order", severity="medium"),
        AuditFindingFactory(
            kind="balance_mismatch",
            severity="critical",
            fingerprint="balance_mismatch:account:1",
            first_seen_at=now - dt.timedelta(days=10),
            last_seen_at=now - dt.timedelta(days=5),
        ),
        AuditFindingFactory(kind="stuck_order", severity="medium", status="resolved"),
    ]


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_operators_filter_findings_by_kind_severity_status_and_dates(operator_api, findings):
    stuck, money, resolved = findings
    assert ids(operator_api.get(FINDINGS)) == {stuck.pk, money.pk, resolved.pk}
    assert ids(operator_api.get(FINDINGS, {"kind": "stuck_order"})) == {stuck.pk, resolved.pk}
    assert ids(operator_api.get(FINDINGS, {"severity": "critical"})) == {money.pk}
    assert ids(operator_api.get(FINDINGS, {"status": "resolved"})) == {resolved.pk}
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert ids(operator_api.get(FINDINGS, {"first_seen_to": week_ago})) == {money.pk}
    assert ids(operator_api.get(FINDINGS, {"last_seen_from": week_ago})) == {
        stuck.pk,
        money.pk,
        resolved.pk,
    }
    assert ids(operator_api.get(FINDINGS, {"search": "account:1"})) == {money.pk}


@pytest.mark.parametrize(
    "query", [{"kind": "nonsense"}, {"severity": 3}, {"first_seen_from": "yesterday"}]
)
def test_bad_filters_are_a_400_naming_the_field(operator_api, findings, query):
    response = operator_api.get(FINDINGS, query)
    assert response.status_code == 400
    assert set(query) <= set(response.json())


def test_an_operator_acknowledges_then_resolves_a_finding(operator_api, operator, findings):
    stuck = findings[0]
    # when acknowledged, then resolved with a reason
    acked = operator_api.post(f"{FINDINGS}{stuck.pk}/acknowledge/", {}, format="json")
    resolved = operator_api.post(
        f"{FINDINGS}{stuck.pk}/resolve/", {"reason": "buyer paid late"}, format="json"
    )
    # then both moves show, with who and why
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    body = resolved.json()
    assert body["status"] == "resolved"
    assert body["resolved_by"] == operator.username
    assert body["resolution"] == "buyer paid late"
    assert [e["to_status"] for e in body["events"]] == ["acknowledged", "resolved"]


def test_resolving_needs_a_reason_and_resolved_is_final(operator_api, findings):
    stuck, _, resolved = findings
    missing = operator_api.post(f"{FINDINGS}{stuck.pk}/resolve/", {}, format="json")
    again = operator_api.post(f"{FINDINGS}{resolved.pk}/acknowledge/", {}, format="json")
    assert missing.status_code == 400
    assert "reason" in missing.json()
    assert again.status_code == 409
    stuck.refresh_from_db()
    assert stuck.status == "open"


def test_merchants_see_no_findings_and_cannot_act_on_them(merchant_a_api, findings):
    stuck = findings[0]
    assert ids(merchant_a_api.get(FINDINGS)) == set()
    assert merchant_a_api.get(f"{FINDINGS}{stuck.pk}/").status_code == 404
    acted = merchant_a_api.post(f"{FINDINGS}{stuck.pk}/acknowledge/", {}, format="json")
    assert acted.status_code in (403, 404)
    stuck.refresh_from_db()
    assert stuck.status == "open"


def test_unknown_finding_is_a_404(operator_api):
    assert operator_api.post(f"{FINDINGS}999999/resolve/", {"reason": "x"}).status_code == 404
    assert operator_api.get(f"{FINDINGS}abc/").status_code == 404


def test_an_operator_starts_an_audit_run(
    operator_api, exchange, django_capture_on_commit_callbacks
):
    # when an operator posts a run (the task runs eagerly in tests)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.post(RUNS, {"full_chain_verify": True}, format="json")
    # then it is accepted, and the run finished with its counts
    assert response.status_code == 202
    run = AuditRun.objects.get(pk=response.json()["id"])
    assert run.full_chain_verify is True
    assert run.status == "finished"
    listed = operator_api.get(RUNS).json()["results"]
    assert listed[0]["id"] == run.pk
    assert operator_api.get(f"{RUNS}{run.pk}/").json()["counts"] == {}


def test_merchants_cannot_start_audit_runs(merchant_a_api):
    response = merchant_a_api.post(RUNS, {}, format="json")
    assert response.status_code == 403
    assert not AuditRun.objects.exists()


def test_a_garbage_run_request_is_a_400(operator_api):
    response = operator_api.post(RUNS, {"full_chain_verify": "perhaps"}, format="json")
    assert response.status_code == 400
    assert "full_chain_verify" in response.json()
    assert not AuditRun.objects.exists()


def test_stats_are_read_from_the_snapshot_and_say_when(operator_api, exchange):
    # given a snapshot computed earlier
    snapshot = stats_refresh()
    Order.objects.filter(pk=exchange.pending.pk).update(paid_at=timezone.now())
    # when read
    response = operator_api.get("/api/v1/stats/")
    # then it is the snapshot's figures (the later payment is not in yet), in yuan
    body = response.json()
    assert response.status_code == 200
    assert dt.datetime.fromisoformat(body["computed_at"]) == snapshot.computed_at
    assert body["figures"]["turnover"]["cumulative"] == "500.00"
    assert "definition" in body["figures"]["turnover"]


def test_stats_are_for_operators_only(merchant_a_api, api_client):
    assert merchant_a_api.get("/api/v1/stats/").status_code == 403
    assert api_client(None).get("/api/v1/stats/").status_code in (401, 403)


def test_the_disclosure_is_served_as_json_and_csv(merchant_a_api):
    year = timezone.localdate().year - 1
    as_json = merchant_a_api.get("/api/v1/disclosures/public-data/", {"year": year})
    as_csv = merchant_a_api.get("/api/v1/disclosures/public-data/download/", {"year": year})
    assert as_json.status_code == 200
    assert as_json.json()["year"] == year
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    assert f"public-data-disclosure-{year}.csv" in as_csv["Content-Disposition"]


@pytest.mark.parametrize("year", ["abc", "1900", "99999999999999999999", "2025.5"])
def test_a_bad_disclosure_year_is_a_400(operator_api, year):
    response = operator_api.get("/api/v1/disclosures/public-data/", {"year": year})
    assert response.status_code == 400
    assert "year" in response.json()


def test_a_trade_certificate_is_served_to_its_buyer_and_seller_only(exchange, api_client):
    # given a cleared, sealed order
    order = exchange.cleared[0]
    chain_seal()
    url = f"/api/v1/trade-certificates/{order.pk}/"
    buyer = api_client(PersonFactory(merchant=order.buyer))
    seller = api_client(PersonFactory(merchant=order.seller))
    outsider = api_client(PersonFactory(merchant=MerchantFactory()))
    # when each asks for it
    # then the parties get it, final and proven; an outsider does not see it exists
    body = buyer.get(url).json()
    assert body["is_final"] is True
    assert body["order"]["number"] == order.number
    assert all(e["proof"]["sealed"] for e in body["journal_entries"])
    assert seller.get(url).status_code == 200
    assert outsider.get(url).status_code == 404
    assert order.pk not in ids(outsider.get("/api/v1/trade-certificates/"))


def test_chain_seals_are_listed_for_operators(operator_api, merchant_a_api):
    seal = a_seal()
    assert ids(operator_api.get("/api/v1/chain-seals/", {"sequence": seal.sequence})) == {seal.pk}
    assert ids(merchant_a_api.get("/api/v1/chain-seals/")) == set()


def test_the_schema_builds(operator_api):
    response = operator_api.get("/api/schema/")
    assert response.status_code == 200
    for path in ("/api/v1/audit-findings/{id}/resolve/", "/api/v1/stats/",
                 "/api/v1/disclosures/public-data/download/"):  # fmt: skip
        assert path.encode() in response.content


def test_findings_are_found_by_the_run_that_saw_them(operator_api, exchange):
    # given a stuck order found by a sweep
    Order.objects.filter(pk=exchange.paid.pk).update(paid_at=timezone.now() - dt.timedelta(days=30))
    run = audit_run_execute()
    # when filtered by that run
    found = ids(operator_api.get(FINDINGS, {"run": run.pk}))
    # then the finding is there
    assert found == set(AuditFinding.objects.values_list("id", flat=True))
    assert len(found) == 1
