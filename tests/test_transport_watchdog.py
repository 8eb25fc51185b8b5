"""The watchdog that ends transfers paramiko would wait on forever."""

from __future__ import annotations

import threading
import time

from gateway.transport.watchdog import Watchdog


def test_idle_transfer_is_ended():
    closed = threading.Event()
    with Watchdog(closed.set, idle=0.3, total=None) as dog:
        assert closed.wait(2.0)
    assert dog.expired == "no progress for 0.3 s"


def test_progress_keeps_it_alive_until_the_total_deadline():
    closed = threading.Event()
    started = time.monotonic()
    with Watchdog(closed.set, idle=0.3, total=1.0) as dog:
        while not closed.is_set() and time.monotonic() - started < 3.0:
            dog.progress()
            time.sleep(0.05)
    assert closed.is_set()
    assert dog.expired == "not finished within 1 s"
    assert time.monotonic() - started >= 1.0


def test_a_finished_transfer_is_left_alone():
    closed = threading.Event()
    with Watchdog(closed.set, idle=0.2, total=0.2) as dog:
        dog.progress()
    time.sleep(0.4)
    assert not closed.is_set() and dog.expired is None
