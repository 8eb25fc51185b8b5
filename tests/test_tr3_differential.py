"""Must show: the compiled TR3 validator reports what pyx12 reports, on the whole corpus and on
a thousand mutated files — identical (kind, segment, element) findings, except the documented
pyx12 defects listed in tests/tr3_differential.py (KNOWN), each with its reason.
"""

from __future__ import annotations

from collections import Counter

import pytest
from tr3_differential import KNOWN, Differential
from tr3_mutator import base_files, mutate


@pytest.fixture(scope="module")
def differential() -> Differential:
    return Differential()  # pyx12's maps load once; its results are cached by file content


def compare_all(differential: Differential, files: list[tuple[str, bytes]]
                ) -> tuple[Counter[str], int, int]:
    """Assert every file agrees. Returns how often each known difference explained a key,
    how many findings both sides agreed on, and how many files had any."""
    explained: Counter[str] = Counter()
    agreed = with_findings = 0
    for name, data in files:
        comparison = differential.compare(data, name)
        missing, extra = comparison.unexplained
        assert not missing and not extra, (
            f"{name}: pyx12 only {dict(missing)}, compiled only {dict(extra)}")
        explained.update(rule for rule, _ in comparison.explained)
        agreed += sum(comparison.pyx12.values())
        with_findings += bool(comparison.pyx12 or comparison.explained)
    return explained, agreed, with_findings


def test_every_corpus_file_gives_pyx12s_findings(shared_corpus, differential):
    files = [(str(p.relative_to(shared_corpus)), p.read_bytes())
             for p in sorted((shared_corpus / "x12").rglob("*"))
             if p.is_file() and p.suffix != ".md"]
    assert len(files) >= 38
    explained, agreed, _ = compare_all(differential, files)
    assert agreed >= 70  # findings were really compared: the corpus has plenty of defects
    assert set(explained) <= {k.name for k in KNOWN}


def mutated(count: int, seed: int = 7) -> list[tuple[str, bytes]]:
    bases = base_files(seed)
    return [(f"mutation {n}", mutate(bases[n % len(bases)], n)) for n in range(count)]


def test_a_hundred_mutated_files_give_pyx12s_findings(differential):
    explained, agreed, _ = compare_all(differential, mutated(100))
    assert agreed >= 200 and explained  # and some mutations hit documented pyx12 defects


@pytest.mark.slow
def test_a_thousand_mutated_files_give_pyx12s_findings(differential):
    """Dropped, repeated, swapped and moved segments, bad codes and dates, too long, empty,
    split and extra elements (tests/tr3_mutator.py): ~75 s, most of it pyx12's."""
    explained, agreed, with_findings = compare_all(differential, mutated(1000))
    assert with_findings >= 900 and agreed >= 2000  # the mutations really break the files
    for rule in ("pyx12-crash", "envelope-pairing", "outside-any-set",
                 "trailer-with-component"):
        assert explained[rule] > 0, f"{rule} is no longer exercised: keep KNOWN honest"
