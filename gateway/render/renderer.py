"""One entry point: render remittances with a mapping, and check XML against its schema."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from gateway.errors import InputError, Location
from gateway.model import Remittance
from gateway.render.csv_rows import render_csv
from gateway.render.json_document import render_json
from gateway.render.mapping import Mapping
from gateway.render.xml_document import render_xml

_RENDERERS = {"csv": render_csv, "json": render_json, "xml": render_xml}


def render(remittances: Iterable[Remittance], mapping: Mapping, out: BinaryIO) -> None:
    """Write ``remittances`` to ``out`` in the mapping's format."""
    _RENDERERS[mapping.kind](remittances, mapping, out)


@cache
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def check_xml(path: Path, mapping: Mapping) -> None:
    """Validate a rendered XML file against the mapping's XSD; InputError when it fails."""
    assert mapping.schema is not None
    schema = _schema(mapping.schema)
    document = etree.parse(str(path))
    if not schema.validate(document):
        error = schema.error_log.last_error
        assert error is not None  # validate() returned False, so it logged why
        raise InputError(
            f"the XML does not match {mapping.schema.name}: {error.message}",
            code="xml-schema", where=Location(file=str(path), record_number=error.line),
            fix=f"correct the mapping {mapping.file} or the schema together",
        )
