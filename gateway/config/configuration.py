"""The whole configuration directory (``partners/``) loaded and cross-checked in one call.

    partners/psao.toml            the PSAO's own identifiers
    partners/pbms/*.toml          PBM trading partners (where to pull 835s from)
    partners/destinations/*.toml  SFTP servers of pharmacies or their vendors ([outbound])
    partners/members.csv          the member roster

A roster destination ``sftp:<id>:/dir`` must name a file in destinations/ (or a PBM).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.config.destination import Destination, DestinationKind
from gateway.config.members import Roster, load_roster
from gateway.config.partners import Partner, load_partners
from gateway.config.psao import Psao, load_psao
from gateway.errors import ConfigError
from gateway.transport.base import Sink
from gateway.transport.folder import FolderSink


@dataclass(frozen=True)
class Configuration:
    psao: Psao
    pbms: dict[str, Partner]
    destinations: dict[str, Partner]
    roster: Roster

    def sink_for(self, destination: Destination) -> Sink:
        """Where a member's deliveries go: its folder, or its SFTP server's [outbound]
        transport pointed at the member's own directory."""
        if destination.kind is DestinationKind.FOLDER:
            return FolderSink(destination.path)
        if destination.kind is not DestinationKind.SFTP or destination.transport is None:
            raise ConfigError(f"{destination} is not a member's folder or SFTP destination",
                              fix="correct the member's destination in members.csv")
        partner = self.destinations.get(destination.transport) or self.pbms[destination.transport]
        return partner.sink(destination.path)


def load_configuration(directory: Path) -> Configuration:
    """Load every configuration file under ``directory``; the first file with problems raises
    a ConfigError listing all of that file's problems."""
    if not directory.is_dir():
        raise ConfigError(
            f"configuration directory {directory} does not exist",
            fix="point --config at the partners/ directory (see partners/ in the repository)",
        )
    psao = load_psao(directory / "psao.toml")
    pbms = load_partners(directory / "pbms")
    destinations = load_partners(directory / "destinations", requires="outbound")
    pushable = {pid for pid, p in (pbms | destinations).items() if p.outbound is not None}
    roster = load_roster(directory / "members.csv", sftp_transports=pushable)
    return Configuration(psao, pbms, destinations, roster)
