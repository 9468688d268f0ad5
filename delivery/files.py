"""The stored form of a delivered file: encrypted parts on the "deliverables" storage.

A file of `size` bytes with part size `chunk_bytes` is stored as parts
`<file_id>/<n>`, part n holding plain bytes [n * chunk_bytes, (n + 1) * chunk_bytes)
as consecutive sealed segments (crypto.SEGMENT_BYTES plain + a 16-byte tag each).
Segments are numbered across the whole file. Only Django's storage API is used
(open, save, delete, exists), so the file system and S3-compatible stores behave
the same.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from delivery.crypto import (
    SEALED_SEGMENT_BYTES,
    SEGMENT_BYTES,
    TAG_BYTES,
    SegmentCipher,
    segment_count,
    unwrap,
)

# Segments read from storage per round trip when streaming (1 MiB of plain bytes).
READ_BATCH_SEGMENTS = 16


def storage() -> Storage:
    return storages["deliverables"]


def part_name(file_id, index: int) -> str:
    return f"{file_id}/{index:05d}"


@dataclass(frozen=True)
class Layout:
    """Where the bytes of one file are: part size, segment numbering, the last segment."""

    file_id: str
    size: int
    chunk_bytes: int

    @property
    def segments_per_part(self) -> int:
        return self.chunk_bytes // SEGMENT_BYTES

    @property
    def last_segment(self) -> int:
        return segment_count(self.size) - 1

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.chunk_bytes))

    def part_plain_bytes(self, index: int) -> int:
        return max(0, min(self.chunk_bytes, self.size - index * self.chunk_bytes))

    def segment_plain_bytes(self, segment: int) -> int:
        return max(0, min(SEGMENT_BYTES, self.size - segment * SEGMENT_BYTES))


def cipher_for(*, file_id, wrapped_key: str) -> SegmentCipher:
    return SegmentCipher(unwrap(wrapped_key, context=f"deliverable:{file_id}"), str(file_id))


def seal_part(layout: Layout, cipher: SegmentCipher, index: int, plain: bytes) -> bytes:
    """The stored form of part `index`, whose plain bytes are `plain` (already length-checked)."""
    first = index * layout.segments_per_part
    sealed = []
    count = max(1, -(-len(plain) // SEGMENT_BYTES))
    for k in range(count):
        segment = first + k
        piece = plain[k * SEGMENT_BYTES : (k + 1) * SEGMENT_BYTES]
        sealed.append(cipher.seal(segment, piece, last=segment == layout.last_segment))
    return b"".join(sealed)


def write_part(file_id, index: int, sealed: bytes) -> None:
    """Store a part under its fixed name, replacing an earlier copy of the same part."""
    store, name = storage(), part_name(file_id, index)
    if store.exists(name):
        store.delete(name)
    saved = store.save(name, ContentFile(sealed))
    if saved != name:  # a store that renames would lose the layout
        store.delete(saved)
        raise RuntimeError(f"storage stored part {name} as {saved}")


def delete_parts(file_id, part_count: int) -> None:
    store = storage()
    for index in range(part_count):
        name = part_name(file_id, index)
        if store.exists(name):
            store.delete(name)


def read_plain(layout: Layout, cipher: SegmentCipher, start: int, end: int) -> Iterator[bytes]:
    """Plain bytes [start, end] (inclusive) of the file, decrypted segment by segment."""
    if layout.size == 0 or end < start:
        return
    store = storage()
    first, last = start // SEGMENT_BYTES, end // SEGMENT_BYTES
    per_part = layout.segments_per_part
    for part in range(first // per_part, last // per_part + 1):
        # One open per part: an S3 file object fetches its object once, then seeks.
        with store.open(part_name(layout.file_id, part), "rb") as handle:
            segment = max(first, part * per_part)
            part_last = min(last, (part + 1) * per_part - 1)
            handle.seek((segment - part * per_part) * SEALED_SEGMENT_BYTES)
            while segment <= part_last:
                batch_end = min(part_last, segment + READ_BATCH_SEGMENTS - 1)
                sizes = [
                    layout.segment_plain_bytes(s) + TAG_BYTES for s in range(segment, batch_end + 1)
                ]
                blob = handle.read(sum(sizes))
                position = 0
                for s, sealed_len in zip(range(segment, batch_end + 1), sizes, strict=True):
                    plain = cipher.open(
                        s, blob[position : position + sealed_len], last=s == layout.last_segment
                    )
                    position += sealed_len
                    lo = start - s * SEGMENT_BYTES if s == first else 0
                    hi = end - s * SEGMENT_BYTES + 1 if s == last else len(plain)
                    yield plain[lo:hi]
                segment = batch_end + 1


def stored_sha256(layout: Layout, cipher: SegmentCipher) -> str:
    """SHA-256 of the plain file, read back from storage (every tag is checked on the way)."""
    digest = hashlib.sha256()
    for piece in read_plain(layout, cipher, 0, layout.size - 1):
        digest.update(piece)
    return digest.hexdigest()
