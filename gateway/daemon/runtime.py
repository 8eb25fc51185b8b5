"""The daemon's live objects, built from configuration: partners with their Sources and
schedules, Sinks for every destination, the parser, the router and the acknowledger.

Built once at start and again on SIGHUP (a bad edit is refused and the running one kept).
A partner file's ``[inbound]`` transport is the Source the daemon polls and its
``[outbound]`` the Sink its acknowledgments go to (:mod:`gateway.config.partners`); a roster
destination ``folder:/dir`` or ``sftp:<partner>:/dir`` is resolved by the configuration.
Every delivery names its destination as a string: a roster destination, or
``partner:<id>`` for a partner's own ``[outbound]`` (acknowledgments).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from gateway.config.configuration import Configuration, load_configuration
from gateway.config.destination import Destination, DestinationKind
from gateway.config.partners import Partner
from gateway.config.settings import Settings
from gateway.daemon.acknowledge import Acknowledger
from gateway.daemon.parse import parse_file
from gateway.daemon.pipeline import ClaimRecorder, Router, Validator
from gateway.daemon.route import by_format, route_file_stage
from gateway.daemon.schedule import PollSchedule, SlaRule, poll_schedule, sla_rule
from gateway.daemon.tr3 import Tr3Parse
from gateway.errors import ConfigError
from gateway.reconcile.config import load_reconcile_config
from gateway.reconcile.pharmacies import roster_pharmacy_of
from gateway.reconcile.publish import ReportPublisher
from gateway.reconcile.recorder import LedgerRecorder
from gateway.store.base import MessageStore
from gateway.transport.base import Fetched, RemoteFile, Sink, Source

DEFAULT_SETTLE_SECONDS = 1.0  # gateway.transport.config's default for "stable" readiness


@dataclass
class PartnerRuntime:
    """A PBM as the daemon drives it."""

    id: str
    source: Source
    poll: PollSchedule
    sla: tuple[SlaRule, ...]
    settle_seconds: float
    ack_kind: str  # none | ta1 | 999
    ack_destination: str | None  # a destination string, like a roster's


class PatternSource:
    """Offers only the files whose names match the partner's ``[files] patterns``."""

    def __init__(self, source: Source, patterns: tuple[str, ...]) -> None:
        self._source = source
        self._patterns = patterns

    def list_ready(self) -> list[RemoteFile]:
        return [r for r in self._source.list_ready()
                if any(fnmatch.fnmatch(r.name, p) for p in self._patterns)]

    def fetch(self, remote: RemoteFile, local_dir: Path) -> Fetched:
        return self._source.fetch(remote, local_dir)

    def stat(self, remote: RemoteFile) -> RemoteFile | None:
        return self._source.stat(remote)

    def acknowledge(self, remote: RemoteFile) -> None:
        self._source.acknowledge(remote)

    def close(self) -> None:
        self._source.close()


class Sinks:
    """Destination string → Sink, one cache per delivery worker (an SFTP session is not shared
    between threads). Unknown destinations raise ConfigError, which the worker dead-letters."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._cache: dict[str, Sink] = {}

    def __call__(self, destination: str) -> Sink:
        if destination not in self._cache:
            self._cache[destination] = self._runtime.sink_for(destination)
        return self._cache[destination]

    def close(self) -> None:
        for sink in self._cache.values():
            sink.close()
        self._cache.clear()


class Runtime:
    """Everything built from the partners directory."""

    def __init__(self, settings: Settings, config: Configuration) -> None:
        self.settings = settings
        self.config = config
        self.partners = {pid: self._partner(p) for pid, p in sorted(config.pbms.items())}
        # Checked at load (and reload) like the partners: a bad mappings/reconcile.toml is
        # refused with its file, key and fix.
        self.reconcile_rules = load_reconcile_config(settings.path.parent / "mappings")
        self._publisher: ReportPublisher | None = None

    # -- partners -----------------------------------------------------------------------------

    def _partner(self, partner: Partner) -> PartnerRuntime:
        sla: tuple[SlaRule, ...] = ()
        if partner.sla is not None:
            sla = (sla_rule(partner.sla.expected_by, business_days=partner.sla.business_days,
                            timezone=partner.sla.timezone),)
        s = partner.schedule
        inbound = partner.inbound or {}
        marker = inbound.get("ready") == "marker"
        return PartnerRuntime(
            id=partner.id,
            source=PatternSource(partner.source(), partner.patterns),
            poll=poll_schedule(s.interval_seconds, s.window_start, s.window_end,
                               zone=self.settings.timezone),
            sla=sla,
            settle_seconds=0.0 if marker else float(
                inbound.get("settle_seconds", DEFAULT_SETTLE_SECONDS)),
            ack_kind=partner.acknowledgment.kind,
            ack_destination=str(Destination.partner(partner.id)) if partner.outbound else None,
        )

    # -- stages -------------------------------------------------------------------------------

    def validator(self) -> Validator:
        """Structure for every file; the TR3 guide too for partners with validation = tr3."""
        tr3 = [pid for pid, p in self.config.pbms.items() if p.validation == "tr3"]
        return Tr3Parse(tr3) if tr3 else parse_file

    def acknowledger(self, store: MessageStore) -> Acknowledger:
        """ISA13/GS06 of the acknowledgments come from the per-destination counter the
        router's envelopes use (so a PBM sees each control number once, issue 10 item 12)."""
        return Acknowledger(store, {p.id: (p.ack_kind, p.ack_destination)
                                    for p in self.partners.values()},
                            numbers=store.control_numbers())

    def report_publisher(self, store: MessageStore, holder: str) -> ReportPublisher:
        """The one publisher of scheduled reconciliation reports (it remembers what it
        queued, so a cycle that has nothing to do costs nothing)."""
        if self._publisher is None:
            self._publisher = ReportPublisher(store, self.reconcile_rules, self.config.roster,
                                              holder)
        return self._publisher

    def claim_recorder(self, store: MessageStore) -> ClaimRecorder:
        return LedgerRecorder(store, self.reconcile_rules, roster_pharmacy_of(self.config.roster))

    def router(self, store: MessageStore) -> Router:
        return by_format(store, route_file_stage(store, self.config, self.settings,
                                                 store.control_numbers()))

    # -- sinks --------------------------------------------------------------------------------

    def sinks(self) -> Sinks:
        """A fresh destination → Sink resolver for one worker, which closes it when done."""
        return Sinks(self)

    def sink_for(self, destination: str) -> Sink:
        """The Sink a delivery's destination string names."""
        parsed = Destination.parse(destination)
        if parsed.kind is DestinationKind.PARTNER:
            partner = self.config.pbms.get(parsed.path)
            if partner is None:
                raise ConfigError(f"destination {destination!r} names no PBM",
                                  fix="restore the partner file, or retry after correcting it")
            return partner.sink()
        return self.config.sink_for(parsed)

    def close(self) -> None:
        """Close the partners' Sources (workers close their own Sinks)."""
        for partner in self.partners.values():
            partner.source.close()


def build_runtime(settings: Settings) -> Runtime:
    """Load and cross-check the partners directory; raise ConfigError naming every problem."""
    return Runtime(settings, load_configuration(settings.partners_dir))
