"""The daemon's route stage for an 835: the router's :func:`~gateway.router.route_into_store`
on the stored file, with the daemon's roster, PSAO identity, control numbers and mappings.

The router splits the file into one 835 per pharmacy and transaction set, keeps each part
(and each CSV/JSON/XML rendering a member asks for) as a payload, records the parts as
documents and queues one delivery per part and format under a deterministic idempotency key
— held, with an alert, for an unknown or inactive member. Routing the same file again
changes nothing, which is what lets the pipeline redo this step after a crash.

Control numbers of the new envelopes are remembered per part in ``control-numbers.db``
beside the store's data, so a redone split writes byte-identical parts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from gateway.config.configuration import Configuration
from gateway.log import get_logger
from gateway.router import RosterPolicy, route_into_store
from gateway.settings import Settings
from gateway.store.base import MessageStore
from gateway.store.models import ReceivedFile
from gateway.x12.control_numbers import ControlNumbers, SqliteControlNumbers
from gateway.x12.envelope import Party

ACTOR = "router"


def control_numbers(settings: Settings) -> SqliteControlNumbers:
    """The daemon's control-number memory, beside its store."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteControlNumbers(settings.data_dir / "control-numbers.db")


def route_file_stage(store: MessageStore, config: Configuration, settings: Settings,
                     numbers: ControlNumbers) -> Callable[[ReceivedFile], int]:
    """The route callable the pipeline calls with each parsed 835 file."""
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    policy = RosterPolicy(config.roster, config.psao)
    psao = config.psao
    sender = Party(psao.isa_qualifier, psao.isa_id, psao.gs_id)
    site_mappings = settings.path.parent / "mappings"
    mappings = (site_mappings,) if site_mappings.is_dir() else ()
    log = get_logger(component="router")

    def route(received: ReceivedFile) -> int:
        with _local_copy(store, received, settings.work_dir) as path:
            result, deliveries = route_into_store(
                store, received.id, path, policy, numbers, sha256=received.sha256,
                sender=sender, mappings=mappings, actor=ACTOR)
        log.info("file split", partner=received.partner, file_id=received.id,
                 parts=len(result.parts), deliveries=len(deliveries), held=len(result.held),
                 paid=str(sum((p.payment for p in result.parts), Decimal(0))),
                 psao_adjustments=len(result.psao_adjustments))
        return len(deliveries)

    return route


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
