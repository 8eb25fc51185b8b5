"""Message store throughput: enqueue, then claim + deliver-to-nothing + ack, per second.

    .venv/bin/python bench/bench_store.py [--n 5000] [--pg postgresql://postgres@127.0.0.1/postgres]

The store runs with its durable settings (SQLite: WAL, enqueue on the synchronous=FULL intake
connection, claim/ack on NORMAL; PostgreSQL: enqueue with synchronous_commit on, claim/ack off).
Deliveries go through the real DeliveryWorker (lease, heartbeat thread, render, Sink, ack) into
a sink that reads and discards the bytes. Each figure is set against a *baseline measured in the
same run*: a bare outbox table on the same engine with the same durability (insert, claim with
one UPDATE ... RETURNING, ack), i.e. what the queue costs without events, leases and the worker.
On PostgreSQL the drain runs with 1 and with 2 worker processes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import multiprocessing
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

import psycopg

from gateway import log
from gateway.daemon.deliver import DeliveryWorker
from gateway.store import DeliveryRequest, open_store
from gateway.transport.base import Delivered

PAYLOAD = b"ISA*00*" + b"x" * 1000
BATCH = 100


class NullSink:
    """Deliver to nothing: read the bytes, hash them, keep nothing."""

    def deliver(self, name: str, data: BinaryIO) -> Delivered:
        body = data.read()
        return Delivered(f"null:{name}", len(body), hashlib.sha256(body).hexdigest())

    def close(self) -> None:
        pass


def enqueue_all(url: str, n: int, per_commit: int) -> float:
    """Seconds to enqueue n deliveries of one document, ``per_commit`` per transaction (the
    router enqueues all of a file's deliveries at once: a central-pay 835 has hundreds)."""
    with open_store(url, migrate=True) as store, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "central-pay.835"
        path.write_bytes(PAYLOAD)
        sha = hashlib.sha256(PAYLOAD).hexdigest()
        file_id = store.record_received(
            partner=f"bench-{per_commit}",
            remote_path="/b",
            original_name="b",
            size=len(PAYLOAD),
            mtime=None,
            sha256=sha,
            payload_path=path,
        ).file.id
        doc = store.add_document(file_id, 0, kind="835", routing_keys={}, payload_sha256=sha)
        requests = [DeliveryRequest(doc.id, f"pharmacy-{i}", "835", f"{i}.835") for i in range(n)]
        start = time.perf_counter()
        for i in range(0, n, per_commit):
            store.enqueue_many(requests[i : i + per_commit])
        return time.perf_counter() - start


def drain(url: str, go, done) -> None:  # a worker process
    log.configure(json=True, level=logging.WARNING)  # measure the store, not the log renderer
    with open_store(url, migrate=False) as store:
        worker = DeliveryWorker(
            store, lambda _d: NullSink(), lease_seconds=60, render=lambda _d: io.BytesIO(PAYLOAD)
        )
        go.wait()
        count = 0
        while worker.run_once() is not None:
            count += 1
        done.put(count)


def drain_with(url: str, processes: int) -> tuple[float, int]:
    ctx = multiprocessing.get_context("spawn")
    go, done = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=drain, args=(url, go, done)) for _ in range(processes)]
    for w in workers:
        w.start()
    time.sleep(2.0)  # let every process import and connect before the clock starts
    start = time.perf_counter()
    go.set()
    counts = [done.get() for _ in workers]
    elapsed = time.perf_counter() - start
    for w in workers:
        w.join()
    return elapsed, sum(counts)


def baseline_sqlite(path: Path, n: int) -> tuple[float, float]:
    """Bare WAL outbox: insert on a FULL connection, claim + ack on a NORMAL one."""
    producer = sqlite3.connect(path, isolation_level=None)
    consumer = sqlite3.connect(path, isolation_level=None)
    for conn, sync in ((producer, "FULL"), (consumer, "NORMAL")):
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={sync}")
        conn.execute("PRAGMA busy_timeout=10000")
    producer.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY, state INT, visible_at REAL,"
        " token TEXT, body BLOB)"
    )
    producer.execute("CREATE INDEX outbox_due ON outbox (visible_at) WHERE state = 0")
    start = time.perf_counter()
    for _ in range(n):
        producer.execute("BEGIN IMMEDIATE")
        producer.execute(
            "INSERT INTO outbox (state, visible_at, body) VALUES (0, ?, ?)", (time.time(), PAYLOAD)
        )
        producer.execute("COMMIT")
    enqueue = time.perf_counter() - start
    start = time.perf_counter()
    while True:
        token = secrets.token_hex(16)
        consumer.execute("BEGIN IMMEDIATE")
        row = consumer.execute(
            "UPDATE outbox SET visible_at = ?, token = ? WHERE id = (SELECT id FROM outbox"
            " WHERE state = 0 AND visible_at <= ? ORDER BY visible_at LIMIT 1) RETURNING id",
            (time.time() + 60, token, time.time()),
        ).fetchone()
        consumer.execute("COMMIT")
        if row is None:
            break
        consumer.execute("BEGIN IMMEDIATE")
        consumer.execute("UPDATE outbox SET state = 1 WHERE id = ? AND token = ?", (row[0], token))
        consumer.execute("COMMIT")
    return enqueue, time.perf_counter() - start


def baseline_postgres(url: str, n: int) -> tuple[float, float]:
    """Bare SKIP LOCKED outbox (the reference's design), one worker."""
    with (
        psycopg.connect(url, autocommit=True) as producer,
        psycopg.connect(url, autocommit=True) as consumer,
    ):
        consumer.execute("SET synchronous_commit = off")
        producer.execute(
            "CREATE TABLE outbox (id bigserial PRIMARY KEY, state int,"
            " visible_at timestamptz, token text, body bytea)"
        )
        producer.execute("CREATE INDEX outbox_due ON outbox (visible_at, id) WHERE state = 0")
        start = time.perf_counter()
        for _ in range(n):
            producer.execute(
                "INSERT INTO outbox (state, visible_at, body) VALUES (0, now(), %s)", (PAYLOAD,)
            )
        enqueue = time.perf_counter() - start
        start = time.perf_counter()
        while True:
            token = secrets.token_hex(16)
            row = consumer.execute(
                "WITH c AS (SELECT id FROM outbox WHERE state = 0 AND visible_at <= now()"
                " ORDER BY visible_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                " UPDATE outbox o SET visible_at = now() + interval '60 s', token = %s"
                " FROM c WHERE o.id = c.id RETURNING o.id",
                (token,),
            ).fetchone()
            if row is None:
                break
            consumer.execute(
                "UPDATE outbox SET state = 1 WHERE id = %s AND token = %s", (row[0], token)
            )
        return enqueue, time.perf_counter() - start


def measure(url: str, n: int, processes: int) -> tuple[float, float, float]:
    """(enqueue one per commit, enqueue 100 per commit, drain) in seconds, on a fresh store
    for each enqueue mode; the drain is that of the batched half."""
    single = enqueue_all(url, n // 2, 1) * 2  # half the count: the slow mode, scaled
    batched = enqueue_all(url, n, BATCH)
    elapsed, count = drain_with(url, processes)
    assert count == n + n // 2, (count, n)
    return single, batched, elapsed * n / count


def report(label: str, n: int, ours: tuple[float, float, float], base: tuple[float, float]):
    single, batched, drain_s = ours
    print(
        f"| {label} | {n / single:,.0f} | {n / batched:,.0f} | {n / drain_s:,.0f} "
        f"| {n / (batched + drain_s):,.0f} | {n / base[0]:,.0f} / {n / base[1]:,.0f} "
        f"| {base[0] / single:.2f} / {base[1] / drain_s:.2f} |"
    )


def fresh_pg_database(admin: str) -> str:
    name = f"gateway_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="deliveries per run")
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="admin URL (a throwaway database is created and dropped)",
    )
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    n = args.n
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, n={n}")
    print(
        "| store | enqueue/s, 1 per commit | enqueue/s, 100 per commit | claim+deliver+ack/s "
        "| end to end/s (100 per commit) | bare baseline insert/s / claim+ack/s "
        "| ratio to baseline: enqueue / claim+ack |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        ours = measure(f"sqlite:///{tmp}/bench.db", n, 1)
        report("SQLite, 1 worker", n, ours, baseline_sqlite(Path(tmp) / "base.db", n))
    if args.skip_pg:
        return
    for processes in (1, 2):
        names = [fresh_pg_database(args.pg), fresh_pg_database(args.pg)]
        base_url, store_url = (args.pg.rsplit("/", 1)[0] + f"/{name}" for name in names)
        try:
            ours = measure(store_url, n, processes)
            label = f"PostgreSQL, {processes} worker process{'es' if processes > 1 else ''}"
            report(label, n, ours, baseline_postgres(base_url, n))
        finally:
            for name in names:
                drop_pg_database(args.pg, name)


if __name__ == "__main__":
    main()
