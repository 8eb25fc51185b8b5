"""Routing a received central-pay 835 into the message store (real SQLite store).

An unknown pharmacy is held — a held delivery with an event and an alert — and shows in
`gateway queue`; members get one delivery per wanted format with rendered payloads; routing
the same file again creates nothing new.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from split_support import generate, write_members

from gateway.cli import main
from gateway.config.members import load_roster
from gateway.daemon.route import route_into_store
from gateway.routing.policy import RosterPolicy
from gateway.store import open_store
from gateway.store.models import DeliveryState
from gateway.x12.split.splitter import file_sha256
from gateway.x12.write.control_numbers import SqliteControlNumbers


def _receive_and_route(tmp_path: Path, url: str, shape: str = "single-st"):  # type: ignore[no-untyped-def]
    source, summary = generate(tmp_path, shape=shape, payees=3, claims=18, seed=31)
    unknown, *members = summary.pharmacies
    roster = load_roster(write_members(tmp_path, members, formats="835|csv|xml"))
    sha = file_sha256(source)
    store = open_store(url)
    receipt = store.record_received(
        partner="example-pbm", remote_path=f"/outbound/{source.name}", original_name=source.name,
        size=source.stat().st_size, mtime=None, sha256=sha, payload_path=source,
    )
    numbers = SqliteControlNumbers(tmp_path / "numbers.sqlite")
    result, deliveries = route_into_store(
        store, receipt.file.id, source, RosterPolicy(roster), numbers, sha256=sha
    )
    return store, receipt.file.id, source, summary, unknown, result, deliveries, numbers


@pytest.mark.parametrize(("shape", "who"), [("multi-st", "payee"), ("single-st", "provider")])
def test_unknown_payee_is_held_with_an_event_and_shows_in_gateway_queue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str, who: str
) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    store, file_id, *_, unknown, result, deliveries, numbers = _receive_and_route(
        tmp_path, url, shape
    )
    held = [d for d in deliveries if d.state is DeliveryState.HELD]
    assert len(held) == 1 and held[0].format == "835"
    reasons = [(e.action, e.reason) for e in store.events("delivery", held[0].id)]
    assert reasons == [("held", f"{who} {unknown.npi} is not in the member roster")]
    document = store.get_document(held[0].document_id)
    assert document.routing_keys["npi"] == unknown.npi and document.kind == "835-part"
    psao_events = [e for e in store.events("file", file_id) if e.action == "psao-adjustment"]
    assert len(psao_events) == len(result.psao_adjustments)
    assert (len(psao_events) > 0) == (shape == "single-st")  # the PSAO is only in central pay
    store.close()
    numbers.close()

    code = main(["queue", "--store", url])
    output = capsys.readouterr().out
    assert code == 1  # something waits for an operator
    assert "held" in output and "held" in output.split("\n", 1)[1]


def test_members_get_every_format_they_want_and_a_rerun_adds_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    store, file_id, source, _, _, result, deliveries, numbers = _receive_and_route(
        tmp_path, url
    )
    pending = [d for d in deliveries if d.state is DeliveryState.PENDING]
    assert sorted(d.format for d in pending) == ["835", "835", "csv", "csv", "xml", "xml"]
    assert len({d.idempotency_key for d in deliveries}) == len(deliveries)
    csv_delivery = next(d for d in pending if d.format == "csv")
    document = store.get_document(csv_delivery.document_id)
    part = next(p for p in result.parts if p.owner.npi == document.routing_keys["npi"])
    assert csv_delivery.payload_sha256
    with store.open_payload(csv_delivery.payload_sha256) as payload:
        rows = list(csv.DictReader(io.TextIOWrapper(payload, encoding="utf-8")))
    assert len(rows) == part.claim_count
    assert {row["payee_npi"] for row in rows} == {part.owner.npi}

    again_result, again = route_into_store(
        store, file_id, source, RosterPolicy(load_roster(tmp_path / "members.csv")), numbers,
        sha256=result.sha256,
    )
    assert [d.id for d in again] == [d.id for d in deliveries]
    assert [p.location for p in again_result.parts] == [p.location for p in result.parts]
    assert len(store.deliveries_of_file(file_id)) == len(deliveries)
    store.close()
    numbers.close()
