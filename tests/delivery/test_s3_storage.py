"""The S3 path: delivered files on an S3-compatible store, here moto's server on loopback."""

import hashlib
import os
import socket
import subprocess
import sys
import time

import boto3  # type: ignore[import-untyped]
import pytest

from delivery import files
from tests.factories.delivery import file_product, upload

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# In the delivery helper's loopback range; nothing else listens there in the suite.
PORT = 9611
BUCKET = "exchange-deliverables"


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("moto's S3 server stopped at start")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    process.kill()
    pytest.fail("moto's S3 server did not start")


@pytest.fixture
def s3_server():
    process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed argv
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(PORT, process)
        yield f"http://127.0.0.1:{PORT}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_storage(settings, s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "deliverables": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "location": "deliverables",
                "default_acl": "private",
                "file_overwrite": True,
            },
        },
    }
    return client


def test_file_on_s3_is_ciphertext_and_reads_back(s3_storage):
    # given a file of several parts uploaded while storage is the S3-compatible store
    content = b"57687,2024-05-01T08:00,12.5\n" * 12_000 + os.urandom(5000)
    deliverable = upload(file_product(), content)

    # then the bucket holds one object per part, none of them readable
    listed = s3_storage.list_objects_v2(
        Bucket=BUCKET, Prefix=f"deliverables/{deliverable.file_id}/"
    )
    keys = sorted(o["Key"] for o in listed.get("Contents", []))
    assert len(keys) == deliverable.part_count > 1
    raw = b"".join(s3_storage.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys)
    assert b"57687,2024-05-01" not in raw
    # and reading it back through the storage API gives the exchange's hash
    layout = files.Layout(str(deliverable.file_id), deliverable.size_bytes, deliverable.chunk_bytes)
    cipher = files.cipher_for(file_id=deliverable.file_id, wrapped_key=deliverable.wrapped_key)
    back = b"".join(files.read_plain(layout, cipher, 0, deliverable.size_bytes - 1))
    assert (
        hashlib.sha256(back).hexdigest()
        == deliverable.sha256
        == hashlib.sha256(content).hexdigest()
    )
    middle = b"".join(files.read_plain(layout, cipher, 140_000, 140_099))
    assert middle == content[140_000:140_100]
