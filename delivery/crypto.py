"""Encryption at rest: a data key per file, wrapped by the exchange's master key.

Every delivered file gets 32 random bytes of its own (the data key). The file
is cut into segments of SEGMENT_BYTES plain bytes, each sealed with AES-GCM
under the data key; the nonce is the segment's index and the associated data
names the file, the index and whether the segment is the last one, so segments
cannot be swapped between files, reordered or cut off without the tag failing.
Segments let a Range request decrypt only what it sends.

The data key itself is stored wrapped (AES-GCM under the master key, with the
file's id as associated data); the master key lives only in the environment
(DELIVERY_MASTER_KEY). A copy of the bucket and the database without the
environment reveals nothing of the files.
"""

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEGMENT_BYTES = 64 * 1024
TAG_BYTES = 16
SEALED_SEGMENT_BYTES = SEGMENT_BYTES + TAG_BYTES
NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """Stored bytes do not open under their key: tampered with, truncated or the wrong key."""


def master_key() -> bytes:
    raw = settings.EXCHANGE_DELIVERY_MASTER_KEY
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured("DELIVERY_MASTER_KEY is not base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured("DELIVERY_MASTER_KEY must decode to 32 bytes")
    return key


def master_key_id() -> str:
    """A short fingerprint of the master key, stored beside each wrapped key for rotation."""
    return hashlib.sha256(b"exchange-master-key:" + master_key()).hexdigest()[:16]


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap(secret: bytes, *, context: str) -> str:
    """`secret` sealed under the master key, bound to `context`; base64 text for a column."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(master_key()).encrypt(nonce, secret, context.encode())
    return base64.b64encode(nonce + sealed).decode()


def unwrap(wrapped: str, *, context: str) -> bytes:
    blob = base64.b64decode(wrapped)
    try:
        return AESGCM(master_key()).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()
        )
    except InvalidTag as exc:
        raise DecryptionFailed("the wrapped key does not open under the master key") from exc


def seal_text(text: str, *, context: str) -> str:
    return wrap(text.encode(), context=context)


def open_text(sealed: str, *, context: str) -> str:
    return unwrap(sealed, context=context).decode()


class SegmentCipher:
    """Seals and opens the segments of one file under its data key."""

    def __init__(self, data_key: bytes, file_id: str):
        self._aead = AESGCM(data_key)
        self._file_id = file_id

    def _nonce_and_aad(self, index: int, last: bool) -> tuple[bytes, bytes]:
        # The data key is used for this one file only and each index is sealed
        # once (a file is never rewritten), so the index is a safe nonce.
        return index.to_bytes(NONCE_BYTES, "big"), f"{self._file_id}|{index}|{int(last)}".encode()

    def seal(self, index: int, plain: bytes, *, last: bool) -> bytes:
        nonce, aad = self._nonce_and_aad(index, last)
        return self._aead.encrypt(nonce, plain, aad)

    def open(self, index: int, sealed: bytes, *, last: bool) -> bytes:
        nonce, aad = self._nonce_and_aad(index, last)
        try:
            return self._aead.decrypt(nonce, sealed, aad)
        except InvalidTag as exc:
            raise DecryptionFailed(f"segment {index} of {self._file_id} does not open") from exc


def segment_count(size: int) -> int:
    """Segments of a file of `size` bytes; an empty file has one empty segment."""
    return max(1, -(-size // SEGMENT_BYTES))
