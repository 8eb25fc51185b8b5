"""Remittances as XML, written incrementally with lxml's ``etree.xmlfile``.

The shape is fixed (and described by the mapping's XSD): Remittances / Remittance (with its
ST02 as ``controlNumber``) / Payment, Payer, Payee, Claim* (with ServiceLine*),
ProviderAdjustment*. Which elements each holds, and from which canonical fields, is the
mapping's. Empty values are left out (every element is optional in the schema). Each
remittance is written and flushed as it comes, so memory holds one remittance, not the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from lxml import etree

from gateway.model import Remittance
from gateway.render.mapping import Field, Mapping


def render_xml(remittances: Iterable[Remittance], mapping: Mapping, out: BinaryIO) -> None:
    ns = mapping.namespace
    tag = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(tag("Remittances"), nsmap={None: ns} if ns else None):
            for remittance in remittances:
                xf.write(_remittance(remittance, mapping, tag))
                xf.flush()


def _remittance(remittance: Remittance, mapping: Mapping, tag: Any) -> etree._Element:
    sections = mapping.sections
    root = etree.Element(tag("Remittance"), controlNumber=remittance.control_number)
    base = {"payment": remittance.payment, "payer": remittance.payer, "payee": remittance.payee}
    for section, element in (("payment", "Payment"), ("payer", "Payer"), ("payee", "Payee")):
        _fill(etree.SubElement(root, tag(element)), sections[section], base, tag)
    for group in remittance.groups:
        for claim in group.claims:
            claim_element = etree.SubElement(root, tag("Claim"))
            _fill(claim_element, sections["claim"], {**base, "claim": claim}, tag)
            for line in claim.service_lines:
                _fill(etree.SubElement(claim_element, tag("ServiceLine")), sections["line"],
                      {"line": line}, tag)
    for adjustment in remittance.provider_adjustments:
        _fill(etree.SubElement(root, tag("ProviderAdjustment")), sections["adjustment"],
              {"adjustment": adjustment}, tag)
    return root


def _fill(
    parent: etree._Element, fields: tuple[Field, ...], scope: dict[str, Any], tag: Any
) -> None:
    for field in fields:
        value = field.value(scope)
        if value:
            etree.SubElement(parent, tag(field.name)).text = value
