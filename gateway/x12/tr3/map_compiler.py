"""Compile a pyx12 implementation-guide map (XML) into the validator's plain tables.

pyx12 ships the 005010X221A1 guide (and the others it knows) as XML: a tree of loops and
segments, each segment a list of elements and composites, each element a data element
number (type and lengths come from ``dataele.xml``), a usage, and its codes (inline or an
external list from ``codes.xml``). Reading that tree with pyx12's own classes at run time is
what makes pyx12 slow, so we read the XML once with lxml and flatten it into lists and dicts
(JSON-able, cached on disk by :mod:`.tables`): the loop tree as indexed nodes in pyx12's
scanning order, each node's counter path, each segment's match key, elements and syntax rules.

What "the same as pyx12" means here is spelled out where it matters, because the validator
must report what pyx12 reports (the differential tests hold it to that):

* children are scanned in ``pos`` order, loops before segments at the same ``pos``, then in
  document order (pyx12 fills its ``pos_map`` loops first);
* a node's *path* is its loop path plus its id, plus ``[code]`` (the first code of its match
  element) when it shares its ``pos`` with another node — pyx12 counts repeats per path, so
  two nodes with the same path share one count;
* a segment *matches* a data segment when the ids are equal and, if it has a match key
  (element 01 when it is a required ID with codes, else the first component of composite 01,
  ENT02 or HL03 in those guides), the value is one of the key's codes.

Known defects of the map are corrected in :mod:`.corrections`, in one place, after compiling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

MAXINT = 2147483647  # pyx12's "unbounded" repeat count
COMPILER_VERSION = 1  # bump when the table layout or its meaning changes (invalidates caches)


class MapError(Exception):
    """A map file that cannot be compiled (missing file, unknown data element, bad XML)."""


def compile_map(map_file: str, map_dir: Path) -> dict[str, Any]:
    """The tables of one map: ``{"map", "id", "icvn", "nodes", "external"}``.

    ``nodes[0]`` is the root; every node has ``kind`` (root/loop/segment), ``id``, ``name``,
    ``usage``, ``pos``, ``max``, ``path``, ``parent`` and ``children`` (node indexes in
    scanning order). Segments add ``key``, ``elements`` and ``syntax``; loops add ``type``.
    """
    data_elements = _read_data_elements(map_dir / "dataele.xml")
    root_xml = _parse(map_dir / map_file)
    nodes: list[dict[str, Any]] = []
    root = {"kind": "root", "id": root_xml.get("xid"), "name": _text(root_xml, "name"),
            "usage": "R", "pos": 0, "max": 1, "path": "/", "parent": None, "children": []}
    nodes.append(root)
    _add_children(nodes, 0, root_xml, data_elements)
    _name_paths(nodes, 0)
    externals = sorted({e["external"] for n in nodes if n["kind"] == "segment"
                        for e in _leaf_elements(n) if e["external"]})
    return {
        "format": COMPILER_VERSION,
        "map": map_file,
        "id": root["id"],
        "icvn": _icvn(nodes),
        "nodes": nodes,
        "external": {name: codes for name, codes in _read_code_lists(map_dir / "codes.xml").items()
                     if name in externals},
    }


def _parse(path: Path) -> Any:
    if not path.is_file():
        raise MapError(f"map file {path} does not exist")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        return etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise MapError(f"map file {path} is not valid XML: {exc}") from None


def _text(elem: Any, name: str) -> str | None:
    """An attribute or, failing that, a child element's text (pyx12 accepts both)."""
    value = elem.get(name)
    if value:
        return str(value)
    child = elem.find(name)
    return None if child is None or child.text is None else str(child.text)


def _required(elem: Any, name: str) -> str:
    value = _text(elem, name)
    if value is None:
        raise MapError(f"<{elem.tag} xid={elem.get('xid')!r}> has no {name}")
    return value


def _add_children(nodes: list[dict[str, Any]], parent: int, elem: Any,
                  data_elements: dict[str, dict[str, Any]]) -> None:
    """Compile the loops and segments under ``elem`` into ``nodes``, in scanning order."""
    made: list[tuple[int, int, int]] = []  # (pos, 0 for loops / 1 for segments, node index)
    for child in elem:
        if child.tag not in ("loop", "segment"):
            continue
        index = len(nodes)
        if child.tag == "loop":
            nodes.append(_loop(child, parent))
            _add_children(nodes, index, child, data_elements)
        else:
            nodes.append(_segment(child, parent, data_elements))
        made.append((nodes[index]["pos"], 0 if child.tag == "loop" else 1, index))
    made.sort(key=lambda entry: entry[:2])  # stable: document order within a (pos, kind)
    nodes[parent]["children"] = [index for _, _, index in made]


def _loop(elem: Any, parent: int) -> dict[str, Any]:
    repeat = _text(elem, "repeat")
    return {
        "kind": "loop", "id": elem.get("xid"), "name": _text(elem, "name"),
        "usage": _text(elem, "usage"), "pos": int(_required(elem, "pos")),
        "max": MAXINT if repeat in (None, ">1", "&gt;1") else int(repeat),
        "type": elem.get("type"), "path": "", "parent": parent, "children": [],
    }


def _segment(elem: Any, parent: int, data_elements: dict[str, dict[str, Any]]) -> dict[str, Any]:
    max_use = _text(elem, "max_use")
    children: dict[int, Any] = {}
    for child in elem:
        if child.tag in ("element", "composite"):
            children[int(_required(child, "seq"))] = child
    elements = [
        _composite(children[seq], data_elements) if children[seq].tag == "composite"
        else _element(children[seq], data_elements, in_composite=False)
        for seq in sorted(children)
    ]
    if [e["seq"] for e in elements] != list(range(1, len(elements) + 1)):
        raise MapError(f"segment {elem.get('xid')} has gaps in its element positions")
    syntax = []
    for rule in elem.findall("syntax"):
        text = (rule.text or "").strip()
        if text and text[0] in "PRCLE":
            syntax.append([text[0], *(int(text[i:i + 2]) for i in range(1, len(text) - 1, 2))])
    node = {
        "kind": "segment", "id": elem.get("xid"), "name": _text(elem, "name"),
        "usage": _text(elem, "usage"), "pos": int(_required(elem, "pos")),
        "max": MAXINT if max_use in (None, ">1") else int(max_use),
        "path": "", "parent": parent, "children": [], "elements": elements, "syntax": syntax,
    }
    node["key"] = _match_key(node)
    return node


def _element(elem: Any, data_elements: dict[str, dict[str, Any]], *,
             in_composite: bool) -> dict[str, Any]:
    number = _text(elem, "data_ele")
    if number not in data_elements:
        raise MapError(f"element {elem.get('xid')} uses undefined data element {number!r}")
    definition = data_elements[number]
    codes_elem = elem.find("valid_codes")
    codes = [] if codes_elem is None else [c.text for c in codes_elem.findall("code")]
    return {
        "kind": "element", "refdes": elem.get("xid"), "name": _text(elem, "name"),
        "usage": _text(elem, "usage"), "seq": int(_required(elem, "seq")),
        "data_ele": number, "type": definition["type"], "min": definition["min"],
        "max": definition["max"], "codes": codes,
        "external": None if codes_elem is None else codes_elem.get("external"),
        "regex": (elem.findtext("regex") or None), "in_composite": in_composite,
    }


def _composite(elem: Any, data_elements: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "composite", "refdes": _text(elem, "refdes") or elem.get("xid"),
        "name": _text(elem, "name"), "usage": _text(elem, "usage"),
        "seq": int(_required(elem, "seq")),
        # pyx12 keeps a composite's elements in document order, not by their seq.
        "children": [_element(e, data_elements, in_composite=True)
                     for e in elem.findall("element")],
    }


def _match_key(segment: dict[str, Any]) -> list[Any] | None:
    """``[element, component or None, codes]`` a data segment must match, or None (any)."""
    elements = segment["elements"]
    first = elements[0] if elements else None
    if first and first["kind"] == "element" and first["type"] == "ID" and first["usage"] == "R" \
            and first["codes"]:
        return [1, None, first["codes"]]
    second = elements[1] if len(elements) > 1 else None
    if segment["id"] == "ENT" and second and second["kind"] == "element" \
            and second["type"] == "ID" and second["codes"]:
        return [2, None, second["codes"]]
    if first and first["kind"] == "composite" and first["children"]:
        inner = first["children"][0]
        if inner["codes"] and (inner["type"] == "ID" or (segment["id"] == "CTX"
                                                           and inner["type"] == "AN")):
            return [1, 1, inner["codes"]]
    third = elements[2] if len(elements) > 2 else None
    if segment["id"] == "HL" and third and third["kind"] == "element" and third["codes"]:
        return [3, None, third["codes"]]
    return None


def _path_code(segment: dict[str, Any]) -> str | None:
    """The code pyx12 appends to the path of a segment that shares its position."""
    elements = segment["elements"]
    first = elements[0] if elements else None
    candidates = []
    if first and first["kind"] == "element" and first["type"] == "ID":
        candidates.append(first)
    if segment["id"] == "ENT" and len(elements) > 1 and elements[1]["kind"] == "element" \
            and elements[1]["type"] == "ID":
        candidates.append(elements[1])
    if first and first["kind"] == "composite" and first["children"] \
            and first["children"][0]["type"] == "ID":
        candidates.append(first["children"][0])
    if segment["id"] == "HL" and len(elements) > 2 and elements[2]["kind"] == "element":
        candidates.append(elements[2])
    for candidate in candidates:
        if candidate["codes"]:
            return str(candidate["codes"][0] or "")
    return None


def _name_paths(nodes: list[dict[str, Any]], parent: int) -> None:
    """Give the children of ``parent`` their counter paths (see the module docstring)."""
    children = nodes[parent]["children"]
    per_pos: dict[int, int] = {}
    for index in children:
        per_pos[nodes[index]["pos"]] = per_pos.get(nodes[index]["pos"], 0) + 1
    base = nodes[parent]["path"].rstrip("/")
    for index in children:
        node = nodes[index]
        name = node["id"] or ""
        if node["kind"] == "segment" and per_pos[node["pos"]] > 1:
            code = _path_code(node)
            if code is not None:
                name += f"[{code}]"
        node["path"] = f"{base}/{name}"
        if node["kind"] == "loop":
            _name_paths(nodes, index)


def _leaf_elements(segment: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for element in segment["elements"]:
        out.extend(element["children"] if element["kind"] == "composite" else [element])
    return out


def _icvn(nodes: list[dict[str, Any]]) -> str | None:
    """The interchange version (ISA12's code) the map is written for."""
    for node in nodes:
        if node["kind"] == "segment" and node["id"] == "ISA" and len(node["elements"]) > 11:
            codes = node["elements"][11].get("codes") or []
            return codes[0] if codes else None
    return None


def _read_data_elements(path: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for elem in _parse(path).iter("data_ele"):
        out[elem.get("ele_num")] = {"type": elem.get("data_type"),
                                    "min": int(elem.get("min_len")),
                                    "max": int(elem.get("max_len"))}
    return out


def _read_code_lists(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for codeset in _parse(path).iter("codeset"):
        name = codeset.findtext("id")
        out[name] = sorted({c.text for c in codeset.iterfind("version/code") if c.text})
    return out


def map_index(map_dir: Path) -> dict[tuple[str, str, str], str]:
    """pyx12's ``maps.xml``: (ISA12, GS08, GS01) -> map file name (the first entry wins, as
    in pyx12, where two 278 maps share a key and would be told apart by BHT02)."""
    out: dict[tuple[str, str, str], str] = {}
    for version in _parse(map_dir / "maps.xml").iter("version"):
        for entry in version.iter("map"):
            out.setdefault((version.get("icvn"), entry.get("vriic"), entry.get("fic")),
                           entry.text)
    return out
