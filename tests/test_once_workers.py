"""``run --once`` delivers with the configured number of workers, as the daemon does: a cron
run to hundreds of pharmacies waits on fsyncs and store round trips, which several workers
overlap. Each delivery still lands exactly once, whoever made it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.ops.demo import SampleFile, Samples, folder_inbound, member_id, write_workspace
from gateway.synth.x12_835 import Spec, write_835_file

PHARMACIES = 150


def central_pay_site(root: Path, workers: int) -> tuple[Path, Samples]:
    """One single-ST central pay to ``PHARMACIES`` members, each with its own folder."""
    outbound = root / "pbm" / "outbound"
    outbound.mkdir(parents=True)
    (root / "pbm" / "inbound").mkdir()
    summary = write_835_file(str(outbound / "era.835"), Spec(
        shape="single-st", payees=PHARMACIES, claims=3 * PHARMACIES, seed=11))
    samples = Samples((SampleFile("era.835", "single-st", summary),), summary.pharmacies,
                      summary.sets[0].payee_npi)
    config = write_workspace(
        root, samples, inbound=folder_inbound(root / "pbm", settle_seconds=0),
        outbound=f'type = "folder"\npath = "{root / "pbm" / "inbound"}"\n',
        destinations={p.npi: f"folder:{root / 'ph' / member_id(p)}" for p in summary.pharmacies},
        workers=workers)
    return config, samples


@pytest.mark.parametrize("workers", [1, 3])
def test_once_delivers_each_part_once_with_the_configured_workers(tmp_path, workers):
    config, samples = central_pay_site(tmp_path, workers)
    assert Daemon(load_settings(config)).run(once=True) == 0

    got = {member_id(p): len(list((tmp_path / "ph" / member_id(p)).glob("*.835")))
           for p in samples.pharmacies}
    # never a part twice; the generator leaves a few pharmacies without claims, so no part
    assert set(got.values()) <= {0, 1}
    assert sum(got.values()) > PHARMACIES * 0.9
    with sqlite3.connect(tmp_path / "data" / "gateway.db") as db:
        states = dict(db.execute("SELECT state, count(*) FROM deliveries GROUP BY state"))
        workers_seen = {row[0].rsplit(":", 1)[1] for row in db.execute(
            "SELECT DISTINCT leased_by FROM deliveries")}
    assert states == {"delivered": sum(got.values()) + 1}  # the parts and the 999 to the PBM
    if workers == 1:
        assert workers_seen == {"once0"}
    else:  # some 150 deliveries of a few fsyncs each: the workers share them
        assert len(workers_seen) > 1 and workers_seen <= {f"once{n}" for n in range(workers)}
