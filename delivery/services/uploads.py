"""Sellers' uploads of delivered files: whole (admin form, multipart POST) or in chunks.

On arrival the exchange computes the file's SHA-256 and size itself; the file
is encrypted before it reaches storage (delivery/crypto.py). A product's file
is never replaced: each upload is the next version, and the one before is
marked superseded.
"""

import datetime as dt
import hashlib
import uuid
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict
from core.scoping import is_operator, merchant_id_of
from core.transitions import lock_one, transition
from delivery import files
from delivery.choices import UPLOAD_TRANSITIONS, UploadStatus
from delivery.crypto import SEGMENT_BYTES, master_key_id, new_data_key, wrap
from delivery.models import Deliverable, UploadChunk, UploadSession
from products.choices import DataSourceKind, DeliveryMode, ProductStatus
from products.models import Product

# Delivery modes whose product is handed over as a file.
FILE_DELIVERY_MODES = frozenset({DeliveryMode.FILE, DeliveryMode.REPORT, DeliveryMode.MODEL})
# 原始数据不出域: a product built on public data under a grant leaves the exchange
# only as results. Of the file modes, only a report is a result; a data set or
# model file could carry the raw records.
PUBLIC_DATA_FILE_MODES = frozenset({DeliveryMode.REPORT})
MAX_NAME_LENGTH = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def chunk_bytes() -> int:
    size = settings.EXCHANGE_DELIVERY_CHUNK_BYTES
    if size <= 0 or size % SEGMENT_BYTES:
        raise ValueError("EXCHANGE_DELIVERY_CHUNK_BYTES must be a positive multiple of 64 KiB")
    return size


def public_data_file_refused(product: Product) -> bool:
    """True when the product is built on public data and its mode is not a result."""
    return (
        product.source_kind == DataSourceKind.PUBLIC
        and product.delivery_mode not in PUBLIC_DATA_FILE_MODES
    )


def _check_uploader(actor: User | None, product: Product) -> None:
    """Only the seller's own people upload its products' files."""
    if is_operator(actor) or merchant_id_of(actor) != product.provider_id:
        raise PermissionDenied(_("Only the seller's people upload the files of its products."))
    if product.delivery_mode not in FILE_DELIVERY_MODES:
        raise BusinessRuleViolation(
            _("This product is delivered as %(mode)s, not as a file.")
            % {"mode": product.get_delivery_mode_display()},
            field="product",
            code="not_a_file_product",
        )
    if public_data_file_refused(product):
        raise BusinessRuleViolation(
            _(
                "This product is built on public data: it is delivered as results (an API, "
                "a report or the query service), never as a raw file."
            ),
            field="product",
            code="public_data_raw_file",
        )
    if product.status == ProductStatus.DELISTED:
        raise BusinessRuleViolation(
            _("The product is delisted; nothing more is delivered for it."),
            field="product",
            code="delisted",
        )


def _check_name(file_name: str) -> str:
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise BusinessRuleViolation(
            _("Give the file a name of 1 to 255 printable characters."), field="file_name"
        )
    return name


def _check_size(size: int, *, limit: int, field: str) -> None:
    if size < 0 or size > limit:
        raise BusinessRuleViolation(
            _("The file is %(size)s bytes; the limit is %(limit)s bytes.")
            % {"size": size, "limit": limit},
            field=field,
            code="too_large",
        )


def _deliverable_create(
    *,
    actor: User | None,
    product: Product,
    file_id,
    file_name: str,
    content_type: str,
    size: int,
    sha256: str,
    part_bytes: int,
    wrapped_key: str,
    key_id: str,
    note: str,
) -> Deliverable:
    """The next version of the product's file; the current one becomes superseded.

    The product row is locked so two uploads finishing at once number their
    versions one after the other; the partial unique constraint on current
    versions is the backstop.
    """
    Product.objects.select_for_update(no_key=True).filter(pk=product.pk).first()
    now = timezone.now()
    latest = Deliverable.objects.filter(product=product).aggregate(v=Max("version"))["v"] or 0
    Deliverable.objects.filter(product=product, superseded_at__isnull=True).update(
        superseded_at=now
    )
    try:
        with transaction.atomic():
            return Deliverable.objects.create(
                file_id=file_id,
                product=product,
                version=latest + 1,
                file_name=file_name,
                content_type=content_type or DEFAULT_CONTENT_TYPE,
                size_bytes=size,
                sha256=sha256,
                chunk_bytes=part_bytes,
                part_count=files.Layout(str(file_id), size, part_bytes).part_count,
                wrapped_key=wrapped_key,
                master_key_id=key_id,
                note=note,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("Another upload of this product finished at the same moment; try again."),
            code="upload_race",
        ) from exc


def deliverable_upload(
    *,
    actor: User,
    product: Product,
    stream: IO[bytes],
    file_name: str,
    size: int,
    content_type: str = "",
    note: str = "",
) -> Deliverable:
    """Store a whole file sent at once as the product's next version.

    The bytes are hashed and encrypted part by part as they are read, so the
    file is never held in memory whole; the size is what was read, not what
    the client declared.
    """
    _check_uploader(actor, product)
    name = _check_name(file_name)
    _check_size(size, limit=settings.EXCHANGE_DELIVERY_SIMPLE_UPLOAD_BYTES, field="file")
    part_bytes = chunk_bytes()
    file_id = uuid.uuid4()
    data_key = new_data_key()
    wrapped = wrap(data_key, context=f"deliverable:{file_id}")
    cipher = files.cipher_for(file_id=file_id, wrapped_key=wrapped)
    layout = files.Layout(str(file_id), size, part_bytes)
    digest = hashlib.sha256()
    received = 0
    written = 0
    try:
        for index in range(layout.part_count):
            plain = stream.read(layout.part_plain_bytes(index))
            if len(plain) != layout.part_plain_bytes(index):
                raise BusinessRuleViolation(
                    _("The file ended before its declared size."), field="file", code="truncated"
                )
            digest.update(plain)
            received += len(plain)
            files.write_part(file_id, index, files.seal_part(layout, cipher, index, plain))
            written += 1
        if stream.read(1):
            raise BusinessRuleViolation(
                _("The file is longer than its declared size."), field="file", code="too_long"
            )
        with transaction.atomic():
            return _deliverable_create(
                actor=actor,
                product=product,
                file_id=file_id,
                file_name=name,
                content_type=content_type,
                size=received,
                sha256=digest.hexdigest(),
                part_bytes=part_bytes,
                wrapped_key=wrapped,
                key_id=master_key_id(),
                note=note,
            )
    except BaseException:
        files.delete_parts(file_id, written)
        raise


# --- resumable uploads ----------------------------------------------------------------------


@transaction.atomic
def upload_session_open(
    *,
    actor: User,
    product: Product,
    file_name: str,
    size_bytes: int,
    content_type: str = "",
    sha256: str = "",
    note: str = "",
) -> UploadSession:
    """Open a resumable upload of `size_bytes` bytes, up to EXCHANGE_DELIVERY_MAX_FILE_BYTES."""
    _check_uploader(actor, product)
    name = _check_name(file_name)
    _check_size(size_bytes, limit=settings.EXCHANGE_DELIVERY_MAX_FILE_BYTES, field="size_bytes")
    expected = (sha256 or "").strip().lower()
    if expected and (len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected)):
        raise BusinessRuleViolation(
            _("Give the SHA-256 as 64 hexadecimal characters."), field="sha256"
        )
    file_id = uuid.uuid4()
    session = UploadSession.objects.create(
        file_id=file_id,
        product=product,
        file_name=name,
        content_type=content_type or DEFAULT_CONTENT_TYPE,
        size_bytes=size_bytes,
        expected_sha256=expected,
        note=note,
        chunk_bytes=chunk_bytes(),
        wrapped_key=wrap(new_data_key(), context=f"deliverable:{file_id}"),
        master_key_id=master_key_id(),
        created_by=actor,
        expires_at=timezone.now()
        + dt.timedelta(hours=settings.EXCHANGE_DELIVERY_UPLOAD_SESSION_HOURS),
    )
    session.events.create(actor=actor, from_status="", to_status=UploadStatus.OPEN, reason="")
    return session


def _check_session_owner(actor: User | None, session: UploadSession) -> None:
    if is_operator(actor) or merchant_id_of(actor) != session.product.provider_id:
        raise PermissionDenied(_("Only the seller's people send this upload."))


def _check_open(session: UploadSession, now: dt.datetime) -> None:
    if session.status != UploadStatus.OPEN:
        raise Conflict(
            _("This upload is %(status)s; open a new one.")
            % {"status": session.get_status_display()},
            code="upload_closed",
        )
    if session.expires_at <= now:
        raise Conflict(_("This upload has expired; open a new one."), code="upload_expired")


@transaction.atomic
def upload_chunk_receive(
    *, actor: User, session: UploadSession, index: int, data: bytes
) -> UploadChunk:
    """Store chunk `index` (0-based). Every chunk but the last is exactly chunk_bytes long.

    The session row is locked while the part is written, so completion never
    hashes a part that is being replaced.
    """
    session = (
        UploadSession.objects.select_for_update(no_key=True)
        .select_related("product")
        .get(pk=session.pk)
    )
    _check_session_owner(actor, session)
    _check_open(session, timezone.now())
    layout = files.Layout(str(session.file_id), session.size_bytes, session.chunk_bytes)
    if not 0 <= index < layout.part_count:
        raise BusinessRuleViolation(
            _("This upload has chunks 0 to %(last)s.") % {"last": layout.part_count - 1},
            field="index",
        )
    expected = layout.part_plain_bytes(index)
    if len(data) != expected:
        raise BusinessRuleViolation(
            _("Chunk %(index)s must be %(expected)s bytes; %(got)s arrived.")
            % {"index": index, "expected": expected, "got": len(data)},
            field="body",
            code="chunk_size",
        )
    cipher = files.cipher_for(file_id=session.file_id, wrapped_key=session.wrapped_key)
    files.write_part(session.file_id, index, files.seal_part(layout, cipher, index, data))
    chunk, _created = UploadChunk.objects.update_or_create(
        session=session,
        index=index,
        defaults={"size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()},
    )
    return chunk


@transaction.atomic
def upload_session_complete(*, actor: User, session: UploadSession) -> Deliverable:
    """All chunks in: hash the stored file and make it the product's next version."""
    session = (
        UploadSession.objects.select_for_update(no_key=True)
        .select_related("product")
        .get(pk=session.pk)
    )
    _check_session_owner(actor, session)
    _check_uploader(actor, session.product)
    _check_open(session, timezone.now())
    layout = files.Layout(str(session.file_id), session.size_bytes, session.chunk_bytes)
    have = set(session.chunks.values_list("index", flat=True))
    missing = [i for i in range(layout.part_count) if i not in have]
    if missing:
        shown = ", ".join(str(i) for i in missing[:20])
        raise BusinessRuleViolation(
            _("Chunks still missing: %(missing)s.") % {"missing": shown},
            field="chunks",
            code="incomplete",
        )
    cipher = files.cipher_for(file_id=session.file_id, wrapped_key=session.wrapped_key)
    sha256 = files.stored_sha256(layout, cipher)
    if session.expected_sha256 and sha256 != session.expected_sha256:
        raise BusinessRuleViolation(
            _("The file that arrived has SHA-256 %(got)s, not the %(expected)s announced.")
            % {"got": sha256, "expected": session.expected_sha256},
            field="sha256",
            code="hash_mismatch",
        )
    deliverable = _deliverable_create(
        actor=actor,
        product=session.product,
        file_id=session.file_id,
        file_name=session.file_name,
        content_type=session.content_type,
        size=session.size_bytes,
        sha256=sha256,
        part_bytes=session.chunk_bytes,
        wrapped_key=session.wrapped_key,
        key_id=session.master_key_id,
        note=session.note,
    )
    transition(
        session,
        to=UploadStatus.COMPLETED,
        actor=actor,
        reason=f"version {deliverable.version}, sha256 {sha256}",
        transitions=UPLOAD_TRANSITIONS,
        changes={"deliverable": deliverable},
    )
    return deliverable


def _abandon_locked(session: UploadSession, *, actor: User | None, reason: str) -> bool:
    changed = transition(
        session,
        to=UploadStatus.ABANDONED,
        actor=actor,
        reason=reason,
        transitions=UPLOAD_TRANSITIONS,
    )
    if changed:
        file_id = session.file_id
        parts = files.Layout(str(file_id), session.size_bytes, session.chunk_bytes).part_count
        transaction.on_commit(lambda: files.delete_parts(file_id, parts))
    return changed


@transaction.atomic
def upload_session_abandon(*, actor: User, session: UploadSession, reason: str = "") -> bool:
    """Give up an open upload; its stored chunks are deleted once this commits."""
    session = lock_one(UploadSession, session.pk)
    _check_session_owner(actor, session)
    return _abandon_locked(session, actor=actor, reason=reason or "abandoned by the seller")


def upload_sessions_expire(*, now: dt.datetime | None = None) -> int:
    """Abandon open uploads past their expiry, each in its own transaction; returns how many."""
    now = now or timezone.now()
    ids = list(
        UploadSession.objects.filter(status=UploadStatus.OPEN, expires_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            session = lock_one(UploadSession, pk)
            if session.status == UploadStatus.OPEN and session.expires_at <= now:
                done += _abandon_locked(session, actor=None, reason="expired")
    return done
