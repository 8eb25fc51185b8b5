"""A transaction set's control numbers assigned at once (``assign_many``, one statement on
PostgreSQL): the numbers one ``assign`` per part would give, kept per part, wrapped and retired
on the same rules, unique and gap-free when daemons race — on both back ends."""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict

import psycopg
import pytest

from gateway.store import open_store
from gateway.x12.write.control_numbers import MemoryControlNumbers

PARTS = [(f"sftp:pharmacy-{i % 3}:/in", f"part-{i}") for i in range(10)]


def test_a_set_is_numbered_as_one_part_after_another(store):
    expected = MemoryControlNumbers()
    assert store.control_numbers().assign_many(PARTS) == [
        expected.assign(destination, key) for destination, key in PARTS]
    assert store.control_numbers().assign_many([]) == []


def test_a_set_routed_again_keeps_its_numbers_and_new_parts_follow(store):
    numbers = store.control_numbers()
    first = numbers.assign_many(PARTS)
    assert numbers.assign_many(PARTS) == first
    again = numbers.assign_many([PARTS[4], ("sftp:pharmacy-1:/in", "new"), PARTS[1]])
    assert again == [first[4], 4, first[1]]  # pharmacy-1 had parts 1, 4, 7: 1..3, then 4
    assert numbers.assign("sftp:pharmacy-1:/in", "new") == 4
    assert numbers.assign("sftp:pharmacy-1:/in", "newer") == 5


def _set_counter(url: str, sequence: str, last: int) -> None:
    sql = f"UPDATE control_counters SET last_number = {last} WHERE sequence = '{sequence}'"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute(sql)
    else:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(sql)


def test_past_999999999_the_numbers_wrap_and_retire_their_first_holders(store_url):
    with open_store(store_url) as store:
        numbers = store.control_numbers()
        assert numbers.assign_many([("folder:/a", "old-1"), ("folder:/a", "old-2")]) == [1, 2]
        _set_counter(store_url, "folder:/a", 999_999_998)
        wrapped = [("folder:/a", key) for key in ("late", "wrapped-1", "wrapped-2")]
        assert numbers.assign_many(wrapped) == [999_999_999, 1, 2]
        assert numbers.assign_many(wrapped) == [999_999_999, 1, 2]
        # the parts that held 1 and 2 lost them: numbered again, they take the next ones
        assert numbers.assign_many([("folder:/a", "old-1"), ("folder:/a", "old-2")]) == [3, 4]


def test_racing_daemons_get_one_number_per_part_and_no_gap(store_url):
    """Three stores (three connections) number sets at once: two the same file's parts (one
    in reverse order), one another file's parts for the same destinations, its destinations
    reversed. Every part gets one number, every destination 1..N, and no deadlock."""
    open_store(store_url).close()
    destinations = [f"sftp:pharmacy-{k}:/in" for k in range(3)]
    same = [[(destinations[i % 3], f"f1-s{s}-{i}") for i in range(30)] for s in range(8)]
    other = [[(destinations[2 - i % 3], f"f2-s{s}-{i}") for i in range(30)] for s in range(8)]
    plans = [same, [list(reversed(batch)) for batch in same], other]
    start = threading.Barrier(len(plans))
    got: list[list[tuple[str, str, int]]] = [[] for _ in plans]
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with open_store(store_url) as store:
                numbers = store.control_numbers()
                start.wait()
                for batch in plans[n]:
                    got[n] += [(d, k, number) for (d, k), number in
                               zip(batch, numbers.assign_many(batch), strict=True)]
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(plans))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    per_part: dict[str, set[int]] = defaultdict(set)
    per_destination: dict[str, set[int]] = defaultdict(set)
    for destination, key, number in (entry for run in got for entry in run):
        per_part[key].add(number)
        per_destination[destination].add(number)
    assert len(per_part) == 2 * 8 * 30
    assert all(len(numbers) == 1 for numbers in per_part.values())
    assert {d: sorted(n) for d, n in per_destination.items()} == {
        d: list(range(1, 161)) for d in destinations}


@pytest.mark.parametrize("first", [1, 7])
def test_the_in_memory_and_file_counters_number_a_set_alike(tmp_path, first):
    from gateway.x12.write.control_numbers import SqliteControlNumbers

    one_by_one = MemoryControlNumbers(first)
    expected = [one_by_one.assign(d, k) for d, k in PARTS]
    assert MemoryControlNumbers(first).assign_many(PARTS) == expected
    if first == 1:
        counter = SqliteControlNumbers(tmp_path / "numbers.sqlite")
        assert counter.assign_many(PARTS) == expected == counter.assign_many(PARTS)
        counter.close()
