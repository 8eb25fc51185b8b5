"""``gateway export``: one zip for an incident or an audit request.

``--file F7``: the file's raw bytes, its parsed summary (the numbers ``gateway parse
--format summary`` prints: payees, claim counts, amounts — no patient data), the parts it
was split into, its documents, deliveries and events (live or rolled up).
``--pharmacy ID --from --to``: for each file received in the period that has a part for the
pharmacy, only that pharmacy's parts and their trail — never the whole central-pay file,
which holds every other pharmacy's claims too (minimum necessary).

``manifest.json`` lists what is inside by id, name, size and SHA-256 only: no PHI beyond
what the raw files themselves hold. A payload pruned under the retention policy is listed
with the day it was pruned instead of its bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from gateway.detect import HEAD_SIZE, detect_format
from gateway.errors import GatewayError
from gateway.lifecycle.audit import FileTrail
from gateway.ncpdp import parse_file
from gateway.render.summary import write_ncpdp_summary, write_summary
from gateway.store.base import MessageStore
from gateway.store.models import Document
from gateway.store.operator import FileQuery
from gateway.x12.read.reader import iter_835

PHARMACY_KEYS = ("pharmacy_id", "npi", "ncpdp_id", "tin", "payee_npi", "owner")


@dataclass(frozen=True)
class Exported:
    path: Path
    files: int
    payloads: int
    pruned: int


def export_file(store: MessageStore, file_id: int, out: Path) -> Exported:
    return _export(store, [(file_id, None)], out, {"file": file_id})


def export_pharmacy(store: MessageStore, pharmacy: str, since: datetime, until: datetime,
                    out: Path) -> Exported:
    """``until`` is exclusive."""
    query = FileQuery(pharmacy=pharmacy, since=since, until=until)
    files = [(f.id, pharmacy) for f in store.search_files(query, limit=100_000)]
    return _export(store, files, out, {"pharmacy": pharmacy, "from": since.isoformat(),
                                       "to": until.isoformat()})


def _export(store: MessageStore, files: Iterable[tuple[int, str | None]], out: Path,
            request: dict[str, Any]) -> Exported:
    manifest: dict[str, Any] = {"request": request,
                                "exported_at": datetime.now(UTC).isoformat(), "files": []}
    counts = {"payloads": 0, "pruned": 0}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file_id, pharmacy in files:
            manifest["files"].append(_one(store, archive, file_id, pharmacy, counts))
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, default=str))
    return Exported(out, len(manifest["files"]), counts["payloads"], counts["pruned"])


def _one(store: MessageStore, archive: zipfile.ZipFile, file_id: int, pharmacy: str | None,
         counts: dict[str, int]) -> dict[str, Any]:
    received = store.get_file(file_id)
    trail = FileTrail.of(store, file_id)
    documents = [d for d in store.documents_of_file(file_id)
                 if pharmacy is None or _names(d, pharmacy, trail)]
    folder = f"F{file_id}"
    entry: dict[str, Any] = {
        "id": file_id, "partner": received.partner, "original_name": received.original_name,
        "size": received.size, "sha256": received.sha256, "status": received.status.value,
        "received_at": received.received_at.isoformat(), "parts": []}
    if pharmacy is None:
        pruned = trail.payload_pruned_at
        entry["payload_pruned_at"] = pruned.isoformat() if pruned else None
        entry["raw"] = _payload(store, archive, f"{folder}/raw/{received.sha256}",
                                received.sha256, counts)
        if entry["raw"].get("path"):
            with store.open_payload(received.sha256) as stream:
                archive.writestr(f"{folder}/summary.txt", _summary(stream, received.original_name))
    ids = {d.id for d in documents}
    for document in documents:
        if document.payload_sha256:
            name = f"{folder}/parts/document-{document.id}"
            entry["parts"].append({"document": document.id, **_payload(
                store, archive, name, document.payload_sha256, counts)})
    deliveries = [d for d in trail.deliveries if d.document_id in ids]
    record = {
        "documents": [asdict(d) for d in documents],
        "deliveries": [asdict(d) for d in deliveries],
        "events": [asdict(e) for e in (
            (trail.events_of(store, "file", file_id) if pharmacy is None else [])
            + [e for d in deliveries for e in trail.events_of(store, "delivery", d.id)])],
    }
    archive.writestr(f"{folder}/trail.json", json.dumps(record, indent=2, default=str))
    return entry


def _names(document: Document, pharmacy: str, trail: FileTrail) -> bool:
    keys = document.routing_keys
    return pharmacy in {keys.get(k) for k in PHARMACY_KEYS} or any(
        d.destination == pharmacy for d in trail.deliveries if d.document_id == document.id)


def _payload(store: MessageStore, archive: zipfile.ZipFile, name: str, sha256: str,
             counts: dict[str, int]) -> dict[str, Any]:
    try:
        with store.open_payload(sha256) as stream, archive.open(name, "w") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
    except GatewayError:
        counts["pruned"] += 1
        return {"sha256": sha256, "pruned": True}
    counts["payloads"] += 1
    return {"sha256": sha256, "path": name}


def _summary(stream: BinaryIO, name: str) -> str:
    """The parse summary, or why there is none (a quarantined file may not parse)."""
    text = io.StringIO()
    head = stream.read(HEAD_SIZE)
    stream.seek(0)
    try:
        if detect_format(head) == "x12":
            write_summary(iter_835(stream, file_name=name), text)
        else:
            write_ncpdp_summary(parse_file(stream), text)
    except GatewayError as exc:
        text.write(f"not parsed: {exc}\n")
    return text.getvalue()
