import json
import time

import pytest
from django.urls import reverse

from marketplace.models import PaymentNotification
from marketplace.services.payments import payment_signature
from tests.factories.marketplace import notification_body, place
from tests.marketplace.conftest import escrow_of

pytestmark = pytest.mark.django_db
NOTIFY = reverse("payment-notify")


def notify(client, body: bytes, signature: str | None = None):
    return client.post(
        NOTIFY,
        body,
        content_type="application/json",
        HTTP_X_PAYMENT_SIGNATURE=payment_signature(body) if signature is None else signature,
    )


def test_signed_notification_pays_the_order(client, buyer, plan):
    # given
    order = place(buyer, plan)
    # when the channel notifies, without any session or token
    response = notify(client, notification_body(order))
    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"order_number": order.number, "status": "paid", "outcome": "paid"}
    assert escrow_of(buyer) == 120_00


def test_a_duplicate_notification_is_harmless(client, buyer, plan):
    order = place(buyer, plan)
    notify(client, notification_body(order))
    # when the channel sends the news again (new nonce)
    response = notify(client, notification_body(order))
    # then nothing changes
    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    assert escrow_of(buyer) == 120_00
    assert order.journal_entries.count() == 1
    assert order.events.filter(to_status="paid").count() == 1


def test_a_replayed_nonce_is_refused(client, buyer, plan):
    order = place(buyer, plan)
    body = notification_body(order)
    notify(client, body)
    response = notify(client, body)
    assert response.status_code == 409
    assert response.json()["error_code"] == "replay"
    assert PaymentNotification.objects.count() == 1


@pytest.mark.parametrize("signature", ["", "0" * 64, "not-hex", "A" * 1000])
def test_a_bad_signature_is_refused_and_changes_nothing(client, buyer, plan, signature):
    order = place(buyer, plan)
    response = notify(client, notification_body(order), signature=signature)
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_a_body_signed_with_another_secret_is_refused(client, buyer, plan):
    order = place(buyer, plan)
    body = notification_body(order)
    response = notify(client, body, signature=payment_signature(body, secret="guess"))
    assert response.status_code == 403


def test_a_tampered_body_is_refused(client, buyer, plan):
    order = place(buyer, plan)
    body = notification_body(order, amount="0.01")
    signature = payment_signature(body)
    tampered = body.replace(b'"0.01"', b'"120.00"')
    assert notify(client, tampered, signature=signature).status_code == 403


@pytest.mark.parametrize("skew", [-301, 301, 10**12])
def test_a_stale_or_future_timestamp_is_refused(client, buyer, plan, skew):
    order = place(buyer, plan)
    response = notify(client, notification_body(order, timestamp=int(time.time()) + skew))
    assert response.status_code == 400
    assert "timestamp" in response.json()


def test_an_amount_mismatch_is_refused(client, buyer, plan):
    order = place(buyer, plan)
    response = notify(client, notification_body(order, amount="119.99"))
    assert response.status_code == 400
    assert "amount" in response.json()
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_payment_for_a_cancelled_order_is_a_409(client, buyer, plan):
    from marketplace.services.orders import order_cancel
    from tests.factories.marketplace import person_of

    order = place(buyer, plan)
    order_cancel(actor=person_of(buyer), order=order)
    response = notify(client, notification_body(order))
    assert response.status_code == 409
    assert escrow_of(buyer) == 0


def _signed_fields(**fields) -> bytes:
    return json.dumps({"timestamp": int(time.time()), **fields}).encode()


@pytest.mark.parametrize(
    "make_body",
    [
        lambda: b"not json",
        lambda: b"[1]",
        lambda: b"\xff\xfe",
        lambda: json.dumps({"timestamp": "now"}).encode(),
        lambda: _signed_fields(amount=12.5),
        lambda: _signed_fields(amount="1.00", channel_reference="x", nonce="n1"),
        lambda: _signed_fields(
            order_number="nope", amount="1.00", channel_reference="x", nonce="n1"
        ),
        lambda: _signed_fields(
            order_number="x" * 40, amount="1.00", channel_reference="x", nonce="n1"
        ),
    ],
)
def test_garbage_signed_bodies_are_400(client, make_body):
    response = notify(client, make_body())
    assert response.status_code == 400, response.content
