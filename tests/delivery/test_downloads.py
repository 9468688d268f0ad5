"""Downloads: the buyer's people fetch the paid file through a grant, everyone else is refused."""

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from core.exceptions import Conflict
from delivery.models import Download, DownloadGrant
from delivery.services import downloads
from marketplace.services import orders, refunds
from oversight.services.certificate import trade_certificate
from tests.factories.accounts import MerchantFactory, OperatorFactory, PersonFactory
from tests.factories.delivery import file_product, upload
from tests.factories.marketplace import pay, person_of, place
from tests.factories.products import PlanFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CONTENT = b"57687,2024-05-01T08:00,12.5\n" * 12_000  # ~330 KB: three parts of 128 KiB


@pytest.fixture
def paid_order():
    product = file_product()
    upload(product, CONTENT)
    return pay(place(plan=PlanFactory(product=product)))


def link_of(order, person=None):
    grant, token = downloads.download_grant_issue(
        actor=person or person_of(order.buyer), order=order
    )
    return grant, reverse("deliverable-download", args=[token])


def fetch(api_client, person, url, **headers):
    response = api_client(person).get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_the_buyer_downloads_the_file_and_reproduces_its_hash(paid_order, api_client):
    # given a grant for the buyer
    grant, url = link_of(paid_order)

    # when the buyer's person fetches the link
    response, body = fetch(api_client, person_of(paid_order.buyer), url)

    # then the plain file arrives with the exchange's hash, and the download is logged
    assert response.status_code == 200
    assert hashlib.sha256(body).hexdigest() == grant.deliverable.sha256
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Accept-Ranges"] == "bytes"
    logged = Download.objects.get(grant=grant)
    assert logged.bytes_sent == len(CONTENT)
    assert logged.is_complete
    assert logged.downloaded_by == person_of(paid_order.buyer)
    assert logged.finished_at is not None


def test_range_requests_answer_206_with_the_bytes_asked(paid_order, api_client):
    # given
    _grant, url = link_of(paid_order)
    buyer = person_of(paid_order.buyer)

    # when the buyer asks for a range across a part boundary, an open range and a suffix
    middle, middle_body = fetch(api_client, buyer, url, HTTP_RANGE="bytes=131000-140000")
    _tail, tail_body = fetch(api_client, buyer, url, HTTP_RANGE="bytes=300000-")
    last, last_body = fetch(api_client, buyer, url, HTTP_RANGE="bytes=-10")

    # then each is a 206 with its Content-Range
    assert middle.status_code == 206
    assert middle_body == CONTENT[131000:140001]
    assert middle["Content-Range"] == f"bytes 131000-140000/{len(CONTENT)}"
    assert tail_body == CONTENT[300000:]
    assert last_body == CONTENT[-10:]
    assert last["Content-Range"] == f"bytes {len(CONTENT) - 10}-{len(CONTENT) - 1}/{len(CONTENT)}"


@pytest.mark.parametrize(
    "header", ["bytes=999999999-", "bytes=10-5", "bytes=0-1,5-9", "lines=1-2", "bytes=-0"]
)
def test_bad_ranges_answer_416(paid_order, api_client, header):
    # given
    _grant, url = link_of(paid_order)

    # when
    response, _body = fetch(api_client, person_of(paid_order.buyer), url, HTTP_RANGE=header)

    # then
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"
    assert not Download.objects.exists()


def test_the_first_complete_download_delivers_the_order_and_starts_the_clock(
    paid_order, api_client
):
    # given a paid order the seller never marked delivered
    _grant, url = link_of(paid_order)
    buyer = person_of(paid_order.buyer)
    before = timezone.now()

    # when the buyer receives the first half, then the rest
    fetch(api_client, buyer, url, HTTP_RANGE="bytes=0-199999")
    paid_order.refresh_from_db()
    status_after_half = paid_order.status
    fetch(api_client, buyer, url, HTTP_RANGE="bytes=200000-")

    # then the order is delivered only once every byte arrived, and the clock runs from then
    paid_order.refresh_from_db()
    assert status_after_half == "paid"
    assert paid_order.status == "delivered"
    assert paid_order.delivered_at >= before
    event = paid_order.events.get(to_status="delivered")
    assert event.actor == buyer
    assert paid_order.product.deliverables.get().sha256 in event.reason
    accepted = orders.orders_auto_accept(now=paid_order.delivered_at + dt.timedelta(days=30))
    assert accepted == 1


def test_an_interrupted_download_is_logged_incomplete(paid_order):
    # given a download under way
    grant, _url = link_of(paid_order)
    buyer = person_of(paid_order.buyer)
    stream = downloads.download_start(actor=buyer, grant=grant, span=None)

    # when the client reads one piece and goes away
    first = next(stream.chunks)
    stream.chunks.close()

    # then the log says how much was sent, and the order is not delivered
    logged = Download.objects.get()
    assert not logged.is_complete
    assert logged.bytes_sent == len(first) < len(CONTENT)
    paid_order.refresh_from_db()
    assert paid_order.status == "paid"


def test_other_people_are_refused_and_learn_nothing(paid_order, api_client):
    # given a valid link
    _grant, url = link_of(paid_order)
    seller = person_of(paid_order.seller)
    stranger = PersonFactory(merchant=MerchantFactory())
    operator = OperatorFactory()

    # when anyone but the buyer's people uses it, or a forged link
    answers = [
        fetch(api_client, seller, url)[0],
        fetch(api_client, stranger, url)[0],
        fetch(api_client, operator, url)[0],
        fetch(api_client, None, url)[0],
        fetch(api_client, person_of(paid_order.buyer), url[:-3] + "xyz/")[0],
    ]

    # then all are 403 with the same body, naming nothing
    assert {a.status_code for a in answers} == {403}
    bodies = {a.content for a in answers}
    assert len(bodies) == 1
    body = bodies.pop()
    assert b"data.csv" not in body
    assert paid_order.number.encode() not in body
    assert not Download.objects.exists()


def test_an_expired_grant_is_gone(paid_order, api_client):
    # given a grant past its minutes
    grant, url = link_of(paid_order)
    DownloadGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())

    # when
    response, _ = fetch(api_client, person_of(paid_order.buyer), url)

    # then
    assert response.status_code == 410
    assert b"data.csv" not in response.content


def test_a_refunded_order_is_gone(paid_order, api_client):
    # given a link issued, then the order refunded
    _grant, url = link_of(paid_order)
    operator = OperatorFactory()
    refunds.order_refund(
        actor=operator, order=paid_order, amount_fen=paid_order.amount_fen, reason="wrong file"
    )

    # when
    response, _ = fetch(api_client, person_of(paid_order.buyer), url)

    # then
    assert response.status_code == 410
    with pytest.raises(Conflict):
        link_of(paid_order)


def test_grants_are_for_the_buyer_of_a_paid_order_with_a_file():
    # given an unpaid order and a paid one without an upload
    product = file_product()
    upload(product)
    unpaid = place(plan=PlanFactory(product=product))
    no_file = pay(place(plan=PlanFactory(product=file_product())))

    # then
    with pytest.raises(Conflict):
        link_of(unpaid)
    with pytest.raises(Conflict):
        link_of(no_file)
    with pytest.raises(PermissionDenied):
        link_of(no_file, person_of(no_file.seller))


def test_the_api_issues_a_link_the_buyer_follows(paid_order, api_client):
    # given
    buyer_api = api_client(person_of(paid_order.buyer))

    # when the buyer asks for a grant and follows its url
    issued = buyer_api.post(reverse("download-grant-list"), {"order": paid_order.pk}, format="json")
    response = buyer_api.get(issued.json()["url"])

    # then
    assert issued.status_code == 201
    assert issued.json()["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert b"".join(response.streaming_content) == CONTENT
    log = buyer_api.get(reverse("download-list"), {"order": paid_order.pk}).json()["results"]
    assert log[0]["is_complete"] is True
    seller_api = api_client(person_of(paid_order.seller))
    assert (
        seller_api.post(
            reverse("download-grant-list"), {"order": paid_order.pk}, format="json"
        ).status_code
        == 403
    )


def test_the_certificate_carries_the_hash_and_the_log_digest(paid_order, api_client):
    # given a complete download
    _grant, url = link_of(paid_order)
    fetch(api_client, person_of(paid_order.buyer), url)
    paid_order.refresh_from_db()

    # when
    certificate = trade_certificate(order=paid_order)

    # then
    delivery = certificate["delivery"]
    assert delivery["file"]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert delivery["received_in_full"] is True
    assert delivery["download_log_sha256"] == downloads.download_log_digest(
        delivery["download_log"]
    )
    assert len(delivery["download_log"]) == 1


def test_the_buyer_downloads_from_the_order_admin_page(paid_order, client):
    # given the buyer's person signed in to the admin
    buyer = person_of(paid_order.buyer)
    client.force_login(buyer)
    page = client.get(reverse("admin:marketplace_order_change", args=[paid_order.pk]))
    link = reverse("admin:delivery_download_start", args=[paid_order.pk])

    # when the person follows the order page's download link
    started = client.get(link)
    response = client.get(started["Location"])

    # then the page shows the link and the file arrives
    assert page.status_code == 200
    assert link in page.content.decode()
    assert started.status_code == 302
    assert b"".join(response.streaming_content) == CONTENT
    client.force_login(person_of(paid_order.seller))
    assert client.get(link).status_code in (403, 404)
