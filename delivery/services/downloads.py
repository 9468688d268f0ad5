"""Download grants and the download log: the buyer receives the file through the exchange.

A grant is a signed, expiring link for one order's file (the version current
when the grant was issued). Only the buyer's people may use it, only while the
order is paid and not refunded. Every request through a grant is logged
(who, when, which bytes, how many were sent, whether all were sent). When the
buyer's downloads of the file have together covered every byte, the order is
delivered (the seller need not click) and the acceptance clock starts.
"""

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict
from core.scoping import is_operator, merchant_id_of
from delivery import files
from delivery.models import Deliverable, Download, DownloadGrant
from delivery.services.uploads import FILE_DELIVERY_MODES, public_data_file_refused
from marketplace.choices import OrderStatus
from marketplace.models import Order
from marketplace.services.orders import order_deliver_by_exchange

SIGNING_SALT = "delivery.download-grant"
# Orders whose buyer has paid and not been refunded: the file may be fetched.
DOWNLOADABLE_STATUSES = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.DELIVERED,
        OrderStatus.ACCEPTED,
        OrderStatus.CLEARED,
        OrderStatus.SETTLED,
    }
)
RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")


class DownloadRefused(Exception):
    """A download that may not happen. `status` is 403 (not yours, not valid) or 410 (gone).

    The message shown is the same for every refusal, so a refused person learns
    nothing about the file, the order or why.
    """

    def __init__(self, status: int):
        self.status = status
        super().__init__(status)


class RangeNotSatisfiable(Exception):
    """The Range header is malformed, asks for several ranges, or lies outside the file."""


def grant_minutes() -> int:
    return max(1, settings.EXCHANGE_DELIVERY_GRANT_MINUTES)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def download_grant_issue(*, actor: User, order: Order) -> tuple[DownloadGrant, str]:
    """A grant for the buyer's person `actor` to fetch the order's file; returns (grant, token).

    Invariants: only the buyer's people get grants (not the seller, not an
    operator); only for a paid, unrefunded order of a product delivered as a
    file that has one; the grant names the version current now, so what the
    buyer receives is fixed by its hash.
    """
    order = Order.objects.select_related("product").get(pk=order.pk)
    if is_operator(actor) or merchant_id_of(actor) != order.buyer_id:
        raise PermissionDenied(_("Only the buyer's people download the files of its orders."))
    if order.product.delivery_mode not in FILE_DELIVERY_MODES or public_data_file_refused(
        order.product
    ):
        raise BusinessRuleViolation(
            _("This order's product is not delivered as a file."),
            field="order",
            code="not_a_file_product",
        )
    if order.status not in DOWNLOADABLE_STATUSES or order.refunded_fen >= order.amount_fen > 0:
        raise Conflict(
            _("The order is %(status)s: there is nothing to download.")
            % {"status": order.get_status_display()},
            code="not_downloadable",
        )
    deliverable = (
        Deliverable.objects.filter(product_id=order.product_id, superseded_at__isnull=True)
        .order_by("-version")
        .first()
    )
    if deliverable is None:
        raise Conflict(_("The seller has not uploaded the file yet."), code="nothing_uploaded")
    secret = secrets.token_urlsafe(24)
    grant = DownloadGrant.objects.create(
        order=order,
        deliverable=deliverable,
        issued_to=actor,
        secret_sha256=_secret_hash(secret),
        expires_at=timezone.now() + dt.timedelta(minutes=grant_minutes()),
    )
    # The link carries the secret signed with the site's key: forged or altered
    # links fail the signature before any lookup.
    return grant, signing.dumps(secret, salt=SIGNING_SALT)


def download_grant_check(*, actor: User | None, token: str) -> DownloadGrant:
    """The grant behind `token` if `actor` may use it now; DownloadRefused otherwise.

    Refusals, in order: a token that is not ours or a person who is not one of
    the buyer's people (403); a refunded or cancelled order, an expired grant (410).
    """
    try:
        secret = signing.loads(token, salt=SIGNING_SALT)
    except signing.BadSignature as exc:
        raise DownloadRefused(403) from exc
    grant = (
        DownloadGrant.objects.select_related("order", "deliverable")
        .filter(secret_sha256=_secret_hash(str(secret)))
        .first()
    )
    if grant is None:
        raise DownloadRefused(403)
    if is_operator(actor) or merchant_id_of(actor) != grant.order.buyer_id:
        raise DownloadRefused(403)
    order = grant.order
    if order.status not in DOWNLOADABLE_STATUSES or order.refunded_fen >= order.amount_fen > 0:
        raise DownloadRefused(410)
    if grant.expires_at <= timezone.now():
        raise DownloadRefused(410)
    return grant


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """[start, end] (inclusive) asked for by a Range header, None for the whole file.

    One range per request; several ranges, a malformed header or a range
    outside the file raise RangeNotSatisfiable (the view answers 416).
    """
    if not header:
        return None
    match = RANGE_PATTERN.match(header.strip())
    if match is None:
        raise RangeNotSatisfiable(header)
    first, last = match.groups()
    if not first and not last:
        raise RangeNotSatisfiable(header)
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(header)
    return start, min(end, size - 1)


@dataclass
class DownloadStream:
    """What the view sends: the logged download, the bytes asked for and their iterator."""

    download: Download
    start: int
    end: int
    chunks: Generator[bytes, None, None]


def download_start(
    *, actor: User, grant: DownloadGrant, span: tuple[int, int] | None
) -> DownloadStream:
    """Log a download through `grant` and return the decrypted bytes to send.

    The log row is written before the first byte, then finished as the stream
    ends (or breaks off), so an interrupted download stays in the log as incomplete.
    """
    deliverable = grant.deliverable
    size = deliverable.size_bytes
    start, end = span if span is not None else (0, size - 1)
    download = Download.objects.create(
        grant=grant,
        order_id=grant.order_id,
        deliverable=deliverable,
        downloaded_by=actor,
        range_start=start,
        range_end=max(end, start - 1),
        bytes_requested=max(0, end - start + 1),
    )
    layout = files.Layout(str(deliverable.file_id), size, deliverable.chunk_bytes)
    cipher = files.cipher_for(file_id=deliverable.file_id, wrapped_key=deliverable.wrapped_key)
    return DownloadStream(
        download=download,
        start=start,
        end=end,
        chunks=_logged(download, files.read_plain(layout, cipher, start, end)),
    )


def _logged(download: Download, pieces: Iterator[bytes]) -> Generator[bytes, None, None]:
    sent = 0
    try:
        for piece in pieces:
            # counted as handed to the server; a client gone mid-piece shows as incomplete
            sent += len(piece)
            yield piece
    finally:
        download_finish(download=download, bytes_sent=sent)


def download_finish(*, download: Download, bytes_sent: int) -> Download:
    """Record how the download ended; deliver the order once the buyer has every byte."""
    download.bytes_sent = bytes_sent
    download.is_complete = bytes_sent == download.bytes_requested
    download.finished_at = timezone.now()
    download.save(update_fields=["bytes_sent", "is_complete", "finished_at"])
    if download.is_complete and _whole_file_received(download):
        order_deliver_by_exchange(
            actor=download.downloaded_by,
            order=download.order,
            note=_("Received through the exchange: %(name)s v%(version)s, SHA-256 %(sha)s")
            % {
                "name": download.deliverable.file_name,
                "version": download.deliverable.version,
                "sha": download.deliverable.sha256,
            },
        )
    return download


def _whole_file_received(download: Download) -> bool:
    """True when the order's complete downloads of this file cover all its bytes."""
    size = download.deliverable.size_bytes
    spans = sorted(
        Download.objects.filter(
            order_id=download.order_id, deliverable_id=download.deliverable_id, is_complete=True
        ).values_list("range_start", "range_end")
    )
    covered = 0  # bytes [0, covered) are received
    for start, end in spans:
        if start > covered:
            break
        covered = max(covered, end + 1)
    return covered >= size


def download_log_digest(rows: list[dict]) -> str:
    """SHA-256 of the download log's canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def delivery_evidence(*, order: Order) -> dict | None:
    """What the exchange can prove about the order's file: its hash and the download log.

    None for an order whose product is not delivered as a file through the exchange.
    """
    downloads = list(
        Download.objects.filter(order=order)
        .select_related("deliverable", "downloaded_by")
        .order_by("id")
    )
    granted = (
        DownloadGrant.objects.filter(order=order).select_related("deliverable").order_by("-id")
    ).first()
    if not downloads and granted is None:
        return None
    delivered = next((d.deliverable for d in reversed(downloads) if d.is_complete), None)
    deliverable = delivered or (downloads[-1].deliverable if downloads else granted.deliverable)  # type: ignore[union-attr]
    log = [
        {
            "id": d.pk,
            "file_sha256": d.deliverable.sha256,
            "version": d.deliverable.version,
            "by": d.downloaded_by.get_username() if d.downloaded_by else "",
            "started_at": d.started_at.isoformat(),
            "finished_at": d.finished_at.isoformat() if d.finished_at else None,
            "range_start": d.range_start,
            "range_end": d.range_end,
            "bytes_sent": d.bytes_sent,
            "is_complete": d.is_complete,
        }
        for d in downloads
    ]
    return {
        "file": {
            "name": deliverable.file_name,
            "version": deliverable.version,
            "size_bytes": deliverable.size_bytes,
            "sha256": deliverable.sha256,
        },
        "received_in_full": delivered is not None and _covered(downloads, deliverable),
        "download_count": len(downloads),
        "download_log": log,
        "download_log_sha256": download_log_digest(log),
    }


def _covered(downloads: list[Download], deliverable: Deliverable) -> bool:
    covered = 0
    spans = sorted(
        (d.range_start, d.range_end)
        for d in downloads
        if d.is_complete and d.deliverable_id == deliverable.pk
    )
    for start, end in spans:
        if start > covered:
            break
        covered = max(covered, end + 1)
    return covered >= deliverable.size_bytes
