"""The demo's workspace: what ``gateway demo`` (:mod:`gateway.ops.demo_run`) runs on.

A workspace that looks like a small production install — a PBM drop folder, a member
roster, one folder per pharmacy, a SQLite message store — with the PBM's folder filled with
synthetic 835s (a multi-ST central pay, a single-ST central pay paid to the PSAO, the first
one sent again, and a broken one). Nothing in it is real: names, NPIs and amounts come from
the seeded generator.

The pieces (:func:`write_samples`, :func:`write_workspace`) are also what the end-to-end
tests build their PBM from, with an SFTP server in place of the drop folder.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from gateway.fsutil import private_directory
from gateway.store.crypt.keys import write_key_file
from gateway.synth.pharmacies import Pharmacy
from gateway.synth.x12_835 import Spec, Summary, write_835_file

PBM_ID = "demo-pbm"


@dataclass(frozen=True)
class SampleFile:
    """A file placed in the PBM's outbound folder, and what it is meant to show."""

    name: str
    role: str
    summary: Summary | None  # None for the broken one


@dataclass(frozen=True)
class Samples:
    files: tuple[SampleFile, ...]
    pharmacies: tuple[Pharmacy, ...]  # every payee pharmacy, for the roster
    psao_npi: str  # payee of the single-ST central pay

    def by_name(self, name: str) -> SampleFile:
        return next(f for f in self.files if f.name == name)


def write_samples(outbound: Path, *, payees: int = 3, claims: int = 24) -> Samples:
    """Four files: two good central pays, a re-sent copy and a truncated one."""
    outbound.mkdir(parents=True, exist_ok=True)
    multi = write_835_file(str(outbound / "era-20260105-multi.835"),
                           Spec(shape="multi-st", payees=payees, claims=claims, seed=11,
                                interchange_control_number=101))
    single = write_835_file(str(outbound / "era-20260105-central.835"),
                            Spec(shape="single-st", payees=payees, claims=claims, seed=12,
                                 interchange_control_number=102))
    shutil.copyfile(outbound / "era-20260105-multi.835", outbound / "era-20260105-resent.835")
    broken = outbound / "era-20260105-broken.835"
    write_835_file(str(broken), Spec(shape="multi-st", payees=payees, claims=claims, seed=13,
                                     interchange_control_number=103))
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) * 2 // 3])  # cut mid-file: no SE, GE or IEA
    return Samples(
        files=(
            SampleFile("era-20260105-multi.835", "central pay, one ST per pharmacy", multi),
            SampleFile("era-20260105-central.835", "central pay, one ST paid to the PSAO",
                       single),
            SampleFile("era-20260105-resent.835", "the first file sent again", multi),
            SampleFile("era-20260105-broken.835", "cut off mid-file", None),
        ),
        pharmacies=tuple(multi.pharmacies) + tuple(single.pharmacies),
        psao_npi=single.sets[0].payee_npi,
    )


def write_workspace(
    root: Path,
    samples: Samples,
    *,
    inbound: str,
    outbound: str,
    destinations: dict[str, str],
    formats: str = "835",
    listen: str = "off",
    console: str = "off",
    workers: int = 2,
    lease_seconds: int = 60,
    ack: str = "999",
) -> Path:
    """gateway.toml and partners/ for one PBM and the sample pharmacies; returns gateway.toml.

    ``inbound`` and ``outbound`` are the bodies of the PBM's transport tables (where its files
    are pulled from, where its acknowledgments go); ``destinations`` maps a pharmacy NPI to its
    roster destination (``folder:/dir`` or ``sftp:<id>:/dir``). The console is off unless
    ``console`` gives an address: a scratch workspace must not take the host's port.
    """
    partners = root / "partners"
    (partners / "pbms").mkdir(parents=True, exist_ok=True)
    (partners / "destinations").mkdir(exist_ok=True)
    (root / "gateway.toml").write_text(
        "# Made by gateway demo / the end-to-end tests: a scratch workspace.\n"
        f'[gateway]\nstore = "sqlite:///data/gateway.db"\nworkers = {workers}\n'
        f"lease_seconds = {lease_seconds}\n"
        f'[http]\nlisten = "{listen}"\n[console]\nlisten = "{console}"\n'
        '[logging]\nformat = "json"\n'
        # absolute: the tests copy this file to other hosts' folders
        f'[encryption]\npayloads = "on"\nkey = "file:{(root / "keys").resolve()}/payload.key"\n')
    if not (root / "keys" / "payload.key").exists():  # apart from data/, like gateway init's
        private_directory(root / "keys")
        write_key_file(root / "keys" / "payload.key")
    (partners / "psao.toml").write_text(
        'name = "EXAMPLE PSAO SERVICES"\nisa_qualifier = "ZZ"\nisa_id = "EXAMPLEPSAO"\n'
        f'gs_id = "EXAMPLEPSAO"\nnpi = "{samples.psao_npi}"\n')
    (partners / "pbms" / f"{PBM_ID}.toml").write_text(
        f'id = "{PBM_ID}"\nname = "Example PBM One (synthetic)"\nisa_qualifier = "ZZ"\n'
        'isa_id = "EXAMPLEPBM"\nvalidation = "structure"\n\n'
        f"[inbound]\n{inbound}\n[outbound]\n{outbound}\n"
        '[files]\npatterns = ["*.835"]\n\n[schedule]\ninterval = 10\n\n'
        f'[acknowledgment]\nkind = "{ack}"\n')
    rows = ["pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats"]
    for p in samples.pharmacies:
        rows.append(f"{member_id(p)},{p.name},{p.npi},{p.ncpdp_id},{p.tin},"
                    f"true,{destinations[p.npi]},{formats}")
    (partners / "members.csv").write_text("\n".join(rows) + "\n")
    return root / "gateway.toml"


def member_id(pharmacy: Pharmacy) -> str:
    """The roster id of a sample pharmacy: the generator numbers pharmacies per file from
    PH00001, so two files' pharmacies are told apart by their NPI."""
    return f"{pharmacy.pharmacy_id}-{pharmacy.npi}"


def folder_inbound(pbm: Path, *, settle_seconds: float = 0.5) -> str:
    """A PBM's drop folder ``pbm/outbound`` as an ``[inbound]`` table, archived to
    ``pbm/archive``. Files are ready once unchanged for ``settle_seconds``."""
    return (f'type = "folder"\npath = "{pbm / "outbound"}"\nafter_fetch = "archive"\n'
            f'archive_dir = "{pbm / "archive"}"\nsettle_seconds = {settle_seconds}\n')


def folder_workspace(root: Path) -> tuple[Path, Samples]:
    """The demo's own workspace: everything in local folders under ``root``."""
    samples = write_samples(root / "pbm" / "outbound")
    (root / "pbm" / "inbound").mkdir(parents=True, exist_ok=True)
    destinations = {p.npi: f"folder:{root / 'pharmacies' / member_id(p) / 'inbox'}"
                    for p in samples.pharmacies}
    config = write_workspace(root, samples, inbound=folder_inbound(root / "pbm"),
                             outbound=f'type = "folder"\npath = "{root / "pbm" / "inbound"}"\n',
                             destinations=destinations, formats="835|csv")
    return config, samples
