"""Builders for trading records, and helpers that move orders through the services."""

import json
import secrets
import time

import factory
from django.utils import timezone

from marketplace.models import (
    Dispute,
    Order,
    OrderEvent,
    OrderIdempotencyKey,
    PaymentNotification,
    Refund,
    RefundEvent,
    UsageRecord,
)
from marketplace.services import orders
from marketplace.services.payments import order_pay, payment_notice_parse, payment_signature
from tests.factories.accounts import MerchantFactory, PersonFactory
from tests.factories.products import PlanFactory, ProductFactory
from tests.factories.world import builds


def listed_product(**kwargs):
    """A listed product with what listing gives it (registration number, listing time)."""
    kwargs.setdefault("listed_at", timezone.now())
    return ProductFactory(**kwargs)


class OrderFactory(factory.django.DjangoModelFactory):
    """A bare order row (no ledger entries); use `place` and `pay` for real lifecycles."""

    class Meta:
        model = Order

    buyer = factory.SubFactory(MerchantFactory)
    plan = factory.LazyFunction(lambda: PlanFactory(product=listed_product()))
    product = factory.SelfAttribute("plan.product")
    seller = factory.SelfAttribute("plan.product.provider")
    number = factory.Sequence(lambda n: f"T{n:015d}")
    amount_fen = factory.SelfAttribute("plan.price_fen")
    delivery_mode = "api"


def person_of(merchant):
    """One of the merchant's people, created on first use."""
    person = merchant.people.first()
    return person or PersonFactory(merchant=merchant, merchant_role="owner")


def place(buyer=None, plan=None, **kwargs) -> Order:
    buyer = buyer or MerchantFactory()
    plan = plan or PlanFactory(product=listed_product())
    return orders.order_place(actor=person_of(buyer), buyer=buyer, plan=plan, **kwargs)


def notification_body(order: Order, *, amount: str | None = None, **overrides) -> bytes:
    from core.money import fen_to_yuan

    data = {
        "order_number": order.number,
        "amount": amount if amount is not None else fen_to_yuan(order.amount_fen),
        "channel_reference": f"CH{secrets.token_hex(6)}",
        "timestamp": int(time.time()),
        "nonce": secrets.token_hex(12),
        **overrides,
    }
    return json.dumps(data).encode()


def pay(order: Order, **overrides) -> Order:
    body = notification_body(order, **overrides)
    notice = payment_notice_parse(body=body, signature=payment_signature(body))
    paid, _ = order_pay(notice=notice)
    return paid


def delivered(buyer=None, plan=None, **kwargs) -> Order:
    order = pay(place(buyer, plan, **kwargs))
    return orders.order_deliver(actor=person_of(order.seller), order=order, note="sent")


def accepted(buyer=None, plan=None, **kwargs) -> Order:
    order = delivered(buyer, plan, **kwargs)
    return orders.order_accept(actor=person_of(order.buyer), order=order)


@builds(Order)
def _order(owner, counterparty):
    return OrderFactory(
        buyer=owner, plan=PlanFactory(product=listed_product(provider=counterparty))
    )


@builds(OrderEvent)
def _order_event(owner, counterparty):
    order = _order(owner, counterparty)
    return OrderEvent.objects.create(subject=order, from_status="", to_status="pending_payment")


@builds(Refund)
def _refund(owner, counterparty):
    order = _order(owner, counterparty)
    return Refund.objects.create(order=order, amount_fen=1, reason="not as described")


@builds(RefundEvent)
def _refund_event(owner, counterparty):
    refund = _refund(owner, counterparty)
    return RefundEvent.objects.create(subject=refund, from_status="", to_status="requested")


@builds(Dispute)
def _dispute(owner, counterparty):
    order = _order(owner, counterparty)
    return Dispute.objects.create(order=order, reason="not as described")


@builds(UsageRecord)
def _usage(owner, counterparty):
    plan = PlanFactory(product=listed_product(provider=owner), kind="metered", price_fen=0)
    return UsageRecord.objects.create(
        seller=owner,
        buyer=counterparty,
        plan=plan,
        record_id=secrets.token_hex(8),
        calls=10,
        used_at=timezone.now(),
    )


@builds(PaymentNotification)
def _payment_notification(owner, counterparty):
    order = _order(owner, counterparty)
    return PaymentNotification.objects.create(
        nonce=secrets.token_hex(12),
        order=order,
        channel_reference="CH1",
        amount_fen=order.amount_fen,
        sent_at=timezone.now(),
        outcome="paid",
    )


@builds(OrderIdempotencyKey)
def _idempotency_key(owner, counterparty):
    return OrderIdempotencyKey.objects.create(merchant=owner, key=secrets.token_hex(8),
                                              request_hash="0" * 64)  # fmt: skip
