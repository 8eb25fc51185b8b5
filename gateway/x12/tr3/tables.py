"""The compiled guide tables: cached on disk, loaded into small node objects.

A guide's tables are compiled from pyx12's map XML (:mod:`.map_compiler`) the first time they
are needed and written to the cache directory under a name that carries a digest of every
input (the map, ``dataele.xml``, ``codes.xml``, the compiler version and the corrections), so
a new pyx12 release or a changed correction compiles afresh and a stale table is never read.
The cache is ``$GATEWAY_TR3_CACHE``, else ``$XDG_CACHE_HOME/psao-gateway/tr3``, else
``~/.cache/psao-gateway/tr3``; when it cannot be written the tables are compiled in memory.

pyx12 therefore stays a runtime dependency, but only as the source of the guide data (its
maps are the one open, maintained, machine-readable copy of the 005010 guides); none of its
code runs while validating.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from gateway.fsutil import atomic_write
from gateway.log import get_logger
from gateway.x12.tr3.corrections import CORRECTIONS_VERSION, correct
from gateway.x12.tr3.map_compiler import COMPILER_VERSION, compile_map, map_index

CONTROL_MAPS = {"00501": "x12.control.00501.xml", "00401": "x12.control.00401.xml"}
# Loop types that are pyx12's own grouping, not loops of the guide (no IK303 loop id).
_NOT_GUIDE_LOOPS = {"wrapper", "explicit"}


@dataclass(eq=False)
class Element:
    """A simple element of a segment or of a composite (``composite`` is its parent)."""

    refdes: str
    name: str
    usage: str
    seq: int
    data_ele: str
    type: str
    min: int
    max: int
    codes: frozenset[str]
    external: str | None
    regex: re.Pattern[str] | None
    composite: Composite | None = None


@dataclass(eq=False)
class Composite:
    refdes: str
    name: str
    usage: str
    seq: int
    children: list[Element]


@dataclass(eq=False)
class Node:
    """A loop, a segment or the root of a guide, with its counter ``slot`` (see Guide)."""

    index: int
    kind: str
    id: str
    name: str
    usage: str
    pos: int
    max: int
    path: str
    loop_type: str | None
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    key: tuple[int, int | None, frozenset[str]] | None = None
    elements: list[Element | Composite] = field(default_factory=list)
    syntax: list[tuple[Any, ...]] = field(default_factory=list)
    slot: int = -1
    # Per segment id, the positions its nodes match on (shared by all nodes of a guide).
    match_keys: dict[str, tuple[tuple[int, int | None], ...]] = field(default_factory=dict)
    guide: Guide | None = None

    @property
    def is_loop(self) -> bool:
        return self.kind == "loop"

    @property
    def is_segment(self) -> bool:
        return self.kind == "segment"

    def first_node(self) -> Node | None:
        return self.children[0] if self.children else None

    def first_segment(self) -> Node | None:
        first = self.first_node()
        return first if first is not None and first.is_segment else None

    def loop(self) -> Node:
        """The closest enclosing loop (or the root) of a node."""
        node = self.parent
        while node is not None and node.kind == "segment":
            node = node.parent
        assert node is not None, "every node but the root has a loop or the root above it"
        return node

    def guide_loop_id(self) -> str | None:
        """The guide's loop id (1000A, 2100, ...) this node is in, for IK303; None outside."""
        node: Node | None = self if self.is_loop else self.parent
        while node is not None and node.kind == "loop":
            if node.loop_type not in _NOT_GUIDE_LOOPS:
                return node.id
            node = node.parent
        return None


@dataclass(eq=False)
class Guide:
    """One compiled map: its nodes, the ISA12 it is for, its external code lists."""

    map_file: str
    id: str
    icvn: str | None
    nodes: list[Node]
    external: dict[str, frozenset[str]]

    @property
    def root(self) -> Node:
        return self.nodes[0]

    def node_at(self, path: str) -> Node:
        for node in self.nodes:
            if node.path == path:
                return node
        raise KeyError(f"{self.map_file} has no node {path}")


class MapDirectory:
    """The guides of one pyx12 map directory, compiled once each and cached."""

    def __init__(self, map_dir: Path | None = None, cache_dir: Path | None = None) -> None:
        self.map_dir = map_dir or Path(str(files("pyx12").joinpath("map")))
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.index: dict[tuple[str | None, str | None, str | None], str] = map_index(
            self.map_dir)  # type: ignore[assignment]
        self._guides: dict[str, Guide] = {}

    def guide_for(self, icvn: str | None, gs08: str | None, gs01: str | None) -> Guide | None:
        """The guide a functional group follows (GS01, GS08 under ISA12), None if unknown."""
        map_file = self.index.get((icvn, gs08, gs01))
        return None if map_file is None else self.guide(map_file)

    def control(self, icvn: str | None) -> Guide:
        """The envelope-only map (ISA, GS, GE, TA1, IEA) of an interchange version."""
        return self.guide(CONTROL_MAPS["00501" if icvn == "00501" else "00401"])

    def guide(self, map_file: str) -> Guide:
        if map_file not in self._guides:
            self._guides[map_file] = build_guide(self._tables(map_file))
        return self._guides[map_file]

    def _tables(self, map_file: str) -> dict[str, Any]:
        digest = self._digest(map_file)
        cached = self.cache_dir / f"{map_file}.{digest}.json" if self.cache_dir else None
        if cached is not None and cached.is_file():
            return json.loads(cached.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
        tables = correct(compile_map(map_file, self.map_dir))
        if cached is not None:
            _write_cache(cached, tables)
        return tables

    def _digest(self, map_file: str) -> str:
        digest = hashlib.sha256(f"{COMPILER_VERSION}.{CORRECTIONS_VERSION}".encode())
        for name in (map_file, "dataele.xml", "codes.xml"):
            digest.update((self.map_dir / name).read_bytes())
        return digest.hexdigest()[:16]


def default_cache_dir() -> Path:
    explicit = os.environ.get("GATEWAY_TR3_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "psao-gateway" / "tr3"


def _write_cache(path: Path, tables: dict[str, Any]) -> None:
    """Write the tables beside their final name and rename (a reader never sees half)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, prefix=f".{path.name}.", durable=False, mode=0o666) as pending:
            pending.file.write(json.dumps(tables, separators=(",", ":")).encode("utf-8"))
    except OSError as exc:  # a read-only home: compile in memory every run, say so once
        get_logger(component="tr3").warning("tr3_cache_unwritable", path=str(path.parent),
                                             error=str(exc))


def build_guide(tables: dict[str, Any]) -> Guide:
    """Node objects from the compiled tables (children linked, elements typed)."""
    nodes = [_node(index, raw) for index, raw in enumerate(tables["nodes"])]
    guide = Guide(tables["map"], tables["id"], tables["icvn"], nodes,
                  {name: frozenset(codes) for name, codes in tables["external"].items()})
    keys: dict[str, tuple[tuple[int, int | None], ...]] = {}
    for node, raw in zip(nodes, tables["nodes"], strict=True):
        node.guide = guide
        node.children = [nodes[i] for i in raw["children"]]
        node.parent = None if raw["parent"] is None else nodes[raw["parent"]]
        node.match_keys = keys
        if node.key is not None and node.key[:2] not in keys.get(node.id, ()):
            keys[node.id] = (*keys.get(node.id, ()), (node.key[0], node.key[1]))
    return guide


def _node(index: int, raw: dict[str, Any]) -> Node:
    node = Node(index, raw["kind"], raw["id"] or "", raw["name"] or "", raw["usage"] or "",
                raw["pos"], raw["max"], raw["path"], raw.get("type"))
    if raw["kind"] == "segment":
        key = raw["key"]
        node.key = None if key is None else (key[0], key[1], frozenset(key[2]))
        node.elements = [_composite(e) if e["kind"] == "composite" else _element(e)
                         for e in raw["elements"]]
        node.syntax = [tuple(rule) for rule in raw["syntax"]]
    return node


def _element(raw: dict[str, Any], composite: Composite | None = None) -> Element:
    return Element(raw["refdes"] or "", raw["name"] or "", raw["usage"] or "", raw["seq"],
                   raw["data_ele"], raw["type"] or "", raw["min"], raw["max"],
                   frozenset(c for c in raw["codes"] if c is not None), raw["external"],
                   _regex(raw["regex"]), composite)


def _composite(raw: dict[str, Any]) -> Composite:
    composite = Composite(raw["refdes"] or "", raw["name"] or "", raw["usage"] or "",
                          raw["seq"], [])
    composite.children = [_element(e, composite) for e in raw["children"]]
    return composite


@lru_cache(maxsize=256)
def _regex(source: str | None) -> re.Pattern[str] | None:
    return None if not source else re.compile(source, re.S)
