"""The reader against every public X12 sample: counts, recorded defects, round trip, CLI."""

from __future__ import annotations

import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.x12.syntax.tokenizer import iter_segments, segment_bytes
from tests.x12_corpus import (
    DEFECTS_835,
    MALFORMED,
    corpus_files,
    naive_claims,
    outcome,
    table,
)

REPO = Path(__file__).resolve().parent.parent


def test_every_corpus_file_has_an_expectation(shared_corpus):
    names = corpus_files(shared_corpus)
    assert len(names) >= 35
    for name in names:
        assert name.startswith(("835/", "generated/")) or name in MALFORMED, name


def test_835_and_generated_files_parse_with_independent_counts(shared_corpus):
    for name in corpus_files(shared_corpus):
        if not name.startswith(("835/", "generated/")) or name in DEFECTS_835:
            continue
        remittances, findings, error = outcome(shared_corpus, name)
        assert error is None, f"{name}: {error}"
        assert not [f for f in findings if f.fatal], name
        count, total = naive_claims((shared_corpus / "x12" / name).read_bytes())
        assert sum(len(r.claims) for r in remittances) == count, name
        assert sum((r.total_claim_paid for r in remittances), Decimal(0)) == total, name
        assert remittances, name


def test_files_with_recorded_defects_report_exactly_those(shared_corpus):
    for name, expected in DEFECTS_835.items():
        remittances, findings, error = outcome(shared_corpus, name)
        assert {f.code for f in findings if f.fatal} == expected, name
        assert error is not None and error.code in expected, name
        assert error.location.segment_number and error.location.byte_offset is not None
        if expected != {"not-835"}:  # still read, and the claims are all there
            count, total = naive_claims((shared_corpus / "x12" / name).read_bytes())
            assert sum(len(r.claims) for r in remittances) == count, name
            assert sum((r.total_claim_paid for r in remittances), Decimal(0)) == total, name


def test_malformed_files_are_rejected_precisely(shared_corpus):
    for name, (first, among) in MALFORMED.items():
        _, findings, error = outcome(shared_corpus, name)
        assert error is not None, name
        assert error.code == first, (name, str(error))
        assert error.location.byte_offset is not None, name
        assert error.location.segment_number is not None or error.code == "not-x12", name
        assert among <= {f.code for f in findings if f.fatal}, name


def test_delimiter_mismatch_names_both_separators(shared_corpus):
    _, _, error = outcome(shared_corpus, "835/linuxforhealth/cob-contractural-adjustment.835")
    assert error.code == "delimiter-mismatch"
    assert error.location.segment_id == "SVC" and error.location.element == "SVC01"
    assert "'>'" in str(error) and "':'" in str(error)


def test_4010_file_is_reported_as_4010(shared_corpus):
    _, _, error = outcome(shared_corpus, "835/pyx12/835id_4010.txt")
    assert error.code == "version-4010"
    assert "004010X091A1" in str(error) and error.location.segment_id == "GS"


@pytest.mark.parametrize("block_size", [7, 1 << 20])
def test_tokenizer_round_trip_is_byte_identical(shared_corpus, block_size):
    for name in corpus_files(shared_corpus):
        data = (shared_corpus / "x12" / name).read_bytes()
        if not data.lstrip().startswith(b"ISA"):
            continue  # not X12 at all, or no ISA: nothing to tokenize
        segments = list(iter_segments(io.BytesIO(data), findings=[], block_size=block_size))
        assert b"".join(map(segment_bytes, segments)) == data, name
        for number, offset, *_ in segments[:50]:
            assert data[offset:].startswith(segment_bytes(segments[number - 1])), name


def test_docs_table_matches_the_code(shared_corpus):
    doc = (REPO / "docs" / "x12-corpus.md").read_text()
    assert table(shared_corpus) in doc, "regenerate docs/x12-corpus.md (see its header)"


@pytest.mark.parametrize(
    "name",
    [
        "malformed/badx12_bad_file.edi",
        "malformed/lfh_demo_bad_cas_segment_id.835",
        "malformed/e835p_blue_cross_nc_no_envelope.txt",
        "835/linuxforhealth/tertiary-payment.835",
    ],
)
def test_cli_rejects_with_one_line_and_exit_1(shared_corpus, name):
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "parse", str(shared_corpus / "x12" / name)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "byte" in lines[0]
    if name.endswith("bad_file.edi"):
        assert "not a recognised format" in lines[0] and "bad_file" in lines[0]
    else:
        assert "segment" in lines[0]
