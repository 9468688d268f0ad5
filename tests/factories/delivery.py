"""Builders for delivered files and uploads, made through the services as a seller would."""

import io

from delivery.models import Deliverable, Download, DownloadGrant, UploadSession, UploadSessionEvent
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
