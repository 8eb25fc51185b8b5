"""The daemon's route stage for an 835: split by member, keep each part, queue its deliveries.

The splitter (:mod:`gateway.x12.split`) cuts the stored file into one 835 per pharmacy and
transaction set, asking the router's :class:`~gateway.router.RosterPolicy` who owns what; the
router plans one delivery per part and format, each with an idempotency key
(:func:`~gateway.router.plan_deliveries`). This stage is the glue to the message store:

* each part's bytes become a payload (streamed through a temp file, never held in memory);
  the CSV, JSON or XML a member asks for is rendered from that part, through the router's
  mappings, into a payload of its own;
* each part becomes a document of the file, at its position in the split (so recording it
  again after a crash returns the same document), keyed by the member's identifiers;
* each planned delivery is enqueued under the router's key — held, with the reason, for an
  unknown or inactive member — so routing a file twice queues nothing twice.

Control numbers of the new envelopes are remembered per part, so a redone split writes
byte-identical parts under the same deterministic names.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from gateway.config.configuration import Configuration
from gateway.log import get_logger
from gateway.render.mapping import Mapping, load_mapping
from gateway.render.renderer import render
from gateway.router import RosterPolicy, plan_deliveries
from gateway.settings import Settings
from gateway.store.base import MessageStore
from gateway.store.models import ReceivedFile
from gateway.x12.control_numbers import ControlNumbers, SqliteControlNumbers
from gateway.x12.envelope import Party
from gateway.x12.parts import Owner, SourceRange, SplitPart
from gateway.x12.reader import read_835
from gateway.x12.split import split_835

ACTOR = "router"


class StorePartWriter:
    """Keeps each part as a payload of the store; returns the part's file name, and
    remembers which payload (SHA-256) holds it."""

    def __init__(self, store: MessageStore, work_dir: Path) -> None:
        self.store = store
        self.work_dir = work_dir
        self.payloads: dict[str, str] = {}  # part name -> payload key

    def write(self, owner: Owner, name: str, pieces: Iterable[bytes | SourceRange]) -> str:
        with tempfile.TemporaryFile(dir=self.work_dir) as spool:
            for piece in pieces:
                blocks = piece.blocks() if isinstance(piece, SourceRange) else (piece,)
                for block in blocks:
                    spool.write(block)
            spool.seek(0)
            self.payloads[name] = self.store.put_payload(spool)
        return name


def control_numbers(settings: Settings) -> SqliteControlNumbers:
    """The daemon's control-number memory, beside its store."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteControlNumbers(settings.data_dir / "control-numbers.db")


class Renderers:
    """CSV, JSON and XML outputs of a part, through the router's mappings (site mappings in
    ``mappings/`` beside gateway.toml first, then the built-in ones)."""

    def __init__(self, settings: Settings) -> None:
        site = settings.path.parent / "mappings"
        self.directories = (site,) if site.is_dir() else ()
        self.work_dir = settings.work_dir
        self._mappings: dict[str, Mapping] = {}

    def mapping(self, fmt: str) -> Mapping:
        if fmt not in self._mappings:
            self._mappings[fmt] = load_mapping(f"remittance-{fmt}", self.directories)
        return self._mappings[fmt]

    def render(self, store: MessageStore, part_payload: str, mapping: Mapping) -> str:
        """Render the part's 835 (a payload) with ``mapping``; return the new payload's key.
        The part is read back from the store, so the output says exactly what the part says."""
        with tempfile.TemporaryFile(dir=self.work_dir) as out:
            with store.open_payload(part_payload) as part:
                render(read_835(part), mapping, out)
            out.seek(0)
            return store.put_payload(out)


def route_file_stage(store: MessageStore, config: Configuration, settings: Settings,
                     numbers: ControlNumbers) -> Callable[[ReceivedFile], int]:
    """The route callable the pipeline calls with each parsed 835 file."""
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    policy = RosterPolicy(config.roster, config.psao)
    psao = config.psao
    sender = Party(psao.isa_qualifier, psao.isa_id, psao.gs_id)
    renderers = Renderers(settings)
    log = get_logger(component="router")

    def route(received: ReceivedFile) -> int:
        writer = StorePartWriter(store, settings.work_dir)
        with _local_copy(store, received, settings.work_dir) as path:
            result = split_835(path, policy=policy, writer=writer, numbers=numbers,
                               sender=sender, sha256=received.sha256)
        ordinal = {id(part): n for n, part in enumerate(result.parts)}
        queued = held = 0
        for plan in plan_deliveries(result):
            part = plan.part
            payload = writer.payloads[part.location]
            name = part.location
            if plan.format != "835":  # rendered from the part itself: exactly its claims
                mapping = renderers.mapping(plan.format)
                payload = renderers.render(store, payload, mapping)
                name = f"{name.removesuffix('.835')}.{mapping.extension}"
            document = store.add_document(
                received.id, ordinal[id(part)], kind="835-part", routing_keys=_keys(part),
                source_start=part.source.start_offset, source_end=part.source.end_offset,
                payload_sha256=payload)
            store.enqueue(document.id, destination=plan.destination, format=plan.format,
                          output_name=name, idempotency_key=plan.idempotency_key,
                          payload_sha256=payload, hold=plan.held_reason, actor=ACTOR)
            queued += 1
            held += plan.held
        log.info("file split", partner=received.partner, file_id=received.id,
                 parts=len(result.parts), deliveries=queued, held=held,
                 paid=str(sum((p.payment for p in result.parts), Decimal(0))),
                 psao_adjustments=len(result.psao_adjustments))
        return queued

    return route


def _keys(part: SplitPart) -> dict[str, str]:
    owner = part.owner
    keys = {"pharmacy_id": owner.pharmacy_id, "npi": owner.npi, "ncpdp_id": owner.ncpdp_id,
            "tin": owner.tin, "st02": part.source.control_number}
    return {k: v for k, v in keys.items() if v}


@contextmanager
def _local_copy(store: MessageStore, received: ReceivedFile, work_dir: Path) -> Iterator[Path]:
    """A path to the file's stored bytes: the payload file itself when the store keeps
    payloads as files (SQLite), else a temp copy (the splitter reads by offset)."""
    with store.open_payload(received.sha256) as stream:
        name = getattr(stream, "name", None)
        if isinstance(name, str) and os.path.isfile(name):
            yield Path(name)
            return
        with tempfile.NamedTemporaryFile(dir=work_dir, suffix=".835") as copy:
            while block := stream.read(1 << 20):
                copy.write(block)
            copy.flush()
            yield Path(copy.name)
