"""The local demo's simulated payment: the channel's signed notification, sent down its own path."""

import pytest
from django.core.exceptions import PermissionDenied

from marketplace.models import PaymentNotification
from marketplace.services.payments import payment_demo_simulate
from tests.factories.marketplace import person_of, place

pytestmark = pytest.mark.django_db


def test_a_simulated_payment_pays_through_the_notification_path(settings, buyer, plan):
    # given the demo switch on and an order waiting for payment
    settings.EXCHANGE_DEMO_PAYMENTS = True
    order = place(buyer, plan)
    # when the buyer simulates the payment
    paid, outcome = payment_demo_simulate(actor=person_of(buyer), order=order)
    # then the order is paid and the notification is recorded as the channel's would be
    assert (paid.status, outcome) == ("paid", "paid")
    notification = PaymentNotification.objects.get(order=order)
    assert notification.amount_fen == order.amount_fen


def test_simulated_payments_are_refused_unless_the_demo_is_on(settings, buyer, plan):
    settings.EXCHANGE_DEMO_PAYMENTS = False
    order = place(buyer, plan)
    with pytest.raises(PermissionDenied):
        payment_demo_simulate(actor=person_of(buyer), order=order)
    order.refresh_from_db()
    assert order.status == "pending_payment"
    assert not PaymentNotification.objects.exists()


def test_only_the_buyer_may_simulate_its_payment(settings, buyer, seller, plan):
    settings.EXCHANGE_DEMO_PAYMENTS = True
    order = place(buyer, plan)
    with pytest.raises(PermissionDenied):
        payment_demo_simulate(actor=person_of(seller), order=order)
    order.refresh_from_db()
    assert order.status == "pending_payment"
