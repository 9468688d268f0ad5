"""Harvesting a partner: the listing rules, and bad input refused with its reason."""

import pytest
from django.conf import settings
from django.test import override_settings

from interchange import services
from interchange.models import PartnerRecord
from tests.interchange.conftest import dataset, page

pytestmark = pytest.mark.django_db


def _harvest(partner, **kwargs):
    return services.partner_harvest(actor=None, partner=partner, **kwargs)


def test_pages_are_followed_and_each_dataset_kept_with_raw_record_and_hash(partner, partner_server):
    # given a partner catalog of two pages
    base = partner_server.base
    second = f"{base}/catalog/?after=2"
    partner_server.json("/catalog/", page([dataset(base, "P-1"), dataset(base, "P-2")], second))
    partner_server.json("/catalog/?after=2", page([dataset(base, "P-3")]))
    # when it is harvested
    run = _harvest(partner)
    # then the three datasets are listed, each with its raw record and hash
    assert (run.status, run.pages, run.new_count, run.refused_count) == ("succeeded", 2, 3, 0)
    records = PartnerRecord.objects.filter(partner=partner).order_by("identifier")
    assert [r.identifier for r in records] == ["P-1", "P-2", "P-3"]
    first = records[0]
    assert first.status == "listed"
    assert first.iri == f"{base}/datasets/P-1"
    assert first.publisher_name == "Partner Data Co."
    assert first.publisher_credit_code == "91430100MA4T0000XQ"
    assert "<http://purl.org/dc/terms/title>" in first.raw
    assert len(first.content_hash) == 64
    # and a second run over the same catalog finds nothing new and writes nothing
    before = list(PartnerRecord.objects.values_list("id", "updated_at", "content_hash"))
    again = _harvest(partner)
    assert (again.new_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert list(PartnerRecord.objects.values_list("id", "updated_at", "content_hash")) == before


def test_core_grade_is_refused_important_and_unstated_wait_for_review(partner, partner_server):
    base = partner_server.base
    unstated = dataset(base, "P-4")
    unstated.pop("dcat:theme")
    partner_server.json("/catalog/", page([
        dataset(base, "P-1", grade="core"), dataset(base, "P-2", grade="important"),
        dataset(base, "P-3", grade="general"), unstated,
    ]))  # fmt: skip
    run = _harvest(partner)
    statuses = dict(PartnerRecord.objects.values_list("identifier", "status"))
    assert statuses == {"P-1": "refused", "P-2": "pending_review", "P-3": "listed",
                        "P-4": "pending_review"}  # fmt: skip
    assert (run.new_count, run.refused_count) == (3, 1)
    assert any("core-grade" in e["reason"] for e in run.errors)


def test_identity_is_the_iri_then_the_identifier(partner, partner_server):
    base = partner_server.base
    partner_server.json("/catalog/", page([dataset(base, "P-1")]))
    _harvest(partner)
    # the partner moves the dataset to a new IRI but keeps its identifier
    moved = dataset(base, "P-1", title="新标题")
    moved["@id"] = f"{base}/v2/datasets/P-1"
    partner_server.json("/catalog/", page([moved]))
    run = _harvest(partner)
    assert (run.new_count, run.updated_count) == (0, 1)
    record = PartnerRecord.objects.get()
    assert (record.iri, record.title) == (f"{base}/v2/datasets/P-1", "新标题")


def test_one_bad_record_is_refused_and_the_run_goes_on(partner, partner_server):
    base = partner_server.base
    no_title = dataset(base, "P-2")
    no_title.pop("dct:title")
    wrong_type = dataset(base, "P-3", **{"dct:title": {"@id": "https://x.example/not-text"}})
    date_time = "http://www.w3.org/2001/XMLSchema#dateTime"
    bad_date = dataset(base, "P-4", **{"dct:modified": {"@value": "soon", "@type": date_time}})
    partner_server.json("/catalog/", page([dataset(base, "P-1"), no_title, wrong_type, bad_date,
                                           dataset(base, "P-5")]))  # fmt: skip
    run = _harvest(partner)
    assert run.status == "succeeded"
    assert (run.new_count, run.refused_count) == (2, 3)
    reasons = " | ".join(e["reason"] for e in run.errors)
    assert "dct:title" in reasons
    assert "not a text" in reasons
    assert "dct:modified" in reasons
    assert set(PartnerRecord.objects.values_list("identifier", flat=True)) == {"P-1", "P-5"}


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b'{"@context": {"dct": "http://purl.org/dc/terms/"}, "dct:title": ', "application/ld+json",
         "not well-formed JSON"),
        (b"[1, 2, 3]", "application/ld+json", "not a JSON-LD object"),
        (b'{"@context": "https://elsewhere.example/context.jsonld"}', "application/ld+json",
         "remote @context"),
        (b'{"@context": {"foaf": "http://xmlns.com/foaf/0.1/"}, "@type": "foaf:Person"}',
         "application/ld+json", "not a dcat:Catalog"),
        (b'{"@context": {"@vocab": 5}, "@type": "x"}', "application/ld+json", "not valid JSON-LD"),
        (b"<html>maintenance</html>", "text/html", "not JSON-LD"),
    ],
)  # fmt: skip
def test_malformed_pages_fail_the_run_with_the_reason(
    partner, partner_server, body, content_type, reason
):
    partner_server.raw("/catalog/", body, content_type=content_type)
    run = _harvest(partner)
    assert run.status == "failed"
    assert reason in run.errors[-1]["reason"]
    assert PartnerRecord.objects.count() == 0


def test_a_paging_loop_is_detected(partner, partner_server):
    base = partner_server.base
    partner_server.json("/catalog/", page([dataset(base, "P-1")], f"{base}/catalog/?p=2"))
    partner_server.json("/catalog/?p=2", page([dataset(base, "P-2")], f"{base}/catalog/"))
    run = _harvest(partner)
    assert run.status == "failed"
    assert "paging loop" in run.errors[-1]["reason"]
    # what was read stays, each record in its own transaction
    assert PartnerRecord.objects.count() == 2


def test_a_next_page_elsewhere_is_not_followed(partner, partner_server):
    partner_server.json("/catalog/", page([], "http://169.254.169.254/latest/"))
    run = _harvest(partner)
    assert run.status == "failed"
    assert "not on the partner's site" in run.errors[-1]["reason"]
    assert len(partner_server.requests) == 1


@override_settings(
    EXCHANGE_HARVEST_LIMITS={
        **settings.EXCHANGE_HARVEST_LIMITS,
        "max_page_bytes": 2000,
    }
)
def test_a_huge_page_is_refused(partner, partner_server):
    base = partner_server.base
    partner_server.json("/catalog/", page([dataset(base, f"P-{n}") for n in range(50)]))
    run = _harvest(partner)
    assert run.status == "failed"
    assert "larger than the limit of 2000 bytes" in run.errors[-1]["reason"]
    # and also when the partner does not say how big it is
    partner_server.raw("/catalog/", b" " * 5000 + b"{}", dribble=0.0001)
    assert "larger than the limit" in _harvest(partner).errors[-1]["reason"]


@override_settings(
    EXCHANGE_HARVEST_LIMITS={
        **settings.EXCHANGE_HARVEST_LIMITS,
        "page_seconds": 0.5,
    }
)
def test_a_slow_page_is_refused(partner, partner_server):
    # a partner dribbling 16 bytes every 0.1 s takes far longer than the limit
    partner_server.raw("/catalog/", b" " * 400 + b"{}", dribble=0.1)
    run = _harvest(partner)
    assert run.status == "failed"
    assert "took longer than the limit" in run.errors[-1]["reason"] or (
        "did not answer" in run.errors[-1]["reason"]
    )


def test_an_unreachable_partner_fails_the_run(partner, partner_server):
    partner_server.raw("/catalog/", b'{"detail": "down"}', status=503)
    run = _harvest(partner)
    assert run.status == "failed"
    assert "HTTP 503" in run.errors[-1]["reason"]


def test_the_command_harvests_and_prints_the_counts(partner, partner_server):
    import io

    from django.core.management import call_command

    partner_server.json("/catalog/", page([dataset(partner_server.base, "P-1")]))
    out = io.StringIO()
    call_command("harvest_partners", str(partner.pk), "--full", stdout=out)
    assert "[1/1] Partner exchange" in out.getvalue()
    assert "succeeded: 1 pages, new 1" in out.getvalue()
