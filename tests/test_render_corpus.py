"""Rendering the corpus 835s (and split parts) as CSV, JSON and XML through the mappings.

The XML must validate against the mapping's XSD (lxml); the CSV must read back to the same
totals (claim count and sum of paid); the JSON must carry the same remittances.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import ConfigError, InputError
from gateway.model import Remittance
from gateway.render.mapping import load_mapping
from gateway.render.renderer import check_xml, render
from gateway.x12.read.reader import read_835
from gateway.x12.syntax.findings import Finding


def _corpus_files(corpus: Path) -> list[Path]:
    x12 = corpus / "x12"
    return sorted(
        p for p in [*(x12 / "835").rglob("*"), *(x12 / "generated").glob("*.835")]
        if p.is_file() and "expected997" not in p.name
    )


def _remittances(path: Path) -> list[Remittance]:
    findings: list[Finding] = []
    with path.open("rb") as stream:
        return list(read_835(stream, file_name=str(path), findings=findings))


def test_corpus_renders_to_csv_xml_and_json_with_the_same_totals(
    shared_corpus: Path, tmp_path: Path
) -> None:
    csv_mapping, xml_mapping = load_mapping("remittance-csv"), load_mapping("remittance-xml")
    json_mapping = load_mapping("remittance-json")
    rendered = 0
    for path in _corpus_files(shared_corpus):
        remittances = _remittances(path)
        if not remittances:
            continue
        rendered += 1
        claims = [c for r in remittances for c in r.claims]
        paid = sum((c.paid for c in claims), Decimal(0))

        out = io.BytesIO()
        render(remittances, csv_mapping, out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8"))))
        assert len(rows) == len(claims), path.name
        assert sum((Decimal(row["paid"]) for row in rows), Decimal(0)) == paid, path.name

        xml_path = tmp_path / f"{path.stem}.xml"
        with xml_path.open("wb") as handle:
            render(remittances, xml_mapping, handle)
        check_xml(xml_path, xml_mapping)
        tree = etree.parse(str(xml_path))
        ns = {"r": xml_mapping.namespace}
        assert len(tree.findall(".//r:Claim", ns)) == len(claims), path.name
        xml_paid = sum((Decimal(e.text) for e in tree.findall(".//r:Claim/r:Paid", ns)),
                       Decimal(0))
        assert xml_paid == paid, path.name

        out = io.BytesIO()
        render(remittances, json_mapping, out)
        document = json.loads(out.getvalue())
        assert [d["control_number"] for d in document] == [r.control_number for r in remittances]
    assert rendered >= 15  # the corpus has ~20 parseable 835s


def test_xsd_rejects_what_the_mapping_must_not_write(tmp_path: Path) -> None:
    """The schema is a real check: a non-decimal amount fails validation."""
    mapping = load_mapping("remittance-xml")
    path = tmp_path / "bad.xml"
    path.write_text(
        '<Remittances xmlns="urn:psao-gateway:remittance:1"><Remittance controlNumber="1">'
        "<Payment><Amount>12,50</Amount></Payment><Payer/><Payee/></Remittance></Remittances>"
    )
    with pytest.raises(InputError, match=r"does not match remittance\.xsd"):
        check_xml(path, mapping)


def test_a_new_format_is_a_new_mapping_file(tmp_path: Path) -> None:
    """A pharmacy system's own layout: a TOML file in a site mappings directory, no code."""
    (tmp_path / "pioneer-csv.toml").write_text(
        'kind = "csv"\nrow = "line"\n'
        '[[columns]]\nheader = "RX"\nfield = "claim.claim_id"\n'
        '[[columns]]\nheader = "NDC"\nfield = "line.product_id"\n'
        '[[columns]]\nheader = "LINE_PAID"\nfield = "line.paid"\n'
        '[[columns]]\nheader = "PATIENT"\nfield = "claim.patient.last_name"\n'
    )
    mapping = load_mapping("pioneer-csv", [tmp_path])
    assert mapping.row == "line" and [c.name for c in mapping.columns][1] == "NDC"


def test_a_misspelt_field_path_is_a_config_error_naming_the_column(tmp_path: Path) -> None:
    (tmp_path / "typo.toml").write_text(
        'kind = "csv"\n[[columns]]\nheader = "paid"\nfield = "claim.payd"\n'
        '[[columns]]\nheader = "ndc"\nfield = "line.product_id"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping("typo", [tmp_path])
    message = str(caught.value)
    assert "columns[1].field" in message and "no field 'payd'" in message
    assert "columns[2].field" in message  # line.* needs row = "line"


def test_unknown_mapping_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="remittance-csv"):
        load_mapping("no-such-format")


def test_the_example_site_mapping_renders_one_row_per_line(shared_corpus: Path) -> None:
    repo_mappings = Path(__file__).resolve().parent.parent / "mappings"
    mapping = load_mapping("line-csv", [repo_mappings])
    path = shared_corpus / "x12" / "generated" / "pharmacy_reversals_denials_plb.835"
    remittances = _remittances(path)
    out = io.BytesIO()
    render(remittances, mapping, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8"))))
    lines = [line for r in remittances for c in r.claims for line in c.service_lines]
    assert len(rows) == len(lines) and all(len(row["ndc"]) == 11 for row in rows)
