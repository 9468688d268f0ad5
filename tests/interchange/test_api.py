"""The interchange API: operators register partners, read runs and review listings;
every signed-in role reads the partner listings in the market."""

import pytest

from interchange.models import PartnerExchange
from tests.factories.interchange import PartnerFactory, PartnerRecordFactory, RunFactory
from tests.factories.products import IndustryFactory
from tests.interchange.conftest import dataset, page

pytestmark = pytest.mark.django_db
PARTNERS = "/api/v1/partner-exchanges/"


def test_an_operator_registers_a_partner_and_harvests_it(operator_api, partner_server):
    base = partner_server.base
    partner_server.json("/catalog/", page([dataset(base, "P-1")]))
    created = operator_api.post(PARTNERS, {
        "name": "湘江数据交易所", "catalog_url": f"{base}/catalog/", "trust_level": "trusted",
        "harvest_every_minutes": 30,
    }, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    partner_id = created.json()["id"]
    queued = operator_api.post(f"{PARTNERS}{partner_id}/harvest/", {}, format="json")
    assert queued.status_code == 202
    runs = operator_api.get("/api/v1/harvest-runs/", {"partner": partner_id}).json()["results"]
    assert [(r["status"], r["new_count"]) for r in runs] == [("succeeded", 1)]
    changed = operator_api.patch(f"{PARTNERS}{partner_id}/", {"trust_level": "review_all"},
                                 format="json")  # fmt: skip
    assert changed.json()["trust_level"] == "review_all"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"catalog_url": "not a url"}, "catalog_url"),
        ({"trust_level": "blind"}, "trust_level"),
        ({"harvest_every_minutes": 1}, "harvest_every_minutes"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_partner_input_is_a_400_naming_the_field(operator_api, body, field):
    data = {"name": "P", "catalog_url": "https://p.example/catalog/", **body}
    response = operator_api.post(PARTNERS, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not PartnerExchange.objects.exists()


def test_merchants_cannot_register_or_harvest_partners(merchant_a_api):
    partner = PartnerFactory()
    assert merchant_a_api.post(PARTNERS, {"name": "x", "catalog_url": "https://x.example/"},
                               format="json").status_code == 403  # fmt: skip
    assert merchant_a_api.post(f"{PARTNERS}{partner.pk}/harvest/").status_code in (403, 404)
    assert merchant_a_api.get("/api/v1/harvest-runs/").json()["results"] == []


def test_operators_approve_and_refuse_what_waits_for_review(operator_api, merchant_a_api):
    waiting = PartnerRecordFactory(status="pending_review", grade="important")
    other = PartnerRecordFactory(status="pending_review", grade="important")
    core = PartnerRecordFactory(status="refused", grade="core")
    url = "/api/v1/partner-records/"
    assert merchant_a_api.post(f"{url}{waiting.pk}/approve/").status_code in (403, 404)
    approved = operator_api.post(f"{url}{waiting.pk}/approve/", {}, format="json")
    assert approved.json()["status"] == "listed"
    assert operator_api.post(f"{url}{other.pk}/refuse/", {}, format="json").status_code == 400
    refused = operator_api.post(f"{url}{other.pk}/refuse/", {"reason": "no manual"},
                                format="json")  # fmt: skip
    assert refused.json()["status"] == "refused"
    core_again = operator_api.post(f"{url}{core.pk}/approve/", {}, format="json")
    assert core_again.status_code == 400
    assert "grade" in core_again.json()


def test_partner_listings_in_the_market_use_our_filters(merchant_a_api):
    weather = IndustryFactory(code="weather")
    shown = PartnerRecordFactory(title="长沙降水", industry=weather, delivery_mode="api",
                                 publisher_name="伙伴数据")  # fmt: skip
    PartnerRecordFactory(title="长沙降水 (旧)", industry=weather, status="delisted")
    PartnerRecordFactory(title="待审", industry=weather, status="pending_review")
    PartnerRecordFactory(title="Other", delivery_mode="file")
    url = "/api/v1/market/partner-listings/"
    found = merchant_a_api.get(url, {"industry": "weather", "delivery_mode": "api",
                                     "search": "降水"}).json()["results"]  # fmt: skip
    assert [row["id"] for row in found] == [shown.pk]
    assert found[0]["source"] == shown.iri
    assert found[0]["publisher_name"] == "伙伴数据"
    assert merchant_a_api.get(url, {"grade": "secret"}).status_code == 400
    assert merchant_a_api.get(url, {"industry": "nope"}).status_code == 400


def test_runs_keep_their_errors_for_operators(operator_api):
    run = RunFactory(
        status="failed", errors=[{"where": "https://p.example/", "reason": "HTTP 503"}]
    )
    shown = operator_api.get(f"/api/v1/harvest-runs/{run.pk}/").json()
    assert shown["errors"] == [{"where": "https://p.example/", "reason": "HTTP 503"}]
