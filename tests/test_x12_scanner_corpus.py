"""The one scanner on the public corpus (../shared/corpus/x12, read at test time, never
copied): for every file, valid or malformed, as received and wrapped the ways partners
wrap them (BOM, two copies with other delimiters), the acknowledgments never raise, agree
with the verdict and validate under pyx12; every file the reader accepts, the splitter
accepts too, with the same sets.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from x12_corpus import corpus_files

from gateway.errors import InputError
from gateway.routing.policy import ProviderPolicy
from gateway.x12.read.reader import read_835
from gateway.x12.read.received import read_envelopes
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import NullPartWriter
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.tr3.pyx12_reference import Tr3Validator
from gateway.x12.write.ack import acknowledgments
from gateway.x12.write.control_numbers import MemoryControlNumbers

NOW = datetime(2026, 1, 6, 8, 30)


@pytest.fixture(scope="module")
def pyx12() -> Tr3Validator:
    return Tr3Validator()


def _collect(data: bytes) -> list[Finding]:
    findings: list[Finding] = []
    try:
        for _ in read_835(io.BytesIO(data), file_name="in", findings=findings):
            pass
    except InputError as exc:
        findings.append(Finding(exc.code, exc.what, Level.INTERCHANGE, exc.location))
    return findings


def _variants(data: bytes) -> dict[str, bytes]:
    """As received, behind a UTF-8 BOM, and followed by itself with ``|`` elements."""
    text = data.decode("latin-1")
    out = {"as-is": data, "bom": b"\xef\xbb\xbf" + data}
    if text.startswith("ISA") and len(text) > 106 and "|" not in text:
        element = text[3]
        out["twice"] = data + text.replace(element, "|").encode("latin-1")
    return out


def test_every_corpus_file_is_acknowledged_truthfully(shared_corpus: Path,
                                                      pyx12: Tr3Validator) -> None:
    checked = 0
    for name in corpus_files(shared_corpus):
        for variant, data in _variants((shared_corpus / "x12" / name).read_bytes()).items():
            findings = _collect(data)
            interchanges = read_envelopes(io.BytesIO(data))
            for kind in ("999", "ta1"):
                answers = acknowledgments(interchanges, findings, kind,
                                          numbers=MemoryControlNumbers(), destination="pbm",
                                          key="ack:1", now=NOW)
                fatal = any(f.fatal for f in findings)
                for answer in answers:
                    where = f"{name} ({variant}, {answer.kind})"
                    assert answer.text.isascii(), where
                    assert pyx12.validate(io.StringIO(answer.text)) == [], where
                    if answer.kind == "999" and fatal:
                        assert not re.search(r"AK9\*A\*", answer.text), where
                    checked += 1
    assert checked > 50


def test_every_file_the_reader_accepts_the_splitter_splits_alike(shared_corpus: Path,
                                                                 tmp_path: Path) -> None:
    accepted = 0
    for name in corpus_files(shared_corpus):
        for variant, data in _variants((shared_corpus / "x12" / name).read_bytes()).items():
            try:
                read = list(read_835(io.BytesIO(data), file_name=name))
            except InputError:
                continue
            path = tmp_path / "in.835"
            path.write_bytes(data)
            result = split_835(path, policy=ProviderPolicy(), writer=NullPartWriter(),
                               numbers=MemoryControlNumbers())
            assert [(t.identity.st02 if t.identity else None, t.claim_count, t.claims_paid)
                    for t in result.transaction_sets] == [
                (r.control_number, len(r.claims), r.total_claim_paid) for r in read], variant
            assert sum((p.claims_paid for p in result.parts), Decimal(0)) == sum(
                (r.total_claim_paid for r in read), Decimal(0))
            accepted += 1
    assert accepted >= 10
