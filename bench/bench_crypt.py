"""Encryption at rest: put and get of one large payload, sealed vs plain, in the same run.

    .venv/bin/python bench/bench_crypt.py [--mb 100] [--pg postgresql://postgres@127.0.0.1/postgres]

Each back end gets two fresh stores (SQLite + payload directory in a temp dir; a throwaway
PostgreSQL database), one opened without keys (plaintext, the baseline: what main does) and
one with a key (AES-256-GCM segments, a wrapped data key). The payload is synthetic 835 text
made on the fly; put streams it in, get streams it out in 1 MiB reads and hashes it (the
hash is done in both runs, so it is part of both figures). Peak Python memory of each step
is recorded with tracemalloc, which shows the streams stay bounded.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import secrets
import tempfile
import time
import tracemalloc
from pathlib import Path

import psycopg

from gateway.store import open_store
from gateway.store.crypt.keys import Keyring, new_key_text, parse_key

LINE = b"CLP*RX0000001*1*125.00*100.00**12*SYNTHETIC~SVC*N4:00000000000*125*100**1~"


class Synthetic(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):  # type: ignore[no-untyped-def]
        count = min(len(buffer), self.left, 1 << 20)
        buffer[:count] = (LINE * (count // len(LINE) + 1))[:count]
        self.left -= count
        return count


def one(url: str, keyring: Keyring | None, size: int) -> tuple[float, float, int, int]:
    with open_store(url, keyring=keyring, migrate=True) as store:
        tracemalloc.start()
        started = time.perf_counter()
        sha256 = store.put_payload(Synthetic(size))  # type: ignore[arg-type]
        put = time.perf_counter() - started
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        started = time.perf_counter()
        digest = hashlib.sha256()
        with store.open_payload(sha256) as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        get = time.perf_counter() - started
        _, get_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert digest.hexdigest() == sha256
    return put, get, put_peak, get_peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    size = args.mb << 20
    key = Keyring(parse_key(new_key_text(), "bench"))
    print(f"payload {args.mb} MiB, best of {args.repeat} (plain and sealed alternate); "
          "seconds (MiB/s), peak Python memory")
    modes = (("plain", None), ("sealed", key))
    best: dict[tuple[str, str], tuple[float, float, int, int]] = {}
    for run in range(args.repeat):
        for label, keyring in modes:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / f'{label}{run}' / 'gateway.db'}"
                keep(best, ("sqlite", label), one(url, keyring, size))
            name = f"bench_crypt_{secrets.token_hex(4)}"
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            try:
                keep(best, ("postgres", label),
                     one(args.pg.rsplit("/", 1)[0] + f"/{name}", keyring, size))
            finally:
                with psycopg.connect(args.pg, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    for (backend, label), figures in best.items():
        report(backend, label, size, *figures)
    for backend in ("sqlite", "postgres"):
        plain, sealed = best[(backend, "plain")], best[(backend, "sealed")]
        print(f"{backend:<9} sealed/plain: put x{sealed[0] / plain[0]:.2f}, "
              f"get x{sealed[1] / plain[1]:.2f}")


def keep(best: dict[tuple[str, str], tuple[float, float, int, int]], where: tuple[str, str],
         figures: tuple[float, float, int, int]) -> None:
    old = best.get(where)
    best[where] = figures if old is None else (min(old[0], figures[0]), min(old[1], figures[1]),
                                               max(old[2], figures[2]), max(old[3], figures[3]))


def report(backend: str, label: str, size: int, put: float, get: float, put_peak: int,
           get_peak: int) -> None:
    mib = size / (1 << 20)
    print(f"{backend:<9} {label:<7} put {put:6.2f} s ({mib / put:6.0f} MiB/s, peak "
          f"{put_peak / 1e6:5.1f} MB)  get {get:6.2f} s ({mib / get:6.0f} MiB/s, peak "
          f"{get_peak / 1e6:5.1f} MB)")


if __name__ == "__main__":
    main()
