"""The whole configuration directory (``partners/``) loaded and cross-checked in one call.

    partners/psao.toml            the PSAO's own identifiers
    partners/pbms/*.toml          PBM trading partners (where to pull 835s from)
    partners/destinations/*.toml  SFTP servers of pharmacies or their vendors (where to push)
    partners/members.csv          the member roster

A roster destination ``sftp:<id>:/dir`` must name a file in destinations/ (or a PBM).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.config.members import Roster, load_roster
from gateway.config.partners import Partner, load_partners
from gateway.config.psao import Psao, load_psao
from gateway.errors import ConfigError


@dataclass(frozen=True)
class Configuration:
    psao: Psao
    pbms: dict[str, Partner]
    destinations: dict[str, Partner]
    roster: Roster


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
    destinations = load_partners(directory / "destinations")
    roster = load_roster(
        directory / "members.csv", sftp_transports=set(pbms) | set(destinations)
    )
    return Configuration(psao, pbms, destinations, roster)
