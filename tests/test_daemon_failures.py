"""No silent stalls (issue 10, Build 6): a stage that raises ends the file ``failed`` with a
located reason, an alert and a metric; no accepting 999 goes out; ``run --once`` exits 1 and
``gateway status`` is not green; a reload or ``gateway files retry`` takes the file up again."""

from __future__ import annotations

import shutil
from pathlib import Path

from daemon_support import sample

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.daemon.metrics import parse_exposition
from gateway.ops.demo import folder_workspace
from gateway.store import open_configured
from gateway.store.models import FileStatus

REPO = Path(__file__).resolve().parent.parent
GOOD = ("era-20260105-multi.835", "era-20260105-central.835")


def _site_mapping_with_typo(config: Path) -> Path:
    """The operator's copy of the CSV mapping with ``claim.claim_id`` mistyped."""
    site = config.parent / "mappings"
    site.mkdir(exist_ok=True)
    mapping = site / "remittance-csv.toml"
    shutil.copy(REPO / "gateway/render/mappings/remittance-csv.toml", mapping)
    mapping.write_text(mapping.read_text().replace('"claim.claim_id"', '"claim.claimid"'))
    return mapping


def _acks(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (root / "pbm" / "inbound").iterdir()}


def test_defect_5_a_site_mapping_typo_fails_the_file_without_a_positive_999(tmp_path, capsys):
    config, _samples = folder_workspace(tmp_path / "ws")
    root = config.parent
    mapping = _site_mapping_with_typo(config)

    daemon = Daemon(load_settings(config))
    assert daemon.run(once=True) == 1  # a file failed: cron is told
    metrics = parse_exposition(daemon.metrics.exposition().decode())
    assert sample(metrics, "gateway_files_failed_total", partner="demo-pbm",
                  stage="route") == 2
    store = open_configured(load_settings(config))
    files = {f.original_name: f for f in store.list_files()}
    for name in GOOD:
        failed = files[name]
        assert failed.status is FileStatus.FAILED
        assert failed.error is not None and failed.error.startswith("route: ")
        assert "claim.claimid" in failed.error and "remittance-csv.toml" in failed.error
        assert "failed" in [e.action for e in store.events("file", failed.id)]
        # nothing accepted: no 999 for it at all (the broken file gets its rejection)
        assert not [n for n in _acks(root) if n.startswith(name)]
    store.close()

    assert main(["status", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAILED FILES 2" in out and "claim.claimid" in out

    # corrected, then retried by the operator: routed, and now the 999 accepts
    shutil.copy(REPO / "gateway/render/mappings/remittance-csv.toml", mapping)
    assert main(["files", "retry", "--all-failed", "--config", str(config)]) == 0
    assert Daemon(load_settings(config)).run(once=True) == 0
    store = open_configured(load_settings(config))
    assert {f.original_name: f.status for f in store.list_files()
            if f.original_name in GOOD} == dict.fromkeys(GOOD, FileStatus.ROUTED)
    store.close()
    for name in GOOD:
        (ack,) = [text for n, text in _acks(root).items() if n.startswith(name)]
        assert "AK9*A" in ack


def test_a_reload_retries_the_failed_files(tmp_path):
    config, _samples = folder_workspace(tmp_path / "ws")
    mapping = _site_mapping_with_typo(config)
    daemon = Daemon(load_settings(config))
    try:
        assert daemon.cycle(force=True) is False
        shutil.copy(REPO / "gateway/render/mappings/remittance-csv.toml", mapping)
        daemon.cycle(force=True)  # no reload yet: a failed file is not retried in a loop
        assert {f.status for f in daemon.store.list_files()
                if f.original_name in GOOD} == {FileStatus.FAILED}
        daemon.request_reload()
        assert daemon.cycle(force=True) is True
        assert {f.status for f in daemon.store.list_files()
                if f.original_name in GOOD} == {FileStatus.ROUTED}
    finally:
        daemon.close()


def test_defect_5_gateway_check_finds_the_mapping_typo_online_and_offline(tmp_path, capsys):
    config, _samples = folder_workspace(tmp_path / "ws")
    assert main(["check", "--offline", "--config", str(config)]) == 0
    mapping = _site_mapping_with_typo(config)
    for offline in (["--offline"], []):
        assert main(["check", *offline, "--config", str(config)]) == 1
        out = capsys.readouterr().out
        failed = [x for x in out.splitlines() if x.startswith("FAIL")]
        assert any("mapping remittance-csv" in x and "claim.claimid" in x for x in failed)
    mapping.unlink()
    (config.parent / "partners" / "pbms" / "demo-pbm.toml").unlink()
    assert main(["check", "--offline", "--config", str(config)]) == 0
    assert "WARN  partners: no PBM configured" in capsys.readouterr().out


def test_gateway_check_names_a_missing_key_file_and_inbound_folder(tmp_path, capsys):
    config, _samples = folder_workspace(tmp_path / "ws")
    (config.parent / "partners" / "destinations" / "vendor.toml").write_text(
        'id = "vendor"\nname = "x"\n[outbound]\ntype = "sftp"\nhost = "127.0.0.1"\n'
        'user = "u"\nkey_file = "missing_key"\nknown_hosts = "missing_hosts"\n'
        'remote_dir = "/in"\n')
    shutil.rmtree(config.parent / "pbm" / "outbound")
    assert main(["check", "--offline", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  vendor [outbound] keys: key_file" in out and "missing_hosts" in out
    assert "FAIL  demo-pbm [inbound] folder:" in out
