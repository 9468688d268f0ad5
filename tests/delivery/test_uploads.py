"""Uploads: the exchange hashes and encrypts what arrives, and never replaces a version."""

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core.exceptions import BusinessRuleViolation, Conflict
from delivery import files
from delivery.crypto import DecryptionFailed
from delivery.models import Deliverable, UploadSession
from delivery.services import uploads
from tests.factories.accounts import MerchantFactory, PersonFactory
from tests.factories.delivery import file_product, upload
from tests.factories.marketplace import person_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def plain_of(deliverable) -> bytes:
    layout = files.Layout(str(deliverable.file_id), deliverable.size_bytes, deliverable.chunk_bytes)
    cipher = files.cipher_for(file_id=deliverable.file_id, wrapped_key=deliverable.wrapped_key)
    return b"".join(files.read_plain(layout, cipher, 0, deliverable.size_bytes - 1))


def stored_bytes(deliverable) -> bytes:
    store = files.storage()
    return b"".join(
        store.open(files.part_name(deliverable.file_id, i), "rb").read()
        for i in range(deliverable.part_count)
    )


def test_upload_records_hash_and_size_and_stores_only_ciphertext():
    # given a file of several parts with a recognisable line
    content = b"57687,2024-05-01T08:00,12.5\n" * 20_000
    product = file_product()

    # when the seller uploads it
    deliverable = upload(product, content)

    # then the exchange computed hash and size, and storage holds none of the plain bytes
    assert deliverable.sha256 == hashlib.sha256(content).hexdigest()
    assert deliverable.size_bytes == len(content)
    assert deliverable.part_count == -(-len(content) // (128 * 1024))
    stored = stored_bytes(deliverable)
    assert b"57687,2024-05-01" not in stored
    assert stored != content
    assert plain_of(deliverable) == content


def test_a_new_upload_supersedes_and_never_replaces():
    # given a product with a first version
    product = file_product()
    first = upload(product, b"version one")

    # when the seller uploads again
    second = upload(product, b"version two, corrected")

    # then both versions exist with their own hashes; only the new one is current
    first.refresh_from_db()
    assert (first.version, second.version) == (1, 2)
    assert first.superseded_at is not None
    assert second.is_current
    assert first.sha256 == hashlib.sha256(b"version one").hexdigest()
    assert plain_of(first) == b"version one"
    assert plain_of(second) == b"version two, corrected"


def test_an_empty_file_is_a_version_too():
    deliverable = upload(file_product(), b"")
    assert deliverable.size_bytes == 0
    assert deliverable.sha256 == hashlib.sha256(b"").hexdigest()
    assert plain_of(deliverable) == b""


def test_tampered_ciphertext_does_not_open():
    # given a stored file whose first part someone altered in the bucket
    deliverable = upload(file_product(), b"x" * 1000)
    store = files.storage()
    name = files.part_name(deliverable.file_id, 0)
    blob = bytearray(store.open(name, "rb").read())
    blob[10] ^= 1
    store.delete(name)
    store.save(name, io.BytesIO(bytes(blob)))

    # then reading it fails rather than returning altered bytes
    with pytest.raises(DecryptionFailed):
        plain_of(deliverable)


def test_only_the_sellers_people_upload():
    product = file_product()
    outsider = PersonFactory(merchant=MerchantFactory())
    with pytest.raises(PermissionDenied):
        uploads.deliverable_upload(
            actor=outsider, product=product, stream=io.BytesIO(b"x"), file_name="x", size=1
        )
    assert not Deliverable.objects.exists()


def test_public_data_products_are_never_delivered_as_raw_files():
    # given a product built on public data, sold as a data set
    product = file_product(source_kind="public")

    # when its seller tries to upload a file
    with pytest.raises(BusinessRuleViolation) as refused:
        upload(product, b"raw records")

    # then it is refused by name; a report of the same data is allowed
    assert refused.value.code == "public_data_raw_file"
    report = file_product(source_kind="public", delivery_mode="report")
    assert upload(report, b"a report").version == 1


def test_api_products_take_no_files():
    with pytest.raises(BusinessRuleViolation) as refused:
        upload(file_product(delivery_mode="api"), b"x")
    assert refused.value.field == "product"


def test_declared_size_must_match():
    product = file_product()
    with pytest.raises(BusinessRuleViolation):
        uploads.deliverable_upload(
            actor=person_of(product.provider),
            product=product,
            stream=io.BytesIO(b"short"),
            file_name="a.csv",
            size=10,
        )
    assert not Deliverable.objects.exists()


# --- resumable uploads ------------------------------------------------------------------


def _chunks(content: bytes, size: int) -> list[bytes]:
    return [content[i : i + size] for i in range(0, len(content), size)] or [b""]


def test_chunked_upload_in_any_order_with_a_resent_chunk():
    # given a file of four chunks and an open session
    content = os.urandom(3 * 128 * 1024 + 999)
    product = file_product()
    seller = person_of(product.provider)
    session = uploads.upload_session_open(
        actor=seller,
        product=product,
        file_name="stations.bin",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    parts = _chunks(content, session.chunk_bytes)
    assert session.chunk_count == 4

    # when the chunks arrive out of order, one of them twice (the first time damaged)
    for index in (3, 1, 0):
        uploads.upload_chunk_receive(actor=seller, session=session, index=index, data=parts[index])
    damaged = bytes(len(parts[2]))
    uploads.upload_chunk_receive(actor=seller, session=session, index=2, data=damaged)
    uploads.upload_chunk_receive(actor=seller, session=session, index=2, data=parts[2])
    deliverable = uploads.upload_session_complete(actor=seller, session=session)

    # then the stored file is the one announced, under the session's file id
    assert deliverable.sha256 == hashlib.sha256(content).hexdigest()
    assert deliverable.file_id == session.file_id
    assert plain_of(deliverable) == content
    session.refresh_from_db()
    assert session.status == "completed"
    assert session.deliverable == deliverable


def test_completion_waits_for_every_chunk_and_checks_the_announced_hash():
    content = os.urandom(2 * 128 * 1024)
    product = file_product()
    seller = person_of(product.provider)
    session = uploads.upload_session_open(
        actor=seller, product=product, file_name="a.bin", size_bytes=len(content), sha256="0" * 64
    )
    parts = _chunks(content, session.chunk_bytes)
    uploads.upload_chunk_receive(actor=seller, session=session, index=0, data=parts[0])
    with pytest.raises(BusinessRuleViolation) as missing:
        uploads.upload_session_complete(actor=seller, session=session)
    assert missing.value.code == "incomplete"
    uploads.upload_chunk_receive(actor=seller, session=session, index=1, data=parts[1])
    with pytest.raises(BusinessRuleViolation) as mismatch:
        uploads.upload_session_complete(actor=seller, session=session)
    assert mismatch.value.code == "hash_mismatch"
    assert not Deliverable.objects.exists()


def test_chunk_of_the_wrong_size_or_number_is_refused():
    product = file_product()
    seller = person_of(product.provider)
    session = uploads.upload_session_open(
        actor=seller, product=product, file_name="a.bin", size_bytes=200 * 1024
    )
    with pytest.raises(BusinessRuleViolation) as wrong_size:
        uploads.upload_chunk_receive(actor=seller, session=session, index=0, data=b"x" * 10)
    assert wrong_size.value.code == "chunk_size"
    with pytest.raises(BusinessRuleViolation) as wrong_index:
        uploads.upload_chunk_receive(actor=seller, session=session, index=2, data=b"x")
    assert wrong_index.value.field == "index"


def test_abandoned_upload_takes_no_more_chunks_and_its_parts_go(
    django_capture_on_commit_callbacks,
):
    product = file_product()
    seller = person_of(product.provider)
    session = uploads.upload_session_open(
        actor=seller, product=product, file_name="a.bin", size_bytes=5
    )
    uploads.upload_chunk_receive(actor=seller, session=session, index=0, data=b"12345")
    with django_capture_on_commit_callbacks(execute=True):
        uploads.upload_session_abandon(actor=seller, session=session)
    assert not files.storage().exists(files.part_name(session.file_id, 0))
    with pytest.raises(Conflict):
        uploads.upload_chunk_receive(actor=seller, session=session, index=0, data=b"12345")


def test_file_larger_than_the_limit_is_refused(settings):
    settings.EXCHANGE_DELIVERY_MAX_FILE_BYTES = 1000
    product = file_product()
    with pytest.raises(BusinessRuleViolation) as refused:
        uploads.upload_session_open(
            actor=person_of(product.provider), product=product, file_name="a", size_bytes=1001
        )
    assert refused.value.field == "size_bytes"


# --- the API and the admin ---------------------------------------------------------------


def test_api_chunked_upload_round_trip(api_client):
    # given a seller's integration and a file of three chunks
    content = os.urandom(2 * 128 * 1024 + 17)
    product = file_product()
    client = api_client(person_of(product.provider))

    # when it opens a session, PUTs the chunks and completes
    opened = client.post(
        reverse("upload-session-list"),
        {"product": product.pk, "file_name": "big.bin", "size_bytes": len(content)},
        format="json",
    )
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    for index, part in enumerate(_chunks(content, body["chunk_bytes"])):
        sent = client.put(
            f"/api/v1/upload-sessions/{body['id']}/chunks/{index}/",
            data=part,
            content_type="application/octet-stream",
        )
        assert sent.status_code == 200, sent.json()
        assert sent.json()["sha256"] == hashlib.sha256(part).hexdigest()
    state = client.get(reverse("upload-session-detail", args=[body["id"]])).json()
    done = client.post(f"/api/v1/upload-sessions/{body['id']}/complete/")

    # then the session listed every chunk and the version carries the exchange's hash
    assert [c["index"] for c in state["chunks"]] == [0, 1, 2]
    assert done.status_code == 201, done.json()
    assert done.json()["sha256"] == hashlib.sha256(content).hexdigest()
    assert done.json()["size_bytes"] == len(content)


def test_api_oversized_chunk_is_a_400_naming_the_body(api_client):
    product = file_product()
    client = api_client(person_of(product.provider))
    session = uploads.upload_session_open(
        actor=person_of(product.provider), product=product, file_name="a", size_bytes=10
    )
    sent = client.put(
        f"/api/v1/upload-sessions/{session.pk}/chunks/0/",
        data=b"x" * (128 * 1024 + 1),
        content_type="application/octet-stream",
    )
    assert sent.status_code == 400
    assert sent.json()["errors"][0]["field"] == "body"


def test_api_whole_file_upload_and_refusal_for_another_merchant(api_client):
    product = file_product()
    seller_api = api_client(person_of(product.provider))
    outsider_api = api_client(PersonFactory(merchant=MerchantFactory()))
    content = b"a,b\n1,2\n"

    refused = outsider_api.post(
        reverse("deliverable-list"),
        {"product": product.pk, "file": io.BytesIO(content)},
        format="multipart",
    )
    sent = seller_api.post(
        reverse("deliverable-list"),
        {"product": product.pk, "file": _named(content, "table.csv")},
        format="multipart",
    )

    assert refused.status_code == 403
    assert sent.status_code == 201, sent.json()
    assert sent.json()["sha256"] == hashlib.sha256(content).hexdigest()
    assert sent.json()["file_name"] == "table.csv"


def _named(content: bytes, name: str):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def test_seller_uploads_in_the_admin(client):
    # given a seller's person in the admin
    product = file_product()
    client.force_login(person_of(product.provider))
    content = b"station,rain\n57687,3.2\n"

    # when they add a delivered file through the form
    answer = client.post(
        reverse("admin:delivery_deliverable_add"),
        {"product": product.pk, "note": "first", "upload": _named(content, "rain.csv")},
    )

    # then the version exists with the exchange's hash
    assert answer.status_code == 302, answer.content[:2000]
    deliverable = Deliverable.objects.get(product=product)
    assert deliverable.sha256 == hashlib.sha256(content).hexdigest()
    assert deliverable.file_name == "rain.csv"


def test_admin_form_shows_a_refusal_and_stores_nothing(client):
    product = file_product(source_kind="public")
    client.force_login(person_of(product.provider))
    answer = client.post(
        reverse("admin:delivery_deliverable_add"),
        {"product": product.pk, "upload": _named(b"raw", "raw.csv")},
    )
    assert answer.status_code == 200
    assert not Deliverable.objects.exists()
    assert not UploadSession.objects.exists()


def test_production_refuses_to_start_without_the_master_key():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DELIVERY_MASTER_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://localhost/x",
        REDIS_URL="redis://localhost:6379/0",
        PAYMENT_WEBHOOK_SECRET="y",
    )
    script = "import config.settings.production"
    missing = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    short = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=ROOT, env={**env, "DELIVERY_MASTER_KEY": "c2hvcnQ="},
        capture_output=True, text=True,
    )  # fmt: skip
    good = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DELIVERY_MASTER_KEY": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="},
        capture_output=True,
        text=True,
    )
    assert "DELIVERY_MASTER_KEY must be set" in missing.stderr
    assert "32 random bytes" in short.stderr
    assert good.returncode == 0, good.stderr
