"""What a run asks a partner for, and what it does with what is missing."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from interchange import services
from interchange.models import PartnerRecord, PartnerRecordEvent
from tests.interchange.conftest import CONTEXT, dataset, page

pytestmark = pytest.mark.django_db
FEED_CONTEXT = {**CONTEXT, "as": "https://www.w3.org/ns/activitystreams#",
                "as:object": {"@type": "@id"}}  # fmt: skip


def _harvest(partner):
    return services.partner_harvest(actor=None, partner=partner)


def _feed(removed_iris: list[str]) -> dict:
    return {
        "@context": FEED_CONTEXT,
        "@type": "as:OrderedCollectionPage",
        "as:orderedItems": [{"@type": "as:Remove", "as:object": iri} for iri in removed_iris],
    }


def _asked(server, path: str) -> list[dict]:
    """The query of each request the partner received for `path`."""
    return [parse_qs(urlsplit(url).query) for url in server.requests if url.startswith(path)]


def test_an_incremental_run_asks_only_for_changes_since_the_last_good_run(partner, partner_server):
    base = partner_server.base
    partner.changes_url = f"{base}/changes"
    partner.save()
    partner_server.json("/catalog/", page([dataset(base, "P-1"), dataset(base, "P-2")]))
    first = _harvest(partner)
    assert (first.full, first.new_count) == (True, 2)
    assert _asked(partner_server, "/catalog/") == [{}]
    # when one dataset changes and the other is delisted there
    partner_server.requests.clear()
    partner_server.json("/catalog/", page([dataset(base, "P-1", title="新版本")]))
    partner_server.json("/changes", _feed([f"{base}/datasets/P-2"]))
    second = _harvest(partner)
    # then the run asks for the changes since the first run began (less the clock margin)
    since = first.started_at - dt.timedelta(
        seconds=settings.EXCHANGE_HARVEST_LIMITS["since_overlap_seconds"]
    )
    assert second.full is False
    assert second.changes_since == since
    (catalog_query,) = _asked(partner_server, "/catalog/")
    (feed_query,) = _asked(partner_server, "/changes")
    assert dt.datetime.fromisoformat(catalog_query["modified_since"][0]) == since
    assert dt.datetime.fromisoformat(feed_query["since"][0]) == since
    # and takes just those: one updated, one delisted, nothing re-read as unchanged
    assert (second.new_count, second.updated_count, second.unchanged_count,
            second.delisted_count) == (0, 1, 0, 1)  # fmt: skip
    statuses = dict(PartnerRecord.objects.values_list("identifier", "status"))
    assert statuses == {"P-1": "listed", "P-2": "delisted"}
    # a failed run does not move the mark: the next one asks from the same moment
    partner_server.raw("/catalog/", b'{"detail": "down"}', status=503)
    assert _harvest(partner).status == "failed"
    partner_server.json("/catalog/", page([]))
    partner_server.json("/changes", _feed([]))
    partner_server.requests.clear()
    after_failure = _harvest(partner)
    assert after_failure.status == "succeeded"
    assert after_failure.changes_since == second.started_at - dt.timedelta(
        seconds=settings.EXCHANGE_HARVEST_LIMITS["since_overlap_seconds"]
    )


def test_a_full_run_delists_what_vanished_and_a_failed_run_delists_nothing(partner, partner_server):
    base = partner_server.base
    partner_server.json("/catalog/", page([dataset(base, "P-1"), dataset(base, "P-2")]))
    _harvest(partner)
    # a run that cannot read the catalog takes nothing for gone
    partner_server.raw("/catalog/", b"<html>down</html>", content_type="text/html")
    failed = _harvest(partner)
    assert (failed.status, failed.delisted_count) == ("failed", 0)
    assert set(PartnerRecord.objects.values_list("status", flat=True)) == {"listed"}
    # a run that reads it all delists what is no longer there, and keeps the record
    partner_server.json("/catalog/", page([dataset(base, "P-1")]))
    run = _harvest(partner)
    assert (run.status, run.full, run.unchanged_count, run.delisted_count) == (
        "succeeded", True, 1, 1)  # fmt: skip
    gone = PartnerRecord.objects.get(identifier="P-2")
    assert gone.status == "delisted"
    assert gone.raw
    assert gone.content_hash
    assert PartnerRecordEvent.objects.filter(subject=gone, to_status="delisted").count() == 1
    # and when it comes back it is listed again, the same record
    partner_server.json("/catalog/", page([dataset(base, "P-1"), dataset(base, "P-2")]))
    back = _harvest(partner)
    assert (back.new_count, back.updated_count) == (0, 1)
    assert PartnerRecord.objects.get(pk=gone.pk).status == "listed"


@pytest.mark.postgres
def test_a_record_the_database_refuses_leaves_nothing_behind(partner, partner_server):
    # given a dataset whose IRI is longer than we store, between two good ones
    base = partner_server.base
    too_long = dataset(base, "P-2")
    too_long["@id"] = f"{base}/datasets/{'x' * 600}"
    partner_server.json("/catalog/", page([dataset(base, "P-1"), too_long,
                                           dataset(base, "P-3")]))  # fmt: skip
    run = _harvest(partner)
    # then that record is refused with the reason, in its own transaction: no row, no event
    assert (run.status, run.new_count, run.refused_count) == ("succeeded", 2, 1)
    assert set(PartnerRecord.objects.values_list("identifier", flat=True)) == {"P-1", "P-3"}
    assert PartnerRecordEvent.objects.count() == 2
    assert any("could not be taken" in error["reason"] for error in run.errors)
