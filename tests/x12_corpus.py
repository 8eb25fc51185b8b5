"""What the X12 corpus files should give, and an independent count to check the reader with.

Shared by the corpus tests and by the table in docs/x12-corpus.md (which a test compares with
what the code does, so the table cannot rot). The expected defects come from PROVENANCE.md:
files it records as unbalanced, miscounted, mismatched or 4010 must be reported as exactly
that defect.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gateway.errors import InputError
from gateway.x12.read.reader import read_835
from gateway.x12.syntax.findings import Finding

# 835/ and generated/ files with a recorded defect: the fatal finding codes, all of them.
DEFECTS_835 = {
    "835/pyx12/835id_4010.txt": {"version-4010", "unbalanced-payment"},
    "835/pyx12/835id_4010_crlf.txt": {"version-4010", "unbalanced-payment"},
    "835/pyx12/835id_4010.expected997.txt": {"not-835"},  # a 997, not an 835
    "835/linuxforhealth/cob-contractural-adjustment.835": {"delimiter-mismatch"},
    "835/linuxforhealth/secondary-payment.835": {"delimiter-mismatch"},
    "835/linuxforhealth/tertiary-payment.835": {
        "bad-composite",
        "unbalanced-line",
        "unbalanced-claim",
    },
    "835/hdi-api-examples/835-all-fields.dat": {"unbalanced-claim", "unbalanced-payment"},
    "835/hdi-api-examples/835-minimal.dat": {"unbalanced-payment"},
    "835/hdi-api-examples/835-provider-level-adjustment.dat": {"unbalanced-payment"},
    "835/hdi-api-examples/negotiated_discount.dat": {
        "se-count",
        "unbalanced-line",
        "unbalanced-claim",
    },
    "835/hdi-api-examples/not_covered_inpatient.dat": {"se-count"},
}

# malformed/: the code strict mode stops with, and codes collect mode must also find.
MALFORMED = {
    "malformed/badx12_bad_file.edi": ("not-x12", {"not-x12"}),
    "malformed/badx12_error_validation.edi": (
        "not-835",
        {"not-835", "se-control", "se-count", "ge-count", "iea-control", "iea-count"},
    ),
    "malformed/badx12_segment_terminator.edi": ("truncated", {"truncated"}),
    "malformed/badx12_unknown_segment_error.edi": ("not-835", {"outside-envelope"}),
    "malformed/e835p_blue_cross_nc_no_envelope.txt": ("missing-isa", {"missing-isa"}),
    "malformed/hdi_835-validation-issues.edi": (
        "missing-segment",
        {"missing-segment", "unexpected-segment", "se-count", "unbalanced-line"},
    ),
    "malformed/lfh_demo_bad_cas_segment_id.835": ("bad-segment-id", {"bad-segment-id"}),
    "malformed/pyx12_bad_header_looping_835_4010.txt": (
        "version-4010",
        {"version-4010", "unexpected-segment"},
    ),
    "malformed/pyx12_bad_header_looping_835_4010.expected997.txt": ("not-835", {"not-835"}),
    "malformed/pyx12_mult_isa_empty_835s.txt": ("not-835", {"not-835", "version-4010"}),
}


def corpus_files(corpus: Path) -> list[str]:
    """Every X12 corpus file, relative to corpus/x12, in a stable order.

    ``*.997`` files are skipped: pyx12's validator writes one next to the file it checks, so
    they may appear in the shared folder; they are not corpus samples.
    """
    root = corpus / "x12"
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.suffix not in (".md", ".997")
    )


def naive_claims(data: bytes) -> tuple[int, Decimal]:
    """Claim count and sum of CLP04 by plain splitting — independent of gateway.x12."""
    text = data.decode("latin-1").lstrip("\ufeff\r\n ")
    terminator, separator = text[105], text[3]
    count, total = 0, Decimal(0)
    for raw in text.split(terminator):
        elements = raw.strip().split(separator)
        if elements[0] == "CLP":
            count += 1
            total += Decimal(elements[4])
    return count, total


def outcome(corpus: Path, name: str) -> tuple[list, list[Finding], InputError | None]:
    """(remittances, findings in collect mode, the strict-mode error or None)."""
    path = corpus / "x12" / name
    findings: list[Finding] = []
    with path.open("rb") as stream:
        remittances = list(read_835(stream, file_name=path.name, findings=findings))
    error = None
    try:
        with path.open("rb") as stream:
            for _ in read_835(stream, file_name=path.name):
                pass
    except InputError as exc:
        error = exc
    return remittances, findings, error


def table(corpus: Path) -> str:
    """The markdown table of docs/x12-corpus.md: file -> outcome."""
    rows = ["| file | outcome |", "|---|---|"]
    for name in corpus_files(corpus):
        remittances, findings, error = outcome(corpus, name)
        claims = sum(len(r.claims) for r in remittances)
        total = sum((r.total_claim_paid for r in remittances), Decimal(0))
        parsed = f"{len(remittances)} remittances, {claims} claims, CLP04 total {total}"
        if error is None:
            warnings = sorted({f.code for f in findings if not f.fatal})
            note = f" (warnings: {', '.join(warnings)})" if warnings else ""
            rows.append(f"| {name} | parsed: {parsed}{note} |")
        else:
            codes = sorted({f.code for f in findings if f.fatal})
            message = str(error).replace("|", "\\|")
            rows.append(
                f"| {name} | **{error.code}**: {message} — all defects: {', '.join(codes)};"
                f" read anyway: {parsed} |"
            )
    return "\n".join(rows) + "\n"
