"""Checks: batch envelope errors raise precise InputErrors; document defects become findings."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from gateway.errors import InputError
from gateway.ncpdp import batch, parse_file, read_batch, writer
from gateway.ncpdp.model import RequestHeader, ResponseHeader

DOS = date(2026, 1, 15)


def _request(code="B1", count=None, groups=1, pricing=(("D9", "557{"), ("DU", "807{"))):
    header = RequestHeader(
        "999001",
        "D0",
        code,
        "PCN",
        str(groups if count is None else count),
        "01",
        "1234567890",
        DOS,
        "SW",
    )
    group = [
        writer.segment("07", [("EM", "1"), ("D2", "123456"), ("D3", 0)]),
        writer.tm.Segment.build("11", list(pricing)),
    ]
    return writer.transmission(header, [writer.segment("04", [("C2", "SYN1")])], [group] * groups)


def _batch(*transmissions, count=None, trailer_number="0000042", header_number="42") -> bytes:
    out = io.BytesIO()
    header = batch.BatchHeader("T", "SENDER", header_number, "20260115", "1200", "P", "12", "RECV")
    details = [batch.BatchDetail.of(f"{i:010d}", tx) for i, tx in enumerate(transmissions, 1)]
    total = str(len(details) + 2) if count is None else count
    writer.write_batch([header, *details, batch.BatchTrailer(trailer_number, total, "")], out)
    return out.getvalue()


def test_written_batch_is_zero_filled_and_fixed_width():
    data = _batch(_request())
    first, *_, last = data.split(b"\x03")[:-1]
    assert first[1:].startswith(b"00TSENDER") and len(first) == 1 + 73
    assert first[28:35] == b"0000042"
    assert last[1:] == b"99" + b"0000042" + b"0000000003" + b" " * 35


def test_record_count_mismatch_names_the_trailer_record():
    data = _batch(_request(), _request(), count="5")
    with pytest.raises(InputError) as caught:
        list(parse_file(io.BytesIO(data)))
    error = caught.value
    assert error.code == "record-count"
    assert error.location.record_number == 4 and error.location.segment_id == "99"
    assert error.location.byte_offset == data.rindex(b"\x02")
    assert "4 records" in str(error)


def test_batch_number_mismatch():
    data = _batch(_request(), trailer_number="0000043")
    with pytest.raises(InputError) as caught:
        list(read_batch(io.BytesIO(data)))
    assert caught.value.code == "batch-number"


def test_space_padded_and_zero_filled_batch_numbers_agree():
    data = _batch(_request(), trailer_number="42     ", header_number="0000042")
    assert [type(i).__name__ for i in read_batch(io.BytesIO(data))] == [
        "BatchHeader",
        "BatchDetail",
        "BatchTrailer",
    ]


def test_truncated_record_reports_where_it_starts():
    data = _batch(_request(), _request())
    cut = data[: data.rindex(b"\x02") - 20]  # inside the second detail, before its ETX
    with pytest.raises(InputError) as caught:
        list(parse_file(io.BytesIO(cut)))
    assert caught.value.code == "truncated-record"
    assert caught.value.location.record_number == 3
    assert caught.value.location.byte_offset == cut.rindex(b"\x02")


def test_missing_trailer():
    data = _batch(_request())
    with pytest.raises(InputError) as caught:
        list(parse_file(io.BytesIO(data[: data.rindex(b"\x02")])))
    assert caught.value.code == "missing-trailer"


def test_text_between_records_is_a_framing_error():
    data = _batch(_request()).replace(b"\x03\x02G1", b"\x03junk\x02G1")
    with pytest.raises(InputError) as caught:
        list(read_batch(io.BytesIO(data)))
    assert caught.value.code == "framing" and caught.value.location.record_number == 2


def test_transaction_count_disagreeing_with_groups_is_a_warning():
    (document,) = parse_file(io.BytesIO(_batch(_request(count="1", groups=3))))
    (finding,) = document.findings
    assert finding.code == "transaction-count" and not finding.fatal
    assert len(document.transactions) == 3  # nothing dropped
    (strict,) = parse_file(io.BytesIO(_batch(_request(count="1", groups=3))), strict=True)
    assert len(strict.transactions) == 3


def test_unknown_transaction_code_is_fatal_in_strict_mode():
    data = _batch(_request(code="Z9"))
    (document,) = parse_file(io.BytesIO(data))
    assert [f.code for f in document.findings] == ["unknown-transaction-code"]
    assert document.transactions[0].claim.rx_number == "123456"  # parsed generically anyway
    with pytest.raises(InputError) as caught:
        list(parse_file(io.BytesIO(data), strict=True))
    assert caught.value.code == "unknown-transaction-code"
    assert caught.value.location.record_number == 2


def test_malformed_overpunch_points_at_the_field():
    data = _batch(_request(pricing=(("D9", "55X"), ("DU", "807{"))))
    (document,) = parse_file(io.BytesIO(data))
    (finding,) = document.findings
    assert finding.code == "malformed-overpunch" and finding.fatal
    loc = finding.location
    assert (loc.record_number, loc.segment_id, loc.field_id) == (2, "11", "D9")
    assert data[loc.byte_offset : loc.byte_offset + 5] == b"D955X"
    assert document.transactions[0].pricing.ingredient_cost is None
    assert document.transactions[0].pricing.gross_amount_due == Decimal("80.70")


def test_truncated_header_is_fatal():
    tx = _request()
    short = writer.tm.Transmission("request", tx.header[:40], tx.segments, tx.groups)
    (document,) = parse_file(io.BytesIO(_batch(short)))
    assert "truncated-header" in [f.code for f in document.findings]
    assert document.transmission.header == tx.header[:40]  # kept as sent


def test_response_header_and_stx_etx_framed_single_transmission(tmp_path):
    header = ResponseHeader("D0", "B1", "1", "A", "01", "1234567890", DOS)
    group = [writer.segment("21", [("AN", "P")]), writer.segment("23", [("F9", Decimal("-12.34"))])]
    tx = writer.transmission(header, [], [group])
    path = tmp_path / "one.ncpdp"
    path.write_bytes(b"\x02" + tx.to_bytes() + b"\x03\r\n")
    (document,) = parse_file(path)
    assert document.header.header_response_status == "A"
    assert document.transactions[0].pricing.total_amount_paid == Decimal("-12.34")
    assert document.transmission.prefix == "\x02" and document.findings == ()
    path.write_bytes(b"\x02" + tx.to_bytes())
    with pytest.raises(InputError) as caught:
        list(parse_file(path))
    assert caught.value.code == "truncated-record"


def test_not_ncpdp_is_refused_with_the_file_name(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"ISA*00*          *00*")
    with pytest.raises(InputError) as caught:
        list(parse_file(path))
    assert caught.value.code == "format" and str(path) in str(caught.value)


def test_bad_date_bad_segment_id_and_stray_text_are_located():
    tx = _request()
    group = writer.tm.Group(
        (
            writer.tm.Segment(("", "AM07", "EM1", "DE20260230", "D3x")),
            writer.tm.Segment(("junk", "AM11", "D9{")),
        ),
        lead="??",
    )
    odd = writer.tm.Transmission("request", tx.header, tx.segments, (group,))
    data = _batch(odd)
    (document,) = parse_file(io.BytesIO(data))
    found = {(f.code, f.location.segment_id, f.location.field_id): f for f in document.findings}
    assert set(found) == {
        ("stray-text", None, None),
        ("field-format", "07", "DE"),
        ("field-format", "07", "D3"),
        ("segment-id", "11", None),
    }
    assert data[found[("field-format", "07", "DE")].location.byte_offset :].startswith(b"DE2026")
    assert data[found[("segment-id", "11", None)].location.byte_offset :].startswith(b"\x1ejunk")
    assert document.transmission.wire().encode("latin-1") in data  # kept as sent
