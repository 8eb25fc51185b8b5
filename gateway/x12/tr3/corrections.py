"""Corrections to pyx12's maps, in one place, applied to the compiled tables.

1. **Repeated PLB** (pyx12 4.0.0 rejects an 835 with two PLB segments: "Loop FOOTER exceeded
   max count"). The 835 map puts PLB inside ``FOOTER``, a *wrapper*: a grouping of pyx12's,
   not an X12 loop, declared ``repeat 1``. pyx12 enters the wrapper again for every PLB (a
   loop's first segment always starts a new iteration), so the second PLB exceeds the
   wrapper's count, although the guide lets PLB repeat (max use >1). The fix: a wrapper whose
   every child is a segment allowed more than once may repeat without limit. PLB's own rules
   (usage, syntax, codes) are untouched, and a wrapper holding a once-only segment (HEADER:
   BPR, TRN, ...) keeps its count, so a duplicated header is still reported.

Bump :data:`CORRECTIONS_VERSION` with any change here: cached tables carry it in their name.
"""

from __future__ import annotations

from typing import Any

from gateway.x12.tr3.map_compiler import MAXINT

CORRECTIONS_VERSION = 1


def correct(tables: dict[str, Any]) -> dict[str, Any]:
    """Apply every correction to freshly compiled tables (in place) and return them."""
    _lift_wrappers_of_repeatable_segments(tables["nodes"])
    return tables


def _lift_wrappers_of_repeatable_segments(nodes: list[dict[str, Any]]) -> None:
    for node in nodes:
        if node["kind"] != "loop" or node.get("type") != "wrapper" or not node["children"]:
            continue
        children = [nodes[i] for i in node["children"]]
        if all(c["kind"] == "segment" and c["max"] > 1 for c in children):
            node["max"] = MAXINT
