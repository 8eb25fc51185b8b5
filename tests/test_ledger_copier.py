"""The PostgreSQL ledger sends its COPY batches from a thread (gateway.reconcile.copier): the
rows land in order and completely, a batch the server refuses surfaces as that error at the
ledger's next call — never a file completed with rows missing — and nothing is sent after it.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from recon_support import receive
from store_backends import empty_postgres

import gateway.reconcile.ledger as ledger_module
from gateway.reconcile import facts as f
from gateway.reconcile.config import load_reconcile_config
from gateway.reconcile.copier import QUEUED, Copier
from gateway.reconcile.ledgers import open_ledger
from gateway.store import open_store
from gateway.synth.recon import ReconSpec
from gateway.synth.recon_files import write_scenario

# -- the copier alone -------------------------------------------------------------------------


def test_batches_are_sent_in_order_from_another_thread():
    sent: list[tuple[str, str, str]] = []
    copier = Copier(lambda sql, block: sent.append((sql, block, threading.current_thread().name)))
    for n in range(50):
        copier.send(f"COPY t{n % 3}", f"block {n}")
    copier.drain()
    copier.close()
    assert [(sql, block) for sql, block, _ in sent] == [
        (f"COPY t{n % 3}", f"block {n}") for n in range(50)]
    assert {name for *_, name in sent} == {"ledger-copier"}


def test_a_failed_batch_is_raised_by_every_later_call_and_nothing_after_it_is_sent():
    sent: list[str] = []

    def send(_sql: str, block: str) -> None:
        if block == "bad":
            raise ValueError("refused")
        sent.append(block)

    copier = Copier(send)
    copier.send("COPY t", "one")
    copier.send("COPY t", "bad")
    with pytest.raises(ValueError, match="refused"):  # at the latest once the queue is sent
        for n in range(QUEUED + 2):
            copier.send("COPY t", f"after {n}")
        copier.drain()
    with pytest.raises(ValueError, match="refused"):
        copier.drain()
    with pytest.raises(ValueError, match="refused"):
        copier.send("COPY t", "later")
    copier.close()
    assert sent == ["one"]


def test_close_without_batches_starts_no_thread():
    started: list[threading.Thread] = []
    copier = Copier(lambda _sql, _block: None)
    before = set(threading.enumerate())
    copier.drain()
    started += [t for t in threading.enumerate() if t not in before]
    copier.close()
    assert not [t for t in started if t.name == "ledger-copier"]  # other tests' threads aside


# -- on PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def pg_store(pg_url):
    empty_postgres(pg_url)
    with open_store(pg_url) as store:
        yield store


def _file_facts(store, tmp_path):
    written = next(w for w in write_scenario(ReconSpec(seed=11, pharmacies=3, claims=300,
                                                       weeks=1), tmp_path)
                   if w.path.name.endswith(".835"))
    config = load_reconcile_config(tmp_path)
    received = receive(store, written.path, written.partner)
    with store.open_payload(received.sha256) as stream:
        facts = list(f.x12_facts(stream, received.id, received.partner, config, str))
    return received, facts


def _claim_seqs(url: str, file_id: int) -> list[int]:
    with psycopg.connect(url) as db:
        return [row[0] for row in db.execute(
            "SELECT seq FROM ledger_claim_payments WHERE file_id = %s ORDER BY seq", (file_id,))]


def test_every_batch_lands_before_the_file_is_complete(pg_store, pg_url, tmp_path, monkeypatch):
    received, facts = _file_facts(pg_store, tmp_path)
    monkeypatch.setattr(ledger_module, "BATCH", 7)  # many batches of each table, interleaved
    claims = [fact for fact in facts if isinstance(fact, f.ClaimPaymentFact)]
    with open_ledger(pg_store) as ledger:
        ingest = ledger.begin(received.id, "835")
        assert ingest is not None
        for fact in facts:
            ingest.add(fact)
        result = ingest.complete()
    assert result.rows == len(facts)
    assert _claim_seqs(pg_url, received.id) == [c.seq for c in claims]


def test_a_batch_the_server_refuses_fails_the_ingest_and_nothing_after_it_lands(
        pg_store, pg_url, tmp_path, monkeypatch):
    received, facts = _file_facts(pg_store, tmp_path)
    monkeypatch.setattr(ledger_module, "BATCH", 5)
    claims = [fact for fact in facts if isinstance(fact, f.ClaimPaymentFact)]
    assert len(claims) > 40
    twice = [*claims[:10], claims[9], *claims[10:]]  # the 11th row repeats (file_id, seq)
    with open_ledger(pg_store) as ledger:
        ingest = ledger.begin(received.id, "835")
        assert ingest is not None
        with pytest.raises(psycopg.errors.UniqueViolation):
            for fact in twice:
                ingest.add(fact)
            ingest.complete()
        with psycopg.connect(pg_url) as db:
            state = db.execute("SELECT state FROM ledger_files WHERE file_id = %s",
                               (received.id,)).fetchone()
        assert state is not None and state[0] == "ingesting"  # never complete, so never read
    assert _claim_seqs(pg_url, received.id) == [c.seq for c in claims[:10]]
