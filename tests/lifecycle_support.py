"""Files in a store with their deliveries done (or dead), made through the store's own API,
for the retention, sweep and export tests."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from gateway.store import FileStatus, MessageStore


def delivered_file(store: MessageStore, tmp: Path, name: str, *, parts: int = 2,
                   dead: int = 0, pharmacy: str = "1234567893") -> int:
    """A routed file with ``parts`` documents, each delivered (the last ``dead`` of them
    dead instead); its raw payload and one rendered payload per part. Returns the file id."""
    raw = tmp / name
    raw.write_bytes(f"ISA*raw bytes of {name}~".encode() * 20)
    data = raw.read_bytes()
    received = store.record_received(
        partner="pbm-a", remote_path=f"/out/{name}", original_name=name, size=len(data),
        mtime=None, sha256=hashlib.sha256(data).hexdigest(), payload_path=raw).file
    for n in range(parts):
        part = store.put_payload(io.BytesIO(f"{name} part {n}".encode()))
        doc = store.add_document(received.id, n, kind="835",
                                 routing_keys={"npi": pharmacy, "trace_number": f"T{name}{n}",
                                               "amount": "10.00"},
                                 payload_sha256=part)
        store.enqueue(doc.id, destination=f"PH{n}", format="x12", output_name=f"{name}.{n}")
    store.set_file_status(received.id, FileStatus.ROUTED, actor="test")
    finished = 0
    while (claim := store.claim("w", 60)) is not None:
        if finished >= parts - dead:
            store.fail(claim.delivery.id, claim.token, error="permission denied",
                       retry_in=None)
        else:
            store.ack(claim.delivery.id, claim.token, output_sha256="0" * 64,
                      location=f"/ph/{claim.delivery.output_name}")
        finished += 1
    return received.id


def payload_exists(store: MessageStore, sha256: str) -> bool:
    from gateway.errors import StoreError

    try:
        with store.open_payload(sha256):
            return True
    except StoreError:
        return False
