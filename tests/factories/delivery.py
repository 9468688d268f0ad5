"""Builders for delivered files and uploads, made through the services as a seller would."""

import io

from django.test import override_settings
from django.utils import timezone

from delivery.models import (
    ApiKey,
    Deliverable,
    Download,
    DownloadGrant,
    GatewayCall,
    UploadSession,
    UploadSessionEvent,
    Upstream,
)
from delivery.services import downloads, uploads
from tests.factories.marketplace import listed_product, person_of
from tests.factories.world import builds


def file_product(provider=None, **kwargs):
    kwargs.setdefault("delivery_mode", "file")
    if provider is not None:
        kwargs["provider"] = provider
    return listed_product(**kwargs)


def upload(product, content: bytes = b"station,temperature\n57687,12.5\n", *, name="data.csv"):
    """The product's next version, uploaded whole by one of the seller's people."""
    return uploads.deliverable_upload(
        actor=person_of(product.provider),
        product=product,
        stream=io.BytesIO(content),
        file_name=name,
        size=len(content),
        content_type="text/csv",
    )


@builds(Deliverable)
def _deliverable(owner, counterparty):
    return upload(file_product(owner))


@builds(UploadSession)
def _upload_session(owner, counterparty):
    product = file_product(owner)
    return uploads.upload_session_open(
        actor=person_of(owner), product=product, file_name="big.csv", size_bytes=10
    )


@builds(UploadSessionEvent)
def _upload_session_event(owner, counterparty):
    return _upload_session(owner, counterparty).events.first()


def paid_file_order(buyer, seller):
    """A paid order of `seller`'s file product (with an upload) by `buyer`."""
    from marketplace.services.payments import order_pay, payment_notice_parse, payment_signature
    from tests.factories.marketplace import notification_body, place
    from tests.factories.products import PlanFactory

    product = file_product(seller)
    upload(product)
    order = place(buyer, PlanFactory(product=product))
    body = notification_body(order)
    order_pay(notice=payment_notice_parse(body=body, signature=payment_signature(body)))
    order.refresh_from_db()
    return order


@builds(DownloadGrant)
def _download_grant(owner, counterparty):
    order = paid_file_order(owner, counterparty)
    return downloads.download_grant_issue(actor=person_of(owner), order=order)[0]


@builds(Download)
def _download(owner, counterparty):
    grant = _download_grant(owner, counterparty)
    stream = downloads.download_start(actor=person_of(owner), grant=grant, span=None)
    b"".join(stream.chunks)
    return stream.download


def api_product_with_upstream(provider):
    """A listed API product of `provider` with an upstream on loopback (never called here)."""
    from delivery.services import gateway

    product = listed_product(provider=provider, delivery_mode="api")
    with override_settings(EXCHANGE_GATEWAY_ALLOW_LOOPBACK=True):
        gateway.upstream_register(
            actor=person_of(provider),
            product=product,
            base_url="http://127.0.0.1:9620/v1",
            header_name="X-Upstream-Key",
            secret="builder-secret",
        )
    return product


@builds(Upstream)
def _upstream(owner, counterparty):
    return api_product_with_upstream(owner).upstream


def subscription_key(buyer, seller):
    from delivery.services import gateway
    from tests.factories.products import PlanFactory

    product = api_product_with_upstream(seller)
    plan = PlanFactory(product=product, kind="subscription", period="month", price_fen=100_00)
    order = paid_order_of(buyer, plan)
    return gateway.api_key_issue(actor=person_of(buyer), order=order)


def paid_order_of(buyer, plan):
    from marketplace.services.payments import order_pay, payment_notice_parse, payment_signature
    from tests.factories.marketplace import notification_body, place

    order = place(buyer, plan)
    body = notification_body(order)
    order_pay(notice=payment_notice_parse(body=body, signature=payment_signature(body)))
    order.refresh_from_db()
    return order


@builds(ApiKey)
def _api_key(owner, counterparty):
    return subscription_key(owner, counterparty)[0]


@builds(GatewayCall)
def _gateway_call(owner, counterparty):
    key = _api_key(owner, counterparty)
    return GatewayCall.objects.create(
        api_key=key,
        call_id="built",
        buyer=owner,
        plan=key.plan,
        month=timezone.localdate().replace(day=1),
        method="GET",
        path="echo",
    )
