"""Issue 10, X12 side: one named test per defect, each failing on the main of 2026-12-02.

Inputs are legal X12 the generator alone does not write (tests/x12_compose.py): repeated
ST02 across groups and interchanges, a second interchange with other delimiters, a BOM,
control numbers holding ``/`` and ``\\``, a trailing TA1-only interchange.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from x12_compose import CRLF, ODD, interchange, rename_sets, two_groups, write

from gateway.cli import main
from gateway.model import Remittance
from gateway.routing.plan import output_stem, plan_deliveries
from gateway.routing.policy import ProviderPolicy
from gateway.x12.read.reader import read_835
from gateway.x12.split.parts import SplitResult
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import DirectoryPartWriter
from gateway.x12.write.control_numbers import MemoryControlNumbers


def _split(path: Path, out: Path) -> SplitResult:
    return split_835(path, policy=ProviderPolicy(), writer=DirectoryPartWriter(out),
                     numbers=MemoryControlNumbers())


def _read(path: Path) -> list[Remittance]:
    with path.open("rb") as stream:
        return list(read_835(stream, file_name=str(path)))


def _claims(result: SplitResult) -> tuple[int, Decimal]:
    return (sum(p.claim_count for p in result.parts),
            sum((p.claims_paid for p in result.parts), Decimal(0)))


def _read_claims(sets: list[Remittance]) -> tuple[int, Decimal]:
    return (sum(len(r.claims) for r in sets), sum((r.total_claim_paid for r in sets), Decimal(0)))


def _assert_every_part_on_disk(result: SplitResult) -> None:
    locations = [p.location for p in result.parts]
    assert len(set(locations)) == len(locations), "two parts were written to one path"
    assert all(Path(location).is_file() for location in locations)
    keys = [d.idempotency_key for d in plan_deliveries(result)]
    assert len(set(keys)) == len(keys), "two deliveries share an idempotency key"
    stems = [output_stem(p) for p in result.parts]
    assert len(set(stems)) == len(stems), "two deliveries share an output name"


def test_item1_repeated_st02_across_groups_gives_every_part_its_own_name_and_key(
    tmp_path: Path,
) -> None:
    a = interchange(shape="multi-st", payees=2, claims=8, seed=1)
    b = interchange(shape="multi-st", payees=2, claims=6, seed=1)  # same pharmacies again
    path = write(tmp_path / "groups.835", two_groups(a, b))
    result = _split(path, tmp_path / "out")
    assert [p.source.control_number for p in result.parts] == ["0001", "0002"] * 2
    _assert_every_part_on_disk(result)
    assert _claims(result) == _read_claims(_read(path))


def test_item1_repeated_st02_across_interchanges(tmp_path: Path) -> None:
    a = interchange(shape="multi-st", payees=3, claims=9, seed=3)
    b = interchange(shape="multi-st", payees=3, claims=6, seed=3, interchange_control_number=2)
    path = write(tmp_path / "two-isa.835", a.text, b.text)
    result = _split(path, tmp_path / "out")
    assert len(result.parts) == 6
    _assert_every_part_on_disk(result)
    assert {p.source.identity.interchange for p in result.parts if p.source.identity} == {1, 2}


@pytest.mark.parametrize("other", [ODD, CRLF], ids=["pipe-newline", "caret-apostrophe-crlf"])
def test_item2_second_interchange_with_other_delimiters_is_split_whole(
    tmp_path: Path, other: object,
) -> None:
    a = interchange(shape="multi-st", payees=3, claims=24, seed=5)
    b = interchange(shape="multi-st", payees=3, claims=24, seed=6, delimiters=other,
                    interchange_control_number=2)
    path = write(tmp_path / "mixed.835", a.text, b.text)
    read = _read(path)
    assert len(read) == 6
    result = _split(path, tmp_path / "out")
    assert len(result.parts) == 6
    assert _claims(result) == _read_claims(read) and _claims(result)[0] == 48


def test_item3_file_with_a_utf8_bom_is_split_like_the_file_without(tmp_path: Path) -> None:
    a = interchange(shape="single-st", payees=3, claims=12, seed=7)
    plain = _split(write(tmp_path / "plain.835", a.text), tmp_path / "plain")
    bom_path = write(tmp_path / "bom.835", a.text, bom=True)
    with_bom = _split(bom_path, tmp_path / "bom")
    assert _claims(with_bom) == _claims(plain) == _read_claims(_read(bom_path))
    assert [Path(p.location).read_bytes() for p in with_bom.parts] == [
        Path(p.location).read_bytes() for p in plain.parts]
    assert with_bom.parts[0].source.start_offset == plain.parts[0].source.start_offset + 3


def test_item8_balance_report_tells_sets_with_one_st02_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    a = interchange(shape="multi-st", payees=2, claims=8, seed=8)
    b = interchange(shape="multi-st", payees=2, claims=8, seed=9)
    path = write(tmp_path / "groups.835", two_groups(a, b))
    assert main(["split", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "BPR02" in line]
    assert len(lines) == 4
    assert all(": balances" in line for line in lines), out
    assert "DOES NOT BALANCE" not in out


def test_item12_st02_with_slashes_never_collides_in_names(tmp_path: Path) -> None:
    a = interchange(shape="multi-st", payees=3, claims=9, seed=10)
    named = rename_sets(a, ["A/1", "B/1", "C\\1"])
    path = write(tmp_path / "slashes.835", named.text)
    out = tmp_path / "out"
    result = _split(path, out)
    _assert_every_part_on_disk(result)
    assert all(Path(p.location).parent.is_relative_to(out) for p in result.parts)
    assert [p.source.control_number for p in result.parts] == ["A/1", "B/1", "C\\1"]


def test_item6_one_interchange_repeated_is_reported_by_validate_and_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    a = interchange(shape="multi-st", payees=1, claims=2, seed=13)
    path = write(tmp_path / "156.835", a.text * 156)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("duplicate-interchange") == 155
    assert "155 duplicate interchange(s)/payment(s)" in out.splitlines()[-1]
    assert main(["parse", str(path), "--format", "summary"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum("DUPLICATE" in line for line in lines) == 155
    assert lines[-1].startswith("note: 155 of 156 transaction sets repeat") and \
        "1 distinct payment(s)" in lines[-1]


def test_item6_same_payment_in_two_interchanges_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    a = interchange(shape="multi-st", payees=1, claims=2, seed=14)
    b = interchange(shape="multi-st", payees=1, claims=2, seed=14, interchange_control_number=2)
    trn = re.compile(r"TRN\*1\*(\d+)\*")
    first = trn.search(a.text)
    assert first is not None
    again = trn.sub(f"TRN*1*{first.group(1)}*", b.text)  # the PBM resent the payment
    path = write(tmp_path / "twice.835", a.text, again)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "warning duplicate-payment" in out and "repeats the payment of set 1" in out


def test_item13_file_ending_with_a_short_ta1_only_interchange_is_not_truncated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """A PBM may send its TA1 for our last interchange inside its next file (ISA, TA1, IEA
    with no group): 140 bytes, shorter than the tokenizer's ISA look-ahead."""
    a = interchange(shape="multi-st", payees=2, claims=4, seed=15)
    ta1 = ("ISA*00*          *00*          *ZZ*EXAMPLEPBM     *ZZ*EXAMPLEPSAO    *260105*1300*"
           "^*00501*000000009*0*P*:~\nTA1*000000041*260104*2200*A*000~\nIEA*0*000000009~\n")
    for name, tail in (("lf.835", ta1), ("no-lf.835", ta1.rstrip("\n"))):
        path = write(tmp_path / name, a.text, tail)
        assert main(["validate", str(path)]) == 0, capsys.readouterr().out
        assert len(_read(path)) == 2
        assert _claims(_split(path, tmp_path / f"out-{name}")) == (4, _read_claims(_read(path))[1])


def test_reader_and_splitter_agree_on_the_sets_of_a_composed_file(tmp_path: Path) -> None:
    """Set by set: the same ST/SE segment numbers, byte ranges, claim counts and amounts."""
    a = interchange(shape="multi-st", payees=2, claims=6, seed=11, delimiters=CRLF)
    b = interchange(shape="single-st", payees=3, claims=9, seed=12, delimiters=ODD,
                    interchange_control_number=5)
    path = write(tmp_path / "x.835", a.text, b.text, bom=True)
    read = _read(path)
    result = _split(path, tmp_path / "out")
    assert [(t.identity.st02 if t.identity else "", t.claim_count, t.claims_paid)
            for t in result.transaction_sets] == [
        (r.control_number, len(r.claims), r.total_claim_paid) for r in read]
    assert io.BytesIO  # keeps the import list honest for the helpers above
