"""Every public NCPDP sample parses, round-trips byte for byte, and reads as it should.

The samples are read from ../shared at test time (``shared_corpus``); none of their content is
copied here. The EdiFabric file has a known corruption in its second request (a '>' where a
field separator belongs): it must parse tolerantly with a finding that points at the exact
record, segment, field and byte, and still round-trip exactly.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest

from gateway.ncpdp import ClaimRequest, ClaimResponse, parse_file, read_batch, sniff, to_json
from gateway.ncpdp.framing import FS
from gateway.ncpdp.writer import write_batch

EDIFABRIC = "edifabric-batch12-d0-b1-requests-and-responses.bin"
HIGHER_PIXELS = "higher-pixels-batch11-v51-b1-workers-comp.bin"


@pytest.fixture(scope="module")
def ncpdp_files(shared_corpus):
    files = sorted((shared_corpus / "ncpdp").glob("*.bin"))
    assert {f.name for f in files} >= {EDIFABRIC, HIGHER_PIXELS}
    return {f.name: f for f in files}


def test_every_sample_is_sniffed_as_a_batch_and_parses(ncpdp_files):
    for path in ncpdp_files.values():
        data = path.read_bytes()
        assert sniff(data[:128]) == "ncpdp-batch"
        documents = list(parse_file(path))
        assert documents, path.name
        for document in documents:
            assert document.transactions  # every sample transmission carries a group


def test_every_sample_round_trips_byte_for_byte(ncpdp_files):
    for path in ncpdp_files.values():
        data = path.read_bytes()
        out = io.BytesIO()
        write_batch(read_batch(io.BytesIO(data)), out)
        assert out.getvalue() == data, path.name
        for document in parse_file(path):
            wire = document.transmission.to_bytes()
            start = document.source.byte_offset
            assert data[start : start + len(wire)] == wire


def test_round_trip_with_tiny_read_blocks(ncpdp_files):
    from gateway.ncpdp import batch

    for path in ncpdp_files.values():
        data = path.read_bytes()
        records = list(batch.iter_records(io.BytesIO(data), block_size=7))
        items = [batch.decode(record, content) for record, content in records]
        out = io.BytesIO()
        write_batch(items, out)
        assert out.getvalue() == data


def test_edifabric_corrupt_request_is_flagged_precisely(ncpdp_files):
    path = ncpdp_files[EDIFABRIC]
    data = path.read_bytes()
    documents = list(parse_file(path))
    flagged = [f for d in documents for f in d.findings]
    assert len(flagged) == 1
    finding = flagged[0]
    assert finding.code == "field-format" and not finding.fatal
    loc = finding.location
    assert (loc.record_number, loc.segment_id, loc.field_id) == (3, "07", "DJ")
    assert loc.file == str(path)
    # the offset is the field id's first byte in the file, and the bad value runs to the next FS
    assert data[loc.byte_offset : loc.byte_offset + 2] == b"DJ"
    value = data[loc.byte_offset + 2 : data.index(FS.encode(), loc.byte_offset)]
    assert b">" in value
    assert "'>' where a field separator" in finding.message
    # tolerant: the claim is still there, the bad field reads as None, nothing else is lost
    claim = documents[1].transactions[0].claim
    assert claim.origin_code is None and claim.rx_number


def test_edifabric_business_values(ncpdp_files):
    documents = list(parse_file(ncpdp_files[EDIFABRIC]))
    requests = [d for d in documents if isinstance(d, ClaimRequest)]
    responses = [d for d in documents if isinstance(d, ClaimResponse)]
    assert (len(requests), len(responses)) == (4, 9)
    assert {d.source.record_number for d in requests} == {2, 3, 4, 5}
    for request in requests:
        assert request.header.transaction_code == "B1" and request.header.version == "D0"
        pricing = request.transactions[0].pricing
        others = sum((o.amount for o in pricing.other_amounts), Decimal("0"))
        # 430-DU gross amount due = ingredient cost + dispensing fee + other amounts claimed
        assert pricing.gross_amount_due == pricing.ingredient_cost + pricing.dispensing_fee + others
    compound = requests[3].transactions[0].compound
    assert compound is not None and len(compound.ingredients) == 3
    dur = requests[2].transactions[0].dur
    assert [d.counter for d in dur] == ["1", "2", "3"]
    for response in responses:
        status = response.transactions[0].status
        assert status.paid != status.rejected or status.status in {"C"}
        pricing = response.transactions[0].pricing
        if status.paid:
            assert pricing.total_amount_paid.as_tuple().exponent == -2
            assert response.total_amount_paid == pricing.total_amount_paid
        elif status.rejected:
            assert response.total_amount_paid == Decimal("0.00")
    rejected = [r for r in responses if r.transactions[0].status.rejected]
    assert len(rejected) == 4
    with_occurrences = [r for r in rejected if any(code.field_occurrence for code in _rejects(r))]
    assert len(with_occurrences) == 1
    codes = with_occurrences[0].transactions[0].status.reject_codes
    assert len(codes) == 2 and all(c.field_occurrence for c in codes)
    assert len(with_occurrences[0].transactions[0].dur) == 1


def test_higher_pixels_batch_11_with_lf_and_space_padded_batch_number(ncpdp_files, shared_corpus):
    path = ncpdp_files[HIGHER_PIXELS]
    items = list(read_batch(path.open("rb")))
    header, detail, trailer = items
    assert header.record.trailing == "\n" and detail.record.trailing == "\n"
    assert header.batch_number.strip() == trailer.batch_number.strip()
    assert header.batch_number != header.batch_number.strip()  # space padded, accepted
    # the field-by-field decomposition published with the sample (MIT) matches ours
    expected = _fixture_fields(shared_corpus / "ncpdp" / "higher-pixels-batch11-header-fixture.yml")
    for name in (
        "transmission_type",
        "batch_number",
        "creation_date",
        "creation_time",
        "file_type",
        "version",
        "receiver_id",
        "sender_id",
    ):
        assert getattr(header, name).strip() == expected[name], name
    (document,) = parse_file(path)
    assert document.header.version == "51" and document.findings == ()
    assert [s.code for s in document.transmission.groups[0].segments][-1] == "06"


def _rejects(response: ClaimResponse):
    return response.transactions[0].status.reject_codes


def _fixture_fields(path) -> dict[str, str]:
    fields = {}
    for line in path.read_text().splitlines():
        if line.startswith("  :") and ": " in line:
            key, value = line.strip()[1:].split(": ", 1)
            fields[key] = value.strip("'\"")
    return fields


def test_every_sample_document_renders_as_json(ncpdp_files):
    for path in ncpdp_files.values():
        for document in parse_file(path):
            payload = json.loads(json.dumps(to_json(document)))
            assert payload["source"]["record_number"] == document.source.record_number
            for transaction in payload["transactions"]:
                pricing = transaction.get("pricing") or {}
                for value in pricing.values():
                    assert value is None or isinstance(value, (str, list))
