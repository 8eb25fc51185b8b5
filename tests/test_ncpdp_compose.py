"""Canonical documents to wire and back: composing from business values loses no modelled field."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gateway.ncpdp import ClaimRequest, ClaimResponse, parse_file
from gateway.ncpdp.compose import request, response

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "ncpdp"


def _business(document) -> list:
    """Every business view of a document except the list of segment codes as sent."""
    views = [document.header, document.insurance, document.patient]
    if isinstance(document, ClaimResponse):
        views.append(document.message)
    for t in document.transactions:
        views.append(dataclasses.replace(t, segment_codes=()))
    return views


def _recompose(document):
    if isinstance(document, ClaimRequest):
        tx = request(document.header, document.patient, document.insurance, document.transactions)
        return ClaimRequest(tx.wire())
    tx = response(
        document.header,
        document.message,
        document.insurance,
        document.patient,
        document.transactions,
    )
    return ClaimResponse(tx.wire())


def _documents(paths):
    for path in paths:
        yield from parse_file(path)


def test_committed_samples_recompose_to_the_same_business_view():
    documents = list(_documents(sorted(SAMPLES.glob("*.ncpdp"))))
    assert len(documents) > 20
    for document in documents:
        again = _recompose(document)
        assert _business(again) == _business(document)
        assert again.findings == ()


def test_corpus_documents_recompose_to_the_same_business_view(shared_corpus):
    documents = list(_documents(sorted((shared_corpus / "ncpdp").glob("*.bin"))))
    assert len(documents) == 14
    for document in documents:
        assert _business(_recompose(document)) == _business(document)
    # the corpus exercises the repeating data: compound ingredients, DUR, rejects with 4F
    transactions = [t for d in documents for t in d.transactions]
    assert any(getattr(t, "compound", None) for t in transactions)
    assert any(t.dur for t in transactions)
    assert any(getattr(t, "status", None) and t.status.reject_codes for t in transactions)
