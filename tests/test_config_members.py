"""The member roster: validation that names line, key and fix; indexed lookups."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.members import load_roster, npi_is_valid, parse_destination
from gateway.config.problems import ConfigProblems
from gateway.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
HEADER = "pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats\n"


def _luhn_npi(stem: int) -> str:
    """A valid NPI from a 9-digit stem (the check digit computed the NPPES way)."""
    for check in range(10):
        candidate = f"{stem:09d}{check}"
        if npi_is_valid(candidate):
            return candidate
    raise AssertionError("no check digit")


def _write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "members.csv"
    path.write_text(HEADER + rows)
    return path


def test_sample_roster_loads_and_is_indexed() -> None:
    roster = load_roster(REPO / "partners" / "members.csv")
    lee = roster.by_npi("1000061600")
    assert lee is not None and lee.pharmacy_id == "1000013"
    assert roster.by_ncpdp("1000013") is lee
    assert roster.by_tin("562978562") == (lee,)
    assert lee.formats == ("835", "csv")
    assert str(lee.destination) == "folder:/srv/pharmacies/1000013/inbox"
    inactive = roster.by_npi("1000096770")
    assert inactive is not None and not inactive.active


def test_npi_check_digit() -> None:
    assert npi_is_valid("1234567893")  # the example NPI of the NPI standard
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678a3")


def test_destination_kinds() -> None:
    assert parse_destination("folder:/srv/x").kind == "folder"  # type: ignore[union-attr]
    sftp = parse_destination("sftp:vendor-1:/inbox")
    assert sftp is not None and sftp.transport == "vendor-1" and sftp.path == "/inbox"
    assert parse_destination("ftp:/x") is None
    assert parse_destination("sftp:/inbox") is None


def test_every_problem_is_reported_with_line_key_and_fix(tmp_path: Path) -> None:
    rows = (
        "1,A,1234567893,1000001,123456789,true,folder:/a,835\n"
        "2,B,1234567890,1000002,12345,maybe,ftp:/b,835|pdf\n"  # bad npi, tin, active, dest, fmt
        "3,C,1234567893,1000001,123456789,true,sftp:nowhere:/in,csv\n"  # dup npi + ncpdp, sftp
    )
    with pytest.raises(ConfigProblems) as caught:
        load_roster(_write(tmp_path, rows), sftp_transports={"vendor-1"})
    found = {(p.line, p.key) for p in caught.value.problems}
    assert {(3, "npi"), (3, "tin"), (3, "active"), (3, "destination"), (3, "formats")} <= found
    assert (4, "destination") in found  # unknown SFTP transport
    assert (4, "npi") in found and (4, "ncpdp_id") in found  # duplicates of line 2
    message = str(caught.value)
    assert "members.csv:3" in message and "fix:" in message and "already used on line 2" in message


def test_missing_column_names_the_header(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("pharmacy_id,name,npi\n1,A,1234567893\n")
    with pytest.raises(ConfigProblems) as caught:
        load_roster(path)
    assert caught.value.problems[0].key == "header"
    assert "ncpdp_id" in caught.value.problems[0].what


def test_five_thousand_members_load_and_index(tmp_path: Path) -> None:
    rows = "".join(
        f"P{i},PHARMACY {i},{_luhn_npi(100000000 + i)},{2000000 + i},{300000000 + i // 10},"
        f"true,folder:/srv/p/{i},835|csv\n"
        for i in range(5000)
    )
    roster = load_roster(_write(tmp_path, rows))
    assert len(roster) == 5000
    member = roster.by_ncpdp("2004321")
    assert member is not None and member.pharmacy_id == "P4321"
    assert roster.by_npi(member.npi) is member
    assert len(roster.by_tin("300000432")) == 10  # a chain: ten stores under one TIN


def test_every_delivery_destination_parses_to_its_kind_and_prints_back_the_same():
    from gateway.config.destination import HELD, Destination, DestinationKind

    for text in ("folder:/srv/x", "sftp:vendor-1:/inbox", "partner:acme", "provider:1234567893",
                 "held"):
        assert str(Destination.parse(text)) == text
    assert Destination.parse("held") is HELD
    assert Destination.parse("partner:acme").kind is DestinationKind.PARTNER


def test_an_unknown_delivery_destination_is_a_config_error_naming_it():
    from gateway.config.destination import Destination

    with pytest.raises(ConfigError, match="'ftp:/x' is none of folder:"):
        Destination.parse("ftp:/x")
