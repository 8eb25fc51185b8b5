"""Benchmark: the gateway's SFTP adapter next to OpenSSH's ``sftp`` client, same run, same sshd.

Downloads and uploads one file (default 100 MiB) over loopback, ``--runs`` times, alternating
adapter and OpenSSH within each run so machine noise hits both alike. Reports MB/s (10^6
bytes/s) per run, the medians, the worst run, and the ratio adapter/OpenSSH of the medians.
``--variants`` also measures the adapter with other ciphers, window sizes and readv blocks.

    .venv/bin/python bench/bench_transport.py --runs 10
    .venv/bin/python bench/bench_transport.py --runs 3 --variants

Needs /usr/sbin/sshd and /usr/bin/sftp (apt-get install openssh-server openssh-client).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from sshd import SshServer, running_sshd  # noqa: E402

from gateway.log import configure  # noqa: E402
from gateway.transport.base import RemoteFile  # noqa: E402
from gateway.transport.config import sftp_settings  # noqa: E402
from gateway.transport.sftp import SftpSink, SftpSource  # noqa: E402
from gateway.transport.sftp_read import read_blocks  # noqa: E402
from gateway.transport.ssh import MiB, SftpConnection, SftpSettings  # noqa: E402

SFTP = "/usr/bin/sftp"


def openssh(server: SshServer, command: str, work: Path) -> None:
    """One OpenSSH sftp batch command with the strict options a partner connection uses."""
    batch = work / "batch"
    batch.write_text(command + "\n")
    subprocess.run(
        [
            SFTP, "-q", "-b", str(batch), "-i", str(server.client_key),
            "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={server.known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes", "-P", str(server.port), f"{server.user}@{server.host}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def timed(action: Callable[[], None], size: int) -> float:
    started = time.perf_counter()
    action()
    return size / 1e6 / (time.perf_counter() - started)


def adapter_download(settings: SftpSettings, remote: Path, inbox: Path) -> Callable[[], None]:
    def run() -> None:
        source = SftpSource(settings)
        info = remote.stat()
        file = RemoteFile(str(remote), remote.name, info.st_size, info.st_mtime)
        try:
            source.fetch(file, inbox).local_path.unlink()
        finally:
            source.close()

    return run


def adapter_upload(settings: SftpSettings, local: Path) -> Callable[[], None]:
    def run() -> None:
        sink = SftpSink(settings)
        try:
            with local.open("rb") as data:
                sink.deliver("uploaded.bin", data)
        finally:
            sink.close()

    return run


def raw_download(settings: SftpSettings, remote: Path, inbox: Path, how: str) -> Callable[[], None]:
    """paramiko alone (no fsync, no hash), to compare download strategies like for like."""

    def run() -> None:
        connection = SftpConnection(settings)
        target = inbox / "raw.bin"
        try:
            sftp = connection.sftp()
            if how == "get":
                sftp.get(str(remote), str(target))
            else:
                size = remote.stat().st_size
                with sftp.open(str(remote), "rb") as handle, target.open("wb") as out:
                    for data in read_blocks(handle, size, settings.block_size, fast=how == "own"):
                        out.write(data)
        finally:
            connection.close()
            target.unlink(missing_ok=True)

    return run


def summary(label: str, rates: list[float]) -> str:
    cells = " ".join(f"{r:6.1f}" for r in rates)
    return f"{label:<34} median {statistics.median(rates):6.1f}  min {min(rates):6.1f}  | {cells}"


def compare(server: SshServer, work: Path, settings: SftpSettings, size: int, runs: int) -> None:
    remote_dir = Path(settings.remote_dir)
    source_file = remote_dir / "download.bin"
    local_file = work / "local.bin"
    inbox = work / "inbox"
    inbox.mkdir(exist_ok=True)
    rates: dict[str, list[float]] = {k: [] for k in ("ad_get", "os_get", "ad_put", "os_put")}
    for _ in range(runs):
        rates["ad_get"].append(timed(adapter_download(settings, source_file, inbox), size))
        rates["os_get"].append(
            timed(lambda: openssh(server, f"get {source_file} {work}/got.bin", work), size)
        )
        rates["ad_put"].append(timed(adapter_upload(settings, local_file), size))
        rates["os_put"].append(
            timed(lambda: openssh(server, f"put {local_file} {remote_dir}/put.bin", work), size)
        )
        for leftover in (work / "got.bin", remote_dir / "put.bin", remote_dir / "uploaded.bin"):
            leftover.unlink(missing_ok=True)
    print(
        f"MB/s, {size // MiB} MiB over loopback, {runs} runs, adapter ciphers {settings.ciphers[0]}"
    )
    print(summary("adapter download (16 MiB blocks)", rates["ad_get"]))
    print(summary("OpenSSH sftp get", rates["os_get"]))
    print(summary("adapter upload (.part + rename)", rates["ad_put"]))
    print(summary("OpenSSH sftp put", rates["os_put"]))
    for kind, ours, theirs in (("download", "ad_get", "os_get"), ("upload", "ad_put", "os_put")):
        ratio = statistics.median(rates[ours]) / statistics.median(rates[theirs])
        print(f"{kind}: adapter/OpenSSH median ratio {ratio:.2f}, worst adapter run "
              f"{min(rates[ours]):.1f} MB/s")  # fmt: skip


def variants(work: Path, settings: SftpSettings, size: int, runs: int) -> None:
    """The adapter alone under other cipher / window / block choices (same run, same file)."""
    remote = Path(settings.remote_dir) / "download.bin"
    local = work / "local.bin"
    inbox = work / "inbox"
    choices = {
        "aes128-gcm, 2 MiB window, 16 MiB": {},
        "aes128-ctr": {"ciphers": ("aes128-ctr",)},
        "aes256-gcm": {"ciphers": ("aes256-gcm@openssh.com",)},
        "window 8 MiB": {"window_size": 8 * MiB},
        "window 32 MiB": {"window_size": 32 * MiB},
        "request block 4 MiB": {"block_size": 4 * MiB},
        "request block 64 MiB": {"block_size": 64 * MiB},
    }
    print(f"\ndownload strategies, paramiko only (no fsync/hash), {runs} runs each (MB/s)")
    for label, how in (("SFTPClient.get()", "get"), ("public readv, 16 MiB blocks", "readv"),
                       ("own requests, 16 MiB blocks", "own")):  # fmt: skip
        gets = [timed(raw_download(settings, remote, inbox, how), size) for _ in range(runs)]
        print(summary(label, gets))
    print(f"\nadapter variants, {runs} runs each (MB/s): download | upload")
    for label, change in choices.items():
        tuned = dataclasses.replace(settings, **change)
        gets = [timed(adapter_download(tuned, remote, inbox), size) for _ in range(runs)]
        puts = [timed(adapter_upload(tuned, local), size) for _ in range(runs)]
        (Path(settings.remote_dir) / "uploaded.bin").unlink(missing_ok=True)
        print(f"{label:<34} get median {statistics.median(gets):6.1f} min {min(gets):6.1f}"
              f" | put median {statistics.median(puts):6.1f} min {min(puts):6.1f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--mib", type=int, default=100, help="file size in MiB")
    parser.add_argument("--variants", action="store_true")
    args = parser.parse_args()
    configure(json=False, level=logging.WARNING)  # results only, not one log line per transfer
    size = args.mib * MiB
    with tempfile.TemporaryDirectory(prefix="bench-transport-") as tmp:
        work = Path(tmp)
        remote_dir = work / "remote"
        remote_dir.mkdir()
        data = os.urandom(size)
        (remote_dir / "download.bin").write_bytes(data)
        (work / "local.bin").write_bytes(data)
        with running_sshd(work / "sshd") as server:
            settings = sftp_settings(server.transport_config(remote_dir), partner="bench")
            compare(server, work, settings, size, args.runs)
            if args.variants:
                variants(work, settings, size, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
