"""Sweep what killed runs leave behind: hidden ``.gateway-*.part`` temp files in delivery
folders, entries in the work dir, orphan payloads (bytes kept whose row never came).

Only things older than ``[retention] sweep_hours`` are touched: a younger temp file may be a
live write of a daemon beside this one (a ``run --once`` from cron, another host), and a
younger payload may be waiting for the row its receive is about to commit.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from gateway.store.base import MessageStore
from gateway.store.retention import open_retention
from gateway.transport.folder import TEMP_PREFIX, TEMP_SUFFIX

PAYLOAD_TEMP = "incoming/.payload-*"  # payloads.py writes these before the rename


@dataclass
class SweepReport:
    dry_run: bool
    temp_files: list[Path] = field(default_factory=list)
    work_entries: list[Path] = field(default_factory=list)
    orphans: list[tuple[str, int]] = field(default_factory=list)
    bytes: int = 0

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        return [f"sweep: {verb} {len(self.temp_files)} temp files, "
                f"{len(self.work_entries)} work-dir entries and {len(self.orphans)} orphan "
                f"payloads ({self.bytes:,} bytes)"]


def sweep(store: MessageStore, folders: Iterable[Path], work_dir: Path | None,
          cutoff: datetime, *, dry_run: bool = False) -> SweepReport:
    """Find (and unless ``dry_run`` remove) leftovers last modified before ``cutoff``."""
    report = SweepReport(dry_run)
    limit = cutoff.timestamp()
    for folder in sorted(set(folders)):
        if folder.is_dir():
            report.temp_files += [p for p in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}")
                                  if _older(p, limit)]
    payload_dir = getattr(store, "payloads", None)
    if payload_dir is not None:
        report.temp_files += [p for p in payload_dir.root.glob(PAYLOAD_TEMP) if _older(p, limit)]
    if work_dir is not None and work_dir.is_dir():
        report.work_entries = [p for p in work_dir.iterdir() if _older(p, limit)]
    with open_retention(store) as retention:
        report.orphans = retention.orphans(cutoff)
        report.bytes = sum(_size(p) for p in report.temp_files + report.work_entries)
        report.bytes += sum(size for _, size in report.orphans)
        if not dry_run:
            retention.drop_orphans(report.orphans, cutoff)
    if not dry_run:
        _remove(report.temp_files + report.work_entries)
    return report


def remove_stale(paths: Iterable[Path], before: float) -> list[Path]:
    """Remove those of ``paths`` last modified before ``before`` (a timestamp); return them.
    The daemon's start-up sweep of its work dir uses this too: one way to remove leftovers."""
    stale = [p for p in paths if _older(p, before)]
    _remove(stale)
    return stale


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def folder_destinations(store_destinations: Iterable[str]) -> list[Path]:
    """The local folders among delivery destination strings (``folder:/dir``)."""
    return [Path(d.removeprefix("folder:")) for d in store_destinations
            if d.startswith("folder:")]


def _older(path: Path, limit: float) -> bool:
    try:
        return path.lstat().st_mtime < limit
    except FileNotFoundError:
        return False


def _size(path: Path) -> int:
    try:
        if path.is_dir() and not path.is_symlink():
            return sum(p.lstat().st_size for p in path.rglob("*"))
        return path.lstat().st_size
    except OSError:
        return 0
