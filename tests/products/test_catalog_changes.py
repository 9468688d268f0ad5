"""The change feed: created, updated and delisted products, in order, paged."""

import pytest

from products import services
from tests.factories.products import ALL_TICKED

pytestmark = pytest.mark.django_db
FEED = "/api/v1/catalog/changes"


def _revise(product, owner, operator, **changes):
    revision = services.revision_open(actor=owner, product=product)
    services.revision_update(actor=owner, revision=revision, **changes)
    services.revision_plan_create(actor=owner, revision=revision, kind="one_off", price_fen=9_00)
    services.revision_submit(actor=owner, revision=revision)
    services.revision_start_review(actor=operator, revision=revision)
    services.revision_approve(actor=operator, revision=revision, **ALL_TICKED)


def test_feed_tells_created_updated_and_delisted_in_order(client, make_listed, owner_a, operator):
    # given a product listed, revised, suspended, reinstated and a second one delisted
    first = make_listed(owner_a, title="Station readings")
    second = make_listed(owner_a, title="Radar images")
    _revise(first, owner_a, operator, title="Station readings, hourly")
    services.product_suspend(actor=operator, product=first, reason="check")
    services.product_reinstate(actor=operator, product=first, reason="checked")
    services.product_delist(actor=operator, product=second, reason="provider asked")
    # when a partner reads the feed two items at a time
    seen, url = [], f"{FEED}?page_size=2"
    for _ in range(10):
        document = client.get(url).json()
        seen += [(i["dct:identifier"], i["as:name"]) for i in document["as:orderedItems"]]
        url = document["hydra:view"].get("hydra:next")
        if not url:
            break
    # then every change is there once, oldest first
    first_number, second_number = first.registration_number, second.registration_number
    assert seen == [
        (first_number, "created"),
        (second_number, "created"),
        (first_number, "updated"),
        (first_number, "delisted"),
        (first_number, "updated"),
        (second_number, "delisted"),
    ]


def test_feed_since_leaves_out_older_changes(client, make_listed, owner_a, operator):
    product = make_listed(owner_a)
    document = client.get(FEED).json()
    last = document["as:orderedItems"][-1]["as:published"]
    services.product_delist(actor=operator, product=product, reason="gone")
    later = client.get(FEED, {"since": last}).json()["as:orderedItems"]
    assert [i["as:name"] for i in later] == ["created", "delisted"][-len(later) :]
    assert later[-1]["@type"] == "as:Remove"


@pytest.mark.parametrize("query", ["after=bogus", "after=-1", "since=never", "page_size=0"])
def test_bad_feed_parameters_are_400(client, query):
    assert client.get(f"{FEED}?{query}").status_code == 400
