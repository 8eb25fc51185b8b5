"""iter_835, the streaming 835 reader: same content as read_835, item order, bounded memory."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.model import (
    ClaimPayment,
    ProviderAdjustment,
    ProviderGroup,
    Remittance,
    TransactionEnd,
    TransactionHeader,
    fast_constructor,
)
from gateway.synth.x12_835 import Spec, write_835_file
from gateway.x12.read.reader import iter_835, read_835
from gateway.x12.syntax.findings import Finding
from tests.test_x12_reader import CLAIM, x12
from tests.x12_corpus import corpus_files, naive_claims


def stream_and_collect(data: bytes) -> tuple[list, list[Finding], list[Remittance], list[Finding]]:
    """(items, their findings, remittances, their findings), both in collect mode."""
    streamed: list[Finding] = []
    items = list(iter_835(io.BytesIO(data), file_name="f.835", findings=streamed))
    collected: list[Finding] = []
    remittances = list(read_835(io.BytesIO(data), file_name="f.835", findings=collected))
    return items, streamed, remittances, collected


def split_by_set(items: list) -> list[list]:
    """Items per transaction set: each run from a TransactionHeader to its TransactionEnd."""
    sets: list[list] = []
    for item in items:
        if isinstance(item, TransactionHeader):
            sets.append([])
        sets[-1].append(item)
    return sets


def assert_stream_matches(data: bytes) -> int:
    """The stream carries exactly what read_835 returns, in file order; returns claims seen."""
    items, streamed, remittances, collected = stream_and_collect(data)
    assert streamed == collected
    sets = split_by_set(items)
    assert len(sets) == len(remittances)
    for run, remittance in zip(sets, remittances, strict=True):
        header, end = run[0], run[-1]
        assert isinstance(end, TransactionEnd)
        for name in ("control_number", "envelope", "payment", "payer", "payee", "references"):
            assert getattr(header, name) == getattr(remittance, name)
        assert end.source == remittance.source
        assert end.claim_count == len(remittance.claims)
        assert end.total_claim_paid == remittance.total_claim_paid
        assert end.total_provider_adjustments == remittance.total_provider_adjustments
        claims = [item for item in run if type(item) is ClaimPayment]
        assert tuple(claims) == remittance.claims
        plbs = [item for item in run if type(item) is ProviderAdjustment]
        assert tuple(plbs) == remittance.provider_adjustments
        groups = [item for item in run if type(item) is ProviderGroup]
        assert [g.number for g in groups] == [g.number for g in remittance.groups]
        for streamed_group, group in zip(groups, remittance.groups, strict=True):
            assert streamed_group.claims == ()
            assert streamed_group == dataclasses.replace(
                group, claims=(), source=streamed_group.source
            )
            # read_835's group runs from its LX (or first CLP) to the end of its last claim
            assert group.source.start_offset == streamed_group.source.start_offset
            if group.claims:
                assert group.source.end_offset == group.claims[-1].source.end_offset
                assert data[group.claims[0].source.start_offset :].startswith(b"CLP")
    return sum(1 for item in items if type(item) is ClaimPayment)


def test_items_come_in_file_order_with_groups_before_their_claims():
    data = x12(["LX*1", "TS3*1000061600*13*20251231*2*200", *CLAIM, *CLAIM,
                "PLB*1000061600*20251231*WO:X1*20"], bpr="140")
    items = list(iter_835(io.BytesIO(data)))
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["TransactionHeader", "ProviderGroup", "ClaimPayment", "ClaimPayment",
                     "ProviderAdjustment", "TransactionEnd"]
    group, first = items[1], items[2]
    assert (group.provider_id, group.claim_count, group.total_charge) == (
        "1000061600", 2, Decimal(200))
    assert first.provider_id == "1000061600"  # claims carry their group's TS301
    end = items[-1]
    assert (end.claim_count, end.total_claim_paid, end.total_provider_adjustments) == (
        2, Decimal(160), Decimal(20))
    assert data[end.source.start_offset : end.source.end_offset].startswith(b"ST*835*0001~")
    assert data[end.source.start_offset : end.source.end_offset].endswith(b"*0001~")


def test_claims_before_any_lx_get_group_zero_first():
    items = list(iter_835(io.BytesIO(x12(CLAIM))))
    assert [type(item).__name__ for item in items[:3]] == [
        "TransactionHeader", "ProviderGroup", "ClaimPayment"]
    assert items[1].number == "0" and items[1].provider_id is None
    assert_stream_matches(x12(CLAIM))


def test_unbalanced_payment_is_found_at_se_from_running_sums():
    findings: list[Finding] = []
    items = list(iter_835(io.BytesIO(x12(CLAIM, bpr="79")), findings=findings))
    assert [f.code for f in findings] == ["unbalanced-payment"]
    assert isinstance(items[-1], TransactionEnd)  # reported, still delivered


def test_set_without_bpr_streams_nothing_but_its_claims_are_checked():
    data = x12(CLAIM).replace(b"BPR*", b"XXX*", 1)
    data = data.replace(b"CAS*CO*45*15", b"CAS*CO*45*16")  # the line no longer balances
    findings: list[Finding] = []
    assert list(iter_835(io.BytesIO(data), findings=findings)) == []
    codes = {f.code for f in findings}
    assert {"missing-segment", "unbalanced-line"} <= codes


def test_fast_constructor_makes_real_frozen_model_objects():
    make = fast_constructor(
        ProviderAdjustment, "provider_id fiscal_period_date reason reference amount"
    )
    made = make("1000061600", None, "WO", "X1", Decimal("2.50"))
    plain = ProviderAdjustment("1000061600", None, "WO", "X1", Decimal("2.50"))
    assert type(made) is ProviderAdjustment
    assert made == plain and hash(made) == hash(plain) and repr(made) == repr(plain)
    assert dataclasses.asdict(made) == dataclasses.asdict(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.amount = Decimal(0)  # type: ignore[misc]


def test_fast_constructor_stores_by_name_and_refuses_an_order_that_misnames_the_fields():
    make = fast_constructor(
        ProviderAdjustment, "amount reason provider_id reference fiscal_period_date"
    )
    made = make(Decimal("2.50"), "WO", "1000061600", "X1", None)
    assert made == ProviderAdjustment("1000061600", None, "WO", "X1", Decimal("2.50"))
    # a field added, dropped or renamed in the model fails at import, naming what differs
    with pytest.raises(TypeError, match=r"missing \['fiscal_period_date'\].*unknown \['period'\]"):
        fast_constructor(ProviderAdjustment, "provider_id period reason reference amount")
    with pytest.raises(TypeError, match=r"repeated \['amount'\]"):
        fast_constructor(ProviderAdjustment, "provider_id reason reference amount amount")


def test_stream_matches_read_835_on_the_corpus(shared_corpus):
    checked = 0
    for name in corpus_files(shared_corpus):
        if name.startswith("malformed/"):
            continue
        data = (shared_corpus / "x12" / name).read_bytes()
        assert_stream_matches(data)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("shape", ["multi-st", "single-st"])
def test_stream_matches_read_835_on_generated_files(tmp_path: Path, shape: str):
    path = tmp_path / "g.835"
    write_835_file(path, Spec(shape=shape, payees=7, claims=600, seed=3))
    data = path.read_bytes()
    assert assert_stream_matches(data) == naive_claims(data)[0] == 600


def streaming_peak(path: Path) -> tuple[int, int]:
    """(claims streamed, tracemalloc peak bytes) of iter_835 over ``path``, keeping nothing."""
    claims = 0
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            for item in iter_835(stream, file_name=path.name):
                claims += type(item) is ClaimPayment
        return claims, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_single_st_file_streams_in_memory_that_does_not_grow_with_the_file(tmp_path: Path):
    """One ST with 4x the claims (1.2 and 4.9 MB): the streaming peak stays flat (read_835
    would grow linearly: it holds every claim of the set). The smaller file is over one 1 MiB
    read block, so both peaks include the tokenizer's block."""
    peaks = {}
    for claims in (4_000, 16_000):
        path = tmp_path / f"single-{claims}.835"
        write_835_file(path, Spec(shape="single-st", payees=20, claims=claims, seed=5))
        streamed, peaks[claims] = streaming_peak(path)
        assert streamed == claims
    assert peaks[16_000] < 1.25 * peaks[4_000], peaks
    assert peaks[16_000] < 24 * 2**20, peaks


def test_cli_summary_streams_the_same_totals_as_read_835(tmp_path: Path):
    path = tmp_path / "single.835"
    write_835_file(path, Spec(shape="single-st", payees=4, claims=300, seed=9))
    with path.open("rb") as stream:
        (remittance,) = read_835(stream)
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "parse", str(path), "--format", "summary"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    fields = dict(part.split("=", 1) for part in result.stdout.split())
    assert fields["claims"] == "300" == str(len(remittance.claims))
    assert Decimal(fields["clp04_sum"]) == remittance.total_claim_paid
    assert Decimal(fields["plb_sum"]) == remittance.total_provider_adjustments
    assert Decimal(fields["bpr02"]) == remittance.payment.amount


def test_a_set_cut_off_before_se_has_no_transaction_end():
    data = x12(CLAIM)
    data = data[: data.index(b"SE*")]  # the file ends after the claim's last segment
    findings: list[Finding] = []
    items = list(iter_835(io.BytesIO(data), findings=findings))
    assert [type(item).__name__ for item in items] == ["TransactionHeader", "ProviderGroup"]
    assert not any(isinstance(item, TransactionEnd) for item in items)
    assert list(read_835(io.BytesIO(data), findings=[])) == []
    assert [finding.code for finding in findings] == ["truncated"]  # the set never closed
