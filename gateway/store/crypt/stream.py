"""The sealed-payload format: one payload, one fresh data key, AES-256-GCM in segments.

Payloads reach hundreds of MB, so a payload is never encrypted as one GCM message (that
would need it whole in memory to check the tag before a byte is used). It is cut into
segments of ``SEGMENT`` plaintext bytes, each its own GCM message — the STREAM construction
of Hoang, Reyhanitabar, Rogaway and Vizár (2015), the one Tink's streaming AEAD uses:

    header  = MAGIC (8) | segment size (4, big-endian) | blob id (16) | nonce prefix (7)
    nonce_i = nonce prefix (7) | i (4, big-endian) | 1 if segment i is the last, else 0
    aad_i   = header, and for the last segment header | SHA-256 of the whole plaintext
    body    = GCM(segment 0) | GCM(segment 1) | ... (each its plaintext + a 16-byte tag)

The counter in the nonce makes a reordered, dropped or repeated segment fail its tag, the
last-flag makes a payload cut at a segment boundary fail, and the header in every AAD makes
an edited header fail. The last segment's AAD holds the payload's SHA-256 (its name in the
store), known only at the end of the stream and checked by a reader that asks for that
name: a blob moved under another payload's name fails even if its envelope moved with it.
A reader therefore hands out only bytes whose tag it has checked, one segment (1 MiB) at a
time; a tampered payload ends in :class:`SealBroken`, never in wrong bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.errors import StoreError

MAGIC = b"GWSEAL\x01\n"
SEGMENT = 1 << 20
TAG = 16
_LAYOUT = struct.Struct(">8sI16s7s")
HEADER_SIZE = _LAYOUT.size  # 35


class SealBroken(StoreError):
    """A sealed payload failed authentication: tampered, truncated, or not this payload."""


@dataclass(frozen=True)
class Header:
    segment: int
    blob_id: bytes
    nonce_prefix: bytes

    def encode(self) -> bytes:
        return _LAYOUT.pack(MAGIC, self.segment, self.blob_id, self.nonce_prefix)

    @classmethod
    def new(cls, segment: int = SEGMENT) -> Header:
        return cls(segment, os.urandom(16), os.urandom(7))

    @classmethod
    def decode(cls, raw: bytes, where: str) -> Header:
        if len(raw) != HEADER_SIZE or not raw.startswith(MAGIC):
            raise SealBroken("the payload's header is not a sealed-payload header",
                             where=where, fix="restore the payload from backup")
        _, segment, blob_id, prefix = _LAYOUT.unpack(raw)
        if not 0 < segment <= 64 << 20:
            raise SealBroken(f"the header's segment size {segment} is impossible",
                             where=where, fix="restore the payload from backup")
        return cls(segment, blob_id, prefix)


def _nonce(header: Header, index: int, last: bool) -> bytes:
    return header.nonce_prefix + struct.pack(">I?", index, last)


def read_full(data: BinaryIO, size: int) -> bytes:
    """``size`` bytes, or fewer only at the end (a pipe may return short reads)."""
    parts, wanted = [], size
    while wanted:
        chunk = data.read(wanted)
        if not chunk:
            break
        parts.append(chunk)
        wanted -= len(chunk)
    return b"".join(parts)


def seal(data: BinaryIO, out: BinaryIO, data_key: bytes,
         header: Header | None = None) -> tuple[str, int, Header]:
    """Encrypt ``data`` into ``out`` (header, then segments) with ``data_key``; return the
    plaintext's (sha256, size) and the header. Memory: two segments."""
    header = header or Header.new()
    head = header.encode()
    aead, digest, size, index = AESGCM(data_key), hashlib.sha256(), 0, 0
    out.write(head)
    current = read_full(data, header.segment)
    while True:
        following = read_full(data, header.segment) if len(current) == header.segment else b""
        digest.update(current)
        size += len(current)
        last = not following
        aad = head + digest.digest() if last else head
        out.write(aead.encrypt(_nonce(header, index, last), current, aad))
        if last:
            return digest.hexdigest(), size, header
        current, index = following, index + 1


def sealed_size(size: int, segment: int = SEGMENT) -> int:
    """The bytes a sealed payload of ``size`` plaintext bytes takes."""
    segments = max(1, -(-size // segment))
    return HEADER_SIZE + size + segments * TAG


class Unsealer(io.RawIOBase):
    """A readable stream of a sealed payload's plaintext, checked segment by segment.

    ``source`` is positioned after the header. The last segment is the one followed by the end
    of ``source``, so one segment is always read ahead."""

    def __init__(self, source: BinaryIO, header: Header, data_key: bytes, sha256: str,
                 where: str) -> None:
        self._source, self._header, self._where = source, header, where
        self._head = header.encode()
        self._aead = AESGCM(data_key)
        self._sha = bytes.fromhex(sha256)
        self._index = 0
        self._size = header.segment + TAG
        self._ahead: bytes | None = read_full(source, self._size)
        self._plain = memoryview(b"")
        self._pos = 0
        self._total: int | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._plain and self._ahead is not None:
            self._next_segment()
        count = min(len(buffer), len(self._plain))
        buffer[:count] = self._plain[:count]
        self._plain = self._plain[count:]
        self._pos += count
        return count

    def seekable(self) -> bool:
        return self._source.seekable()

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Random access by segment: the one holding the target is read and checked (the
        readers of a payload rewind it, and the splitter reads by offset)."""
        size = self._plain_size()
        target = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: size}[whence] + offset
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        segment = self._header.segment
        index = min(target, max(size - 1, 0)) // segment
        self._source.seek(HEADER_SIZE + index * (segment + TAG))
        self._index, self._plain = index, memoryview(b"")
        self._ahead = read_full(self._source, self._size)
        self._next_segment()
        skip = min(target - index * segment, len(self._plain))
        self._plain = self._plain[skip:]
        self._pos = index * segment + skip
        return self._pos

    def _plain_size(self) -> int:
        if self._total is None:
            here = self._source.tell()
            sealed = self._source.seek(0, io.SEEK_END) - HEADER_SIZE
            self._source.seek(here)
            segments = max(1, -(-sealed // self._size))
            self._total = sealed - segments * TAG
        return self._total

    def _next_segment(self) -> None:
        assert self._ahead is not None
        sealed = self._ahead
        following = read_full(self._source, self._size) if len(sealed) == self._size else b""
        last = not following
        aad = self._head + self._sha if last else self._head
        try:
            plain = self._aead.decrypt(_nonce(self._header, self._index, last), sealed, aad)
        except InvalidTag:
            raise SealBroken(
                f"segment {self._index} failed authentication: the payload was altered, "
                "cut short or stored under another name; no byte of it is used",
                where=self._where, fix="restore the payload from backup, or replay the file "
                "from the partner") from None
        self._plain = memoryview(plain)
        self._ahead = None if last else following
        self._index += 1

    def close(self) -> None:
        self._source.close()
        super().close()


def unsealed(source: BinaryIO, header: Header, data_key: bytes, sha256: str,
             where: str) -> BinaryIO:
    """:class:`Unsealer` behind a buffer: a ``BinaryIO`` like ``open(path, "rb")``."""
    return io.BufferedReader(Unsealer(source, header, data_key, sha256, where),
                             buffer_size=SEGMENT)
