"""Business views, repeating data, the dictionary, JSON, sniffing, the visible rendering."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from gateway.errors import ConfigError
from gateway.ncpdp import ClaimRequest, render_visible, sniff, to_json, writer
from gateway.ncpdp.fields import dictionary, load
from gateway.ncpdp.model import RequestHeader, ResponseHeader
from gateway.ncpdp.request_parts import OtherPayer
from gateway.ncpdp.response_parts import ResponseStatus
from gateway.ncpdp.transmission import Segment

DOS = date(2026, 1, 15)


def _b1() -> ClaimRequest:
    header = RequestHeader("999001", "D0", "B1", "PCN", "1", "01", "1234567890", DOS, "SW")
    group = [
        writer.segment(
            "07",
            [
                ("EM", "1"),
                ("D2", "000123456789"),
                ("E1", "03"),
                ("D7", "99999000101"),
                ("E7", Decimal("30")),
                ("D3", 2),
                ("D5", 30),
                ("D8", "0"),
                ("DE", date(2026, 1, 2)),
                ("NX", 2),
                ("DK", "08"),
                ("DK", "02"),
            ],
        ),
        writer.segment(
            "11",
            [
                ("D9", Decimal("25.50")),
                ("DC", Decimal("1.75")),
                ("H7", 1),
                ("H8", "01"),
                ("H9", Decimal("-0.25")),
                ("DQ", Decimal("30")),
                ("DU", Decimal("27.00")),
            ],
        ),
        writer.segment("03", [("EZ", "01"), ("DB", "9000000001"), ("DR", "FICTIONAL")]),
        writer.segment("02", [("EY", "05"), ("E9", "SYN99")]),
        Segment.build("ZZ", [("QQ", "kept verbatim")]),
    ]
    patient = writer.segment(
        "01", [("C4", date(1970, 5, 6)), ("C5", "2"), ("C7", "01"), ("CA", "ALEX")]
    )
    tx = writer.transmission(header, [writer.segment("04", [("C2", "SYN000")]), patient], [group])
    return ClaimRequest(tx.wire())


def test_request_business_view():
    doc = _b1()
    assert doc.header.transaction_code == "B1" and doc.header.date_of_service == DOS
    assert doc.patient.date_of_birth == date(1970, 5, 6) and doc.patient.place_of_service == "01"
    assert doc.insurance.cardholder_id == "SYN000"
    (t,) = doc.transactions
    assert t.claim.rx_number == "000123456789" and t.claim.ndc == "99999000101"
    assert t.claim.quantity_dispensed == Decimal("30.000") and t.claim.fill_number == 2
    assert t.claim.submission_clarification_codes == ("08", "02")
    assert t.pricing.other_amounts[0].amount == Decimal("-0.25")
    assert t.pricing.gross_amount_due == Decimal("27.00")
    assert t.prescriber.id == "9000000001" and t.pharmacy_provider.id == "SYN99"
    assert t.segment_codes == ("07", "11", "03", "02", "ZZ")  # the unknown segment is kept


def test_to_json_money_and_ids_are_strings_dates_iso():
    payload = to_json(_b1())
    json.dumps(payload)  # serialisable as is
    t = payload["transactions"][0]
    assert t["pricing"]["ingredient_cost"] == "25.50"
    assert t["claim"]["rx_number"] == "000123456789" and t["claim"]["date_written"] == "2026-01-02"
    assert payload["header"]["date_of_service"] == "2026-01-15"
    assert payload["type"] == "ncpdp-claim-request" and payload["findings"] == []


def test_cob_is_two_level():
    segment = Segment.build(
        "05",
        [
            ("4C", "2"),
            ("5C", "01"),
            ("6C", "03"),
            ("7C", "610000"),
            ("HB", "2"),
            ("HC", "07"),
            ("DV", "10{"),
            ("HC", "08"),
            ("DV", "5}"),
            ("5C", "02"),
            ("5E", "2"),
            ("6E", "70"),
            ("6E", "76"),
            ("NR", "1"),
            ("NP", "06"),
            ("NQ", "1234E"),
        ],
    )
    first, second = OtherPayer.all_of(segment)
    assert [(a.qualifier, a.amount) for a in first.amounts_paid] == [
        ("07", Decimal("1.00")),
        ("08", Decimal("-0.50")),
    ]
    assert second.reject_codes == ("70", "76") and second.amounts_paid == ()
    assert second.patient_responsibility[0].amount == Decimal("123.45")


def test_reject_codes_keep_their_occurrence_and_any_reject_means_rejected():
    segment = Segment.build(
        "21", [("AN", "P"), ("FA", "2"), ("FB", "88"), ("4F", "3"), ("FB", "EE")]
    )
    status = ResponseStatus.of(segment)
    assert [(r.code, r.field_occurrence) for r in status.reject_codes] == [
        ("88", "3"),
        ("EE", None),
    ]
    assert status.rejected and not status.paid  # AN says paid, the reject code wins


def test_dictionary_covers_the_reference_and_is_validated():
    fields = dictionary()
    assert len(fields) > 200
    assert fields["D2"].format.width == 12  # 402-D2 is 9(12) in D.0
    assert fields["HE"].format.places == 4 and fields["HE"].format.kind == "signed"
    assert fields["E7"].format.kind == "decimal" and fields["E7"].format.places == 3
    with pytest.raises(ConfigError) as caught:
        load(
            "id,number,name,segments,format\nD9,409,Cost,11,s9(6)v99\nDC,412,Fee,11,money\n",
            "f.csv",
        )
    assert "f.csv, line 3" in str(caught.value)


def test_sniff():
    request = _b1().transmission.to_bytes()
    assert sniff(request[:128]) == "ncpdp-transmission"
    assert sniff(b"\x02" + request[:127]) == "ncpdp-transmission"
    response = writer.transmission(ResponseHeader("D0", "B1", "1", "A", "01", "1", DOS), [], [[]])
    assert sniff(response.to_bytes()) == "ncpdp-transmission"
    header_only = writer.transmission(ResponseHeader("D0", "B1", "0", "R", "01", "1", DOS), [], [])
    assert sniff(header_only.to_bytes()) == "ncpdp-transmission"
    assert sniff(b"\x02" + header_only.to_bytes() + b"\x03\r\n") == "ncpdp-transmission"
    assert sniff(b"\x0200T" + b"S" * 70) == "ncpdp-batch"
    assert sniff(b"ISA*00*") is None and sniff(b"") is None


def test_render_visible_keeps_structure_readable():
    text = render_visible(b"\x0200T\x03\n\x02G1x\x1e\x1cAM07\x1cD21\x1d\x1e\x1cAM11\x03\x7f")
    assert text.splitlines() == [
        "<STX>00T<ETX><LF>",
        "<STX>G1x",
        "  <RS><FS>AM07<FS>D21",
        "<GS>",
        "  <RS><FS>AM11<ETX>",
        "<0x7F>",
    ]
