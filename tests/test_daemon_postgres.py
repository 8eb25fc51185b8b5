"""Two daemons (as on two hosts) share one PostgreSQL store and one PBM: each file is pulled
once, processed once, and each pharmacy's part delivered once — the poll lease, the per-file
lease and the delivery leases divide the work."""

from __future__ import annotations

import pytest
from daemon_support import big_workspace, outputs, start_daemon, wait_for
from store_backends import empty_postgres, pg_url  # noqa: F401 (pg_url is a fixture)

from gateway.config.settings import load_settings
from gateway.store import open_configured
from gateway.store.models import DeliveryState, FileStatus


@pytest.fixture
def shared(tmp_path, pg_url):  # noqa: F811
    empty_postgres(pg_url)
    root = tmp_path / "a"
    config_a, samples = big_workspace(root, files=4)
    text = config_a.read_text().replace('store = "sqlite:///data/gateway.db"',
                                        f'store = "{pg_url}"')
    config_a.write_text(text)
    config_b = tmp_path / "b" / "gateway.toml"
    config_b.parent.mkdir()
    config_b.write_text(text.replace("[gateway]\n", f'[gateway]\npartners_dir = '
                                     f'"{root / "partners"}"\n'))
    return root, config_a, config_b, samples


def test_two_daemons_share_the_work_and_double_nothing(shared, tmp_path):
    root, config_a, config_b, samples = shared
    daemons = [start_daemon(config_a, tmp_path / "a.log"),
               start_daemon(config_b, tmp_path / "b.log")]
    # parts, a 999 per good file, and the truncated file's 999 and TA1
    expected = len(samples.pharmacies) + len(samples.files) + 2
    store = open_configured(load_settings(config_a))
    try:
        def done() -> bool:
            delivered = store.list_deliveries(state=DeliveryState.DELIVERED, limit=10_000)
            return len(delivered) == expected

        wait_for(done, timeout=90, what=f"{expected} deliveries",
                 process=daemons[0].process)
        for daemon in daemons:
            assert daemon.stop(timeout=30) == 0
        files = store.list_files(limit=100)
        duplicates = [f for f in files if f.status is FileStatus.DUPLICATE]
        assert [f.original_name for f in duplicates] == ["era-99-resent.835"]
        assert len(store.list_deliveries(limit=10_000)) == expected
    finally:
        for daemon in daemons:
            daemon.kill()
        store.close()
    delivered = outputs(root / "pharmacies")
    assert len(delivered) == len(samples.pharmacies)  # one part each, written once
    worked = [d for d in daemons if any('"delivered"' in line for line in d.log_lines())]
    assert worked  # at least one daemon delivered (usually both do)
