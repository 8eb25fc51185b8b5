"""The daemon's live objects, built from configuration: partners with their Sources and
schedules, Sinks for every destination, the parser, the router and the acknowledger.

Built once at start and again on SIGHUP (a bad edit is refused and the running one kept).
This is the only place that knows how the partner configuration (:mod:`gateway.config`) maps
onto transports (:mod:`gateway.transport`): a partner file's ``[transport]`` becomes a Source
for its outbound folder and, for acknowledgments, a Sink for its inbound one; a roster
destination ``folder:/dir`` or ``sftp:<partner>:/dir`` becomes a Sink.

Relative paths in partner files (key files, known_hosts, folders) are relative to the
configuration directory, the one holding ``gateway.toml``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from pathlib import Path

from gateway.acknowledge import Acknowledger
from gateway.config.configuration import Configuration, load_configuration
from gateway.config.members import Destination, parse_destination
from gateway.config.partners import FolderTransport, Partner, SftpTransport
from gateway.errors import ConfigError
from gateway.pipeline import Router, Validator, by_format, parse_file
from gateway.route_stage import control_numbers, route_file_stage
from gateway.schedule import PollSchedule, SlaRule, poll_schedule, sla_rule
from gateway.settings import Settings
from gateway.store.base import MessageStore
from gateway.transport.base import Fetched, RemoteFile, Sink, Source
from gateway.transport.folder import FolderSink, FolderSource
from gateway.transport.readiness import Readiness
from gateway.transport.sftp import SftpSink, SftpSource
from gateway.transport.ssh import SftpSettings
from gateway.x12.control_numbers import SqliteControlNumbers


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
    config: Partner = field(repr=False)


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
        self.base = settings.path.parent
        self.partners = {pid: self._partner(p) for pid, p in sorted(config.pbms.items())}
        self._numbers: SqliteControlNumbers | None = None

    # -- partners -----------------------------------------------------------------------------

    def _partner(self, partner: Partner) -> PartnerRuntime:
        readiness = Readiness()
        sla = ()
        if partner.sla is not None:
            sla = (sla_rule(partner.sla.expected_by, business_days=partner.sla.business_days,
                            timezone=partner.sla.timezone),)
        s = partner.schedule
        return PartnerRuntime(
            id=partner.id,
            source=PatternSource(self._source(partner, readiness), partner.patterns),
            poll=poll_schedule(s.interval_seconds, s.window_start, s.window_end,
                               zone=self.settings.timezone),
            sla=sla,
            settle_seconds=readiness.settle_seconds,
            ack_kind=partner.acknowledgment.kind,
            ack_destination=self._ack_destination(partner),
            config=partner,
        )

    def _source(self, partner: Partner, readiness: Readiness) -> Source:
        t = partner.transport
        if isinstance(t, FolderTransport):
            return FolderSource(self.path(t.path), partner=partner.id,
                                archive_dir=self.path(t.archive_dir) if t.archive_dir else None,
                                after_fetch=partner.archive, readiness=readiness)
        settings = replace(self.sftp_settings(partner.id, t, t.inbound_dir),
                           archive_dir=t.archive_dir, after_fetch=partner.archive,
                           readiness=readiness)
        return SftpSource(settings)

    def _ack_destination(self, partner: Partner) -> str | None:
        if partner.acknowledgment.kind == "none":
            return None
        where = partner.acknowledgment.push_to or partner.transport.outbound_dir
        if isinstance(partner.transport, FolderTransport):
            return str(Destination("folder", str(self.path(where or ""))))
        return str(Destination("sftp", where or "", partner.id))

    # -- stages -------------------------------------------------------------------------------

    def validator(self) -> Validator:
        return parse_file

    def acknowledger(self, store: MessageStore) -> Acknowledger:
        return Acknowledger(store, {p.id: (p.ack_kind, p.ack_destination)
                                    for p in self.partners.values()})

    def router(self, store: MessageStore) -> Router:
        if self._numbers is None:
            self._numbers = control_numbers(self.settings)
        return by_format(store, route_file_stage(store, self.config, self.settings,
                                                 self._numbers))

    # -- sinks --------------------------------------------------------------------------------

    def sinks(self) -> Sinks:
        """A fresh destination → Sink resolver for one worker, which closes it when done."""
        return Sinks(self)

    def sink_for(self, destination: str) -> Sink:
        parsed = parse_destination(destination)
        if parsed is None:
            raise ConfigError(f"destination {destination!r} is neither folder: nor sftp:",
                              fix="correct the member's destination in members.csv")
        if parsed.kind == "folder":
            return FolderSink(self.path(parsed.path))
        owner = self.config.destinations.get(parsed.transport or "") or self.config.pbms.get(
            parsed.transport or "")
        if owner is None or not isinstance(owner.transport, SftpTransport):
            raise ConfigError(f"destination {destination!r} names no SFTP partner",
                              fix="add partners/destinations/<id>.toml with type = \"sftp\"")
        return SftpSink(self.sftp_settings(owner.id, owner.transport, parsed.path))

    # -- helpers ------------------------------------------------------------------------------

    def sftp_settings(self, partner_id: str, t: SftpTransport, remote_dir: str) -> SftpSettings:
        return SftpSettings(
            partner=partner_id, host=t.host, port=t.port, user=t.user,
            key_file=self.path(t.key_file), known_hosts=self.path(t.known_hosts),
            remote_dir=remote_dir, connect_timeout=float(t.timeout),
            io_timeout=float(t.timeout),
        )

    def path(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base / path

    def close(self) -> None:
        """Close the partners' Sources (workers close their own Sinks)."""
        for partner in self.partners.values():
            partner.source.close()
        if self._numbers is not None:
            self._numbers.close()


def build_runtime(settings: Settings) -> Runtime:
    """Load and cross-check the partners directory; raise ConfigError naming every problem."""
    return Runtime(settings, load_configuration(settings.partners_dir))
