"""The 835 splitter on generated central-pay files of both shapes.

Every part must validate under pyx12's 835 map (with gateway.x12.tr3's PLB workaround),
balance, and together be exactly the original: no claim lost or doubled, and the money adding
up to the original BPR02 with the PSAO's own adjustments reported apart.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from split_support import check_parts, generate, write_members

from gateway.config.members import load_roster
from gateway.errors import InputError
from gateway.routing.policy import ProviderPolicy, RosterPolicy
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import DirectoryPartWriter
from gateway.x12.tr3.pyx12_reference import Tr3Validator
from gateway.x12.write.control_numbers import MemoryControlNumbers, SqliteControlNumbers


@pytest.fixture(scope="module")
def validator() -> Tr3Validator:
    return Tr3Validator()


def _split(path: Path, out: Path, policy=None, numbers=None):  # type: ignore[no-untyped-def]
    return split_835(
        path, policy=policy or ProviderPolicy(), writer=DirectoryPartWriter(out),
        numbers=numbers or MemoryControlNumbers(),
    )


def _fatal(validator: Tr3Validator, path: str) -> list[str]:
    return [f"{f.code}: {f.message}" for f in validator.validate(path) if f.fatal]


def test_single_st_central_pay_splits_into_valid_balanced_parts(
    tmp_path: Path, validator: Tr3Validator
) -> None:
    source, summary = generate(tmp_path, shape="single-st", payees=4, claims=40, seed=11)
    result = _split(source, tmp_path / "out")
    assert [p.owner.npi for p in result.parts] == [p.npi for p in summary.pharmacies]
    assert all(p.mode == "split" for p in result.parts)
    for part in result.parts:
        assert _fatal(validator, part.location) == []
        text = Path(part.location).read_text()
        # the pharmacy is the payee and only its own PLBs are there
        assert f"N1*PE*{part.owner.name}*XX*{part.owner.npi}~" in text
        assert set(re.findall(r"PLB\*(\d+)\*", text)) <= {part.owner.npi}
    psao_npi = summary.sets[0].payee_npi
    assert result.psao_adjustments and {a.provider_id for a in result.psao_adjustments} == {
        psao_npi
    }
    assert all(a.why == "psao" for a in result.psao_adjustments)
    check_parts(source, result)


def test_multi_st_parts_carry_the_original_transaction_set_unchanged(
    tmp_path: Path, validator: Tr3Validator
) -> None:
    source, _ = generate(tmp_path, shape="multi-st", payees=3, claims=24, seed=5)
    result = _split(source, tmp_path / "out")
    original = source.read_bytes()
    assert len(result.parts) == 3 and all(p.mode == "whole" for p in result.parts)
    for part in result.parts:
        body = original[part.source.start_offset : part.source.end_offset]
        written = Path(part.location).read_bytes()
        assert body in written and written.startswith(b"ISA*")
        assert _fatal(validator, part.location) == []
        assert part.source.sha256 == result.sha256
    check_parts(source, result)


def test_negative_share_is_written_as_zero_with_a_forwarding_balance(
    tmp_path: Path, validator: Tr3Validator
) -> None:
    """A pharmacy whose reversals exceed its payments owes money: BPR02 cannot be negative, so
    its part is H/0/NON with a PLB FB carrying the balance (X12 RFI 222).

    The generator forwards each pharmacy's negative balance on the pharmacy's own PLB; here the
    PBM nets the first one at the PSAO instead (PLB01 = the PSAO), so the file still balances
    and that pharmacy's share is negative.
    """
    source, summary = generate(tmp_path, shape="single-st", payees=3, claims=30, seed=2,
                               reversal_rate=0.9, denial_rate=0.0, plb_rate=0.0)
    text = source.read_text()
    first_plb = re.search(r"PLB\*(\d+)\*", text)
    assert first_plb
    source.write_text(text.replace(first_plb.group(0), f"PLB*{summary.sets[0].payee_npi}*", 1))
    result = _split(source, tmp_path / "out")
    negative = [p for p in result.parts if p.net < 0]
    assert negative, "the seed must give a pharmacy a negative share"
    for part in negative:
        text = Path(part.location).read_text()
        assert part.payment == 0 and part.forward_balance == part.net
        assert "BPR*H*0*C*NON" in text and f"*FB:{_trn02(text)}*{part.net}~" in text
        assert _fatal(validator, part.location) == []
    check_parts(source, result)


def test_a_group_mixing_pharmacies_is_cut_claim_by_claim(
    tmp_path: Path, validator: Tr3Validator
) -> None:
    """Claims name their pharmacy in NM1*82; when an LX group mixes two, each gets its own
    claims under the LX alone (the group's TS3 totals would be wrong for a share)."""
    source, summary = generate(tmp_path, shape="single-st", payees=2, claims=12, seed=21)
    first, second = summary.pharmacies
    text = source.read_text()
    moved = f"NM1*82*2*{first.name}*****XX*{first.npi}~"
    assert text.count(moved) >= 3
    at = text.index(moved, text.index(moved) + 1)  # the second claim of the first group
    source.write_text(
        text[:at] + f"NM1*82*2*{second.name}*****XX*{second.npi}~" + text[at + len(moved):]
    )
    result = _split(source, tmp_path / "out")
    by_npi = {p.owner.npi: p for p in result.parts}
    assert set(by_npi) == {first.npi, second.npi}
    shares = {npi: Path(p.location).read_text() for npi, p in by_npi.items()}
    assert f"TS3*{first.npi}" not in shares[first.npi]  # the shared group lost its TS3 ...
    assert shares[second.npi].count("LX*1~") == 1  # ... and opens the second's share too
    assert f"TS3*{second.npi}" in shares[second.npi]  # its own group keeps TS3
    for part in result.parts:
        assert _fatal(validator, part.location) == []
    check_parts(source, result)


def test_unknown_and_inactive_pharmacies_are_held_with_a_reason(tmp_path: Path) -> None:
    source, summary = generate(tmp_path, shape="single-st", payees=4, claims=20, seed=8)
    first, second, *others = summary.pharmacies
    members = write_members(tmp_path, [second, *others], inactive={second.pharmacy_id})
    result = _split(source, tmp_path / "out", RosterPolicy(load_roster(members)))
    held = {p.owner.npi: p.owner.held_reason for p in result.held}
    assert held == {
        first.npi: f"provider {first.npi} is not in the member roster",
        second.npi: f"member {second.pharmacy_id} is inactive",
    }
    assert all("/held/" in str(p.location) for p in result.held)
    assert {p.owner.pharmacy_id for p in result.delivered} == {p.pharmacy_id for p in others}
    check_parts(source, result)


def test_unknown_payee_of_a_multi_st_file_is_held_whole(tmp_path: Path) -> None:
    source, summary = generate(tmp_path, shape="multi-st", payees=2, claims=8, seed=4)
    members = write_members(tmp_path, summary.pharmacies[1:])
    result = _split(source, tmp_path / "out", RosterPolicy(load_roster(members)))
    [held] = result.held
    assert held.mode == "whole" and held.owner.held_reason == (
        f"payee {summary.pharmacies[0].npi} is not in the member roster"
    )
    assert result.delivered[0].owner.pharmacy_id == summary.pharmacies[1].pharmacy_id


def test_control_numbers_are_per_destination_and_stable_on_a_redo(tmp_path: Path) -> None:
    source, _ = generate(tmp_path, shape="single-st", payees=3, claims=9, seed=3)
    other, _ = generate(tmp_path, "other.835", shape="single-st", payees=3, claims=9, seed=3,
                        interchange_control_number=2)
    numbers = SqliteControlNumbers(tmp_path / "numbers.sqlite")
    first = _split(source, tmp_path / "a", numbers=numbers)
    again = _split(source, tmp_path / "b", numbers=numbers)
    later = _split(other, tmp_path / "c", numbers=numbers)
    assert [p.control_number for p in first.parts] == [1, 1, 1]  # one sequence per pharmacy
    assert [p.control_number for p in again.parts] == [1, 1, 1]  # same part, same number
    assert [_bytes(p) for p in again.parts] == [_bytes(p) for p in first.parts]  # same bytes
    assert [p.control_number for p in later.parts] == [2, 2, 2]
    text = Path(later.parts[0].location).read_text()
    assert "*000000002*0*P*:~\nGS*HP*EXAMPLEPSAO*" in text and "\nIEA*1*000000002~" in text


@pytest.mark.parametrize(
    ("element", "component", "terminator", "suffix"),
    [("|", ">", "~", "none"), ("*", ":", "newline", "none"), ("^", "\\", "'", "crlf")],
)
def test_delimiters_of_the_original_are_kept(
    tmp_path: Path, validator: Tr3Validator, element: str, component: str, terminator: str,
    suffix: str,
) -> None:
    source, _ = generate(
        tmp_path, shape="single-st", payees=2, claims=10, seed=9, plb_rate=1.0,
        delimiters=_synth_delimiters(element, component, terminator, suffix),
    )
    result = _split(source, tmp_path / "out")
    for part in result.parts:
        head = Path(part.location).read_bytes()[:108]
        assert head[3:4] == element.encode() and head[104:105] == component.encode()
        assert _fatal(validator, part.location) == []
    check_parts(source, result)


def test_tiny_read_blocks_give_the_same_parts(tmp_path: Path) -> None:
    """Boundaries cut by a block end are found again: any block size gives the same bytes."""
    source, _ = generate(tmp_path, shape="single-st", payees=3, claims=15, seed=6)
    reference = _split(source, tmp_path / "ref")
    for size in (1, 7, 64):
        result = split_835(source, policy=ProviderPolicy(), numbers=MemoryControlNumbers(),
                           writer=DirectoryPartWriter(tmp_path / f"b{size}"), block_size=size)
        assert [_bytes(p) for p in result.parts] == [_bytes(p) for p in reference.parts]


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda t: t.replace("SE*", "SE*9", 1).replace("*0001~\nGE", "*0002~\nGE"), "se-control"),
        (lambda t: re.sub(r"SE\*\d+\*0001~\n", "", t), "se-missing"),
        (lambda t: t.replace("GS*HP*", "GS*HC*", 1), "not-835"),
        (lambda t: t.replace("CLP*", "CLP*X*1*1*ABC*", 1), "bad-amount"),
        (lambda t: "HELLO\n" + t, "not-x12"),  # a BOM or blank lines are skipped (issue 10)
        (lambda t: t[: t.index("GE*")], "iea-missing"),
        (lambda t: t[: t.index("ST*")] + t[t.index("GE*"):].replace("GE*1*", "GE*0*"),
         "no-transaction-set"),
    ],
)
def test_broken_input_is_an_input_error_that_names_the_place(
    tmp_path: Path, edit, code: str  # type: ignore[no-untyped-def]
) -> None:
    source, _ = generate(tmp_path, shape="single-st", payees=2, claims=4, seed=1)
    source.write_text(edit(source.read_text()))
    with pytest.raises(InputError) as caught:
        _split(source, tmp_path / "out")
    assert caught.value.code == code
    assert str(source) in str(caught.value)


def _bytes(part) -> bytes:  # type: ignore[no-untyped-def]
    return Path(part.location).read_bytes()


def _trn02(text: str) -> str:
    match = re.search(r"TRN\*1\*([^*~]+)", text)
    assert match
    return match.group(1)


def _synth_delimiters(element: str, component: str, terminator: str, suffix: str):  # type: ignore[no-untyped-def]
    from gateway.synth.x12_writer import Delimiters

    return Delimiters(
        element=element, component=component, repetition="^" if element != "^" else "{",
        terminator="\n" if terminator == "newline" else terminator,
        suffix={"none": "", "lf": "\n", "crlf": "\r\n"}[suffix],
    )


def test_amounts_are_decimal(tmp_path: Path) -> None:
    source, _ = generate(tmp_path, shape="single-st", payees=2, claims=6, seed=12)
    result = _split(source, tmp_path / "out")
    assert all(isinstance(p.net, Decimal) and isinstance(p.payment, Decimal)
               for p in result.parts)
