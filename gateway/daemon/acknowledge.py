"""Acknowledgments back to the PBM: a TA1 or a 999 for every file, when the partner asks.

The acknowledgment is queued, not sent on the spot: it becomes a document of the file it
answers (kind ``ack-999``/``ack-ta1``, at a negative ordinal so it never collides with the
file's own documents) and a delivery to the partner's inbound folder. It is then retried,
dead-lettered, traced and replayed like everything else, and a crash between quarantine and
send cannot lose it: the pipeline queues the acknowledgment *before* it moves the file on, and
queuing is idempotent.

Findings and envelopes come from the pipeline's own reading of the file, which collects every
defect (not just the first) — what the 999's IK3/IK4/IK5 and the TA1's TA105 are made from —
and every ISA/GS/ST with its segment range from the same tokenizer pass; only a file that was
not read to its end in this process (unreadable, or parsed before a restart) is read again.
Control numbers derive from the file id, so a redone acknowledgment is the same one.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import BinaryIO

from gateway.daemon.parse import Parsed
from gateway.detect import HEAD_SIZE, detect_format
from gateway.errors import InputError, Location
from gateway.fsutil import safe_name
from gateway.log import get_logger
from gateway.store.base import MessageStore
from gateway.store.models import ReceivedFile
from gateway.x12.read.reader import iter_835
from gateway.x12.read.received import EnvelopeReader, ReceivedInterchange, read_envelopes
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.write.ack import acknowledgments
from gateway.x12.write.control_numbers import ControlNumbers

ACK_ORDINAL = -1  # documents of the file itself count from 0
ACTOR = "acknowledger"


class Acknowledger:
    """Queues the acknowledgment a partner asked for (``ack_kind``: none, ta1 or 999)."""

    def __init__(self, store: MessageStore, ack_kinds: dict[str, tuple[str, str | None]],
                 *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 numbers: ControlNumbers | None = None) -> None:
        """``ack_kinds`` maps a partner id to (kind, destination) — see PartnerRuntime;
        ``numbers`` the per-destination counter ISA13/GS06 come from."""
        self.numbers = numbers
        self.store = store
        self.ack_kinds = ack_kinds
        self.clock = clock
        self.log = get_logger(component="acknowledger")

    def __call__(self, received: ReceivedFile, error: InputError | None,
                 parsed: Parsed | None = None) -> None:
        """Queue the acknowledgment of ``received``; ``parsed`` is what the parse read of it
        (its findings and envelopes), None when the file is to be read again here (it could
        not be read to its end, or was parsed before a restart)."""
        kind, destination = self.ack_kinds.get(received.partner, ("none", None))
        if kind == "none" or destination is None:
            return
        read = self._read(received, parsed)
        if read is None:
            return  # TA1 and 999 answer X12 interchanges only
        findings, envelopes = read
        interchanges = [i for i in envelopes if answerable(i, kind)]
        if not interchanges:
            self.log.warning("no acknowledgment possible: no X12 envelope to answer",
                             partner=received.partner, file_id=received.id, kind=kind)
            return
        if error is not None:
            findings = findings + [f for i in interchanges for f in refusal(i, error, kind)]
        numbers = self.numbers or _FileNumbers(received.id)
        answers = acknowledgments(interchanges, findings, kind, numbers=numbers,
                                  destination=destination, key=f"ack:{received.id}",
                                  now=self.clock())
        for n, answer in enumerate(answers):
            same_kind = sum(a.kind == answer.kind for a in answers[:n])  # names: .999, .ta1,
            self._queue(received, n, answer.kind, destination, answer.text.encode("ascii"),
                        accepted=answer.accepted, name_index=same_kind)  # .1.ta1, ...

    def _read(self, received: ReceivedFile, parsed: Parsed | None
              ) -> tuple[list[Finding], Sequence[ReceivedInterchange]] | None:
        """The findings and envelopes to answer, None when the file is not X12. From the
        parse when it read them (only an X12 file has envelopes: no payload is opened, which
        on PostgreSQL fetches all of it); else from one read of the file here."""
        if parsed is not None and parsed.envelopes is not None:
            return parsed.findings, parsed.envelopes
        with self.store.open_payload(received.sha256) as stream:
            if detect_format(stream.read(HEAD_SIZE)) != "x12":
                return None
            stream.seek(0)
            if parsed is not None:  # a parse that kept no envelopes
                return parsed.findings, read_envelopes(stream)
            findings, envelopes = read_findings(stream, received.original_name)
            if envelopes is None:  # the reader stopped short of the end: the envelopes alone
                stream.seek(0)
                envelopes = read_envelopes(stream)
            return findings, envelopes

    def _queue(self, received: ReceivedFile, n: int, kind: str, destination: str, data: bytes,
               *, accepted: bool, name_index: int = 0) -> None:
        payload = self.store.put_payload(io.BytesIO(data))
        document = self.store.add_document(
            received.id, ACK_ORDINAL - n, kind=f"ack-{kind}",
            routing_keys={"partner": received.partner}, payload_sha256=payload)
        suffix = f".{name_index}" if name_index else ""
        delivery = self.store.enqueue(
            document.id, destination=destination, format=kind,
            output_name=f"{safe_name(received.original_name)}.{received.id}{suffix}.{kind}",
            idempotency_key=f"ack:{received.id}:{n}:{kind}", payload_sha256=payload,
            actor=ACTOR)
        self.log.info("acknowledgment queued", partner=received.partner, file_id=received.id,
                      kind=kind, accepted=accepted, delivery_id=delivery.id)


def read_findings(stream: BinaryIO, file_name: str | None
                  ) -> tuple[list[Finding], list[ReceivedInterchange] | None]:
    """Every finding and, from the same tokenizer pass, every envelope of an X12 file — what
    the parse stage gives when it ran in this process. The envelopes are None when the reader
    could not read the file to its end, even collecting (that defect is the last finding)."""
    findings: list[Finding] = []
    envelopes = EnvelopeReader()
    try:
        for _ in iter_835(stream, file_name=file_name, findings=findings, tap=envelopes.feed,
                          end=envelopes.end):
            pass
    except InputError as exc:  # a defect the reader cannot read past, even collecting
        findings.append(Finding(exc.code, exc.what, Level.INTERCHANGE, exc.location))
    return findings, envelopes.interchanges


def refusal(interchange: ReceivedInterchange, error: InputError, kind: str) -> list[Finding]:
    """The file was refused as a whole: say so at the level the acknowledgment answers — the
    interchange (TA104 R) or every functional group (AK901 R) — whatever finer findings say.
    Every interchange of the file is refused, also those after the one the error is in: the
    refusal is placed in each (an error located elsewhere would be filtered out of it)."""
    location = error.location
    if location.segment_number is not None and not _within_interchange(interchange, location):
        location = dataclasses.replace(location, segment_number=None, segment_id=None,
                                       byte_offset=None)
    if kind == "ta1":
        return [Finding(error.code, error.what, Level.INTERCHANGE, location)]
    return [Finding(error.code, error.what, Level.GROUP, location,
                    group_control_number=group.control_number)
            for group in interchange.groups]


def _within_interchange(interchange: ReceivedInterchange, location: Location) -> bool:
    number = location.segment_number
    last = interchange.last_segment
    return number is None or (interchange.first_segment <= number
                              and (last is None or number <= last))


def answerable(interchange: ReceivedInterchange, kind: str) -> bool:
    """An interchange we can address an answer to: its ISA named a sender, and for a 999 it
    has a functional group to acknowledge (a TA1 answers the interchange alone)."""
    return bool(interchange.sender_id) and (kind == "ta1" or bool(interchange.groups))


class _FileNumbers:
    """Numbers derived from the file id, for an Acknowledger given no counter: stable across
    redos, one per acknowledgment of the file (the daemon passes the store's counter)."""

    def __init__(self, file_id: int) -> None:
        self.base = file_id * 10
        self.keys: dict[str, int] = {}

    def assign(self, destination: str, key: str) -> int:
        return (self.base + self.keys.setdefault(key, len(self.keys))) % 1_000_000_000 or 1

    def assign_many(self, parts: Sequence[tuple[str, str]]) -> list[int]:
        return [self.assign(destination, key) for destination, key in parts]
