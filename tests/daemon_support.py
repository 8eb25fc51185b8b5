"""Helpers for the daemon's tests: a workspace, the daemon as a subprocess, what to expect.

The daemon runs as a real process (``python -m gateway run``) wherever the test is about
signals, restarts or logs; its stderr (JSON lines) is kept for the PHI scan. Expectations are
computed from the generator's own summaries and from reading the delivered files back with
the 835 reader, never from the daemon's own bookkeeping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.daemon.metrics import parse_exposition
from gateway.ops.demo import SampleFile, Samples, folder_inbound, member_id, write_workspace
from gateway.synth.x12_835 import Spec, write_835_file
from gateway.x12.read.reader import read_835

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str,
             process: subprocess.Popen | None = None) -> None:
    """Poll ``condition`` until true; fail with ``what`` (and the daemon's exit) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"daemon exited ({process.returncode}) while waiting for {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class DaemonProcess:
    """``gateway run`` in a subprocess; stderr (the JSON log) goes to ``log_path``."""

    process: subprocess.Popen
    log_path: Path

    def signal(self, sig: int) -> None:
        os.kill(self.process.pid, sig)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def events(self) -> list[dict]:
        events = []
        for line in self.log_lines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return events


def start_daemon(config: Path, log_path: Path, *extra: str) -> DaemonProcess:
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run", "--config", str(config), *extra],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    log.close()
    return DaemonProcess(process, log_path)


def scrape(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return parse_exposition(response.read().decode())


def sample(samples: dict, name: str, **labels: str) -> float:
    """One sample's value (0 when absent, as Prometheus treats a missing counter)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def outputs(directory: Path) -> dict[str, bytes]:
    """Every delivered file under ``directory`` (recursively), by relative path; temp files
    (ours start with a dot) are not deliveries and are reported separately by the caller."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def leftovers(directory: Path) -> list[Path]:
    """Temp files left in pharmacy folders (a crash mid-write): allowed to exist only hidden."""
    return [p for p in directory.rglob(".*") if p.is_file()]


def remittances(path: Path) -> list:
    with path.open("rb") as stream:
        return list(read_835(stream, file_name=path.name))


def payee_npis(path: Path) -> set[str]:
    """Every NPI a delivered 835 names as payee or rendering provider (whose part it is)."""
    npis = set()
    for remittance in remittances(path):
        if remittance.payee.npi:
            npis.add(remittance.payee.npi)
        for claim in remittance.claims:
            if claim.rendering_provider_npi:
                npis.add(claim.rendering_provider_npi)
    return npis


def phi_values(paths: list[Path]) -> set[str]:
    """Patient names, member ids and birth dates in input 835s (NM1 QC/IL, DMG), for the
    PHI scan. Short tokens are dropped: a 3-letter name would match anything."""
    values: set[str] = set()
    for path in paths:
        text = path.read_bytes().decode("latin-1")
        element = text[3]
        terminator = text[105]
        for segment in text.split(terminator):
            fields = segment.strip().split(element)
            if fields[0] == "NM1" and len(fields) > 1 and fields[1] in ("QC", "IL", "74"):
                values.update(f for f in (fields[3:5] + fields[9:10]) if len(f) >= 5)
            if fields[0] == "DMG" and len(fields) > 2:
                values.add(fields[2])
    return {v for v in values if re.search(r"[A-Za-z0-9]{5,}", v)}


def big_workspace(root: Path, *, files: int = 6, payees: int = 6, claims: int = 60,
                  lease_seconds: int = 60, listen: str = "off") -> tuple[Path, Samples]:
    """A folder PBM with ``files`` central pays (alternating multi-ST and single-ST, each for
    its own ``payees`` pharmacies), one of them sent twice, and one truncated file."""
    outbound = root / "pbm" / "outbound"
    outbound.mkdir(parents=True)
    (root / "pbm" / "inbound").mkdir()
    sample_files, pharmacies = [], []
    psao_npi = ""
    for n in range(files):
        shape = "multi-st" if n % 2 == 0 else "single-st"
        name = f"era-{n:02d}-{shape}.835"
        summary = write_835_file(str(outbound / name),
                                 Spec(shape=shape, payees=payees, claims=claims, seed=100 + n,
                                      interchange_control_number=500 + n))
        sample_files.append(SampleFile(name, shape, summary))
        pharmacies += summary.pharmacies
        if shape == "single-st":
            psao_npi = summary.sets[0].payee_npi
    shutil.copyfile(outbound / sample_files[0].name, outbound / "era-99-resent.835")
    broken = outbound / "era-98-broken.835"
    write_835_file(str(broken), Spec(payees=2, claims=10, seed=99, interchange_control_number=599))
    broken.write_bytes(broken.read_bytes()[:-40])
    samples = Samples(tuple(sample_files), tuple(pharmacies), psao_npi)
    destinations = {p.npi: f"folder:{root / 'pharmacies' / member_id(p)}" for p in pharmacies}
    inbound = folder_inbound(root / "pbm", settle_seconds=0.2)
    config = write_workspace(root, samples, inbound=inbound,
                             outbound=f'type = "folder"\npath = "{root / "pbm" / "inbound"}"\n',
                             destinations=destinations, lease_seconds=lease_seconds,
                             listen=listen)
    return config, samples
