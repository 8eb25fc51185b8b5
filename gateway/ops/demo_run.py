"""``gateway demo``: the whole walk of DESIGN.md on synthetic files, in under a minute.

It builds the workspace of :mod:`gateway.ops.demo`, runs one daemon cycle (``gateway run
--once``) and prints what happened: which file went where, for how much, and why the broken
one was refused. Apart from the workspace because it sits above everything the workspace is
read by (the daemon, the reports), which import the workspace's pieces.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.errors import ConfigError
from gateway.log import configure
from gateway.ops.demo import folder_workspace
from gateway.ops.demo_claims import add_claims_partner, print_reconciliation
from gateway.ops.demo_report import print_report

MARKER = ".gateway-demo"  # a workspace we made, so we may wipe it on the next run


def run_demo(directory: Path) -> int:
    """Build the workspace, run one cycle, print the report; 0 when everything landed."""
    root = _fresh_workspace(directory.resolve())
    config, samples = folder_workspace(root)
    add_claims_partner(root, samples)
    log_file = root / "gateway.log"
    print(f"Workspace {root}: a PBM folder with {len(samples.files)} synthetic 835s, "
          f"{len(samples.pharmacies)} member pharmacies and their claim files, a SQLite "
          "message store.")
    print("Running one cycle (gateway run --once): pull → parse → split → deliver ...\n")
    with log_file.open("w") as log:
        configure(json=True, file=log)
        code = Daemon(load_settings(config)).run(once=True)
    ok = print_report(load_settings(config), samples)
    print_reconciliation(load_settings(config))
    print(f"\nThe daemon's JSON log (ids, counts and hashes only) is in {log_file}.")
    print(f"Look around: ls {root}/pharmacies/*/inbox {root}/pbm/inbound; "
          f"gateway status --config {config}")
    return 0 if ok and code == 0 else 1


def _fresh_workspace(root: Path) -> Path:
    """An empty directory: ours from an earlier demo run (wiped), or new; never someone's."""
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise ConfigError(f"{root} exists and is not a demo workspace",
                              fix="pass --dir with a new or empty directory")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("made by `gateway demo`; safe to delete\n")
    return root
