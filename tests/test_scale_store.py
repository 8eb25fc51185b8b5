"""The store's share of running several daemons (issue 13): control numbers kept in the store,
gap-free and unique under concurrent daemons, and one daemon only per SQLite store."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict

import pytest
from daemon_support import REPO, start_daemon, wait_for

from gateway.errors import ConfigError
from gateway.ops.demo import folder_workspace
from gateway.store import open_store

ASSIGNER = """
import sys
from gateway.store import open_store
url, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open_store(url) as store:
    numbers = store.control_numbers()
    for i in range(n):
        destination = f"sftp:pharmacy-{i % 3}:/in"
        # every process assigns the same part keys: each part must get one number only
        print(destination, i, numbers.assign(destination, f"part-{i}"), flush=True)
"""


def test_numbers_are_per_destination_and_remembered_per_part(store):
    numbers = store.control_numbers()
    assert [numbers.assign("folder:/a", f"k{i}") for i in range(3)] == [1, 2, 3]
    assert numbers.assign("folder:/b", "other") == 1
    assert numbers.assign("folder:/a", "k1") == 2  # a redone split keeps its number
    assert store.control_numbers().assign("folder:/a", "k3") == 4  # another handle, same store


def test_concurrent_daemons_get_unique_gap_free_numbers(store_url):
    """Four processes assign the same 150 part keys at once on one store: every part gets
    exactly one number, and each destination's numbers are 1..N without a gap."""
    open_store(store_url).close()
    runs = [subprocess.Popen([sys.executable, "-c", ASSIGNER, store_url, str(n), "150"],
                             stdout=subprocess.PIPE, text=True, cwd=REPO) for n in range(4)]
    seen: dict[str, set[int]] = defaultdict(set)
    per_part: dict[str, set[int]] = defaultdict(set)
    for run in runs:
        out, _ = run.communicate(timeout=120)
        assert run.returncode == 0
        for line in out.splitlines():
            destination, part, number = line.split()
            seen[destination].add(int(number))
            per_part[part].add(int(number))
    assert all(len(numbers) == 1 for numbers in per_part.values())
    assert {d: sorted(n) for d, n in seen.items()} == {
        f"sftp:pharmacy-{k}:/in": list(range(1, 51)) for k in range(3)}


def test_a_second_daemon_on_one_sqlite_store_is_refused(tmp_path):
    config, _ = folder_workspace(tmp_path / "ws")
    first = start_daemon(config, tmp_path / "first.log")
    try:
        lock = tmp_path / "ws" / "data" / "gateway.db.lock"
        wait_for(lambda: lock.exists() and b"pid" in lock.read_bytes(), timeout=60,
                 what="the first daemon's lock", process=first.process)
        second = subprocess.run([sys.executable, "-m", "gateway", "run", "--config",
                                 str(config)], capture_output=True, text=True, cwd=REPO,
                                timeout=60)
        assert second.returncode == 2
        assert "in use by gateway run" in second.stderr and f"pid {first.process.pid}" in \
            second.stderr and "PostgreSQL" in second.stderr
    finally:
        first.kill()  # SIGKILL: the kernel drops the lock with the process
    started = time.monotonic()
    with open_store(f"sqlite:///{tmp_path / 'ws' / 'data' / 'gateway.db'}") as store:
        store.exclusive("test").release()  # free again at once, no stale lock to clear
    assert time.monotonic() - started < 5


def test_postgres_stores_are_shared_not_locked(pg_url):
    with open_store(pg_url) as one, open_store(pg_url) as two:
        one.exclusive("a")
        two.exclusive("b")  # no error: several daemons share PostgreSQL by leases


def test_the_lock_names_its_holder(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    with open_store(url) as store:
        held = store.exclusive("gateway run --config /etc/gateway")
        with pytest.raises(ConfigError, match="in use by gateway run --config /etc/gateway"):
            store.exclusive("gateway migrate")
        held.release()
        store.exclusive("gateway migrate").release()
