"""``validation = "tr3"`` runs in the daemon (issue 10, defect 14): a file the guide refuses
(PER03 'XX' is no code; the structural read accepts it) is quarantined with the guide's
finding, and the 999 rejects it naming the element."""

from __future__ import annotations

import pytest

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.ops.demo import folder_workspace
from gateway.store import open_configured
from gateway.store.models import FileStatus

NAME = "era-20260105-multi.835"


@pytest.mark.parametrize("validation", ["tr3", "structure"])
def test_defect_14_validation_tr3_runs_in_the_daemon(tmp_path, validation):
    config, _samples = folder_workspace(tmp_path / "ws")
    root = config.parent
    drop = root / "pbm" / "outbound"
    for other in drop.iterdir():
        if other.name != NAME:
            other.unlink()
    text = (drop / NAME).read_text()
    assert "*TE*" in text
    (drop / NAME).write_text(text.replace("*TE*", "*XX*"))
    pbm = root / "partners" / "pbms" / "demo-pbm.toml"
    pbm.write_text(pbm.read_text().replace('validation = "structure"',
                                           f'validation = "{validation}"'))
    Daemon(load_settings(config)).run(once=True)

    with open_configured(load_settings(config)) as store:
        (received,) = store.list_files()
        (ack,) = [p.read_text() for p in (root / "pbm" / "inbound").iterdir()
                  if p.name.endswith(".999")]
        if validation == "structure":  # the guide is not asked for: accepted as before
            assert received.status is FileStatus.ROUTED and "AK9*A" in ack
            return
        assert received.status is FileStatus.QUARANTINED
        assert received.error is not None and received.error.startswith("tr3-invalid-code")
        assert "AK9*R" in ack and "IK4*3" in ack  # PER03 named in the rejection
