"""Remittances as canonical JSON: a list of remittance objects (gateway.jsonable), streamed
one remittance at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import BinaryIO

from gateway.jsonable import to_jsonable
from gateway.model import Remittance
from gateway.render.mapping import Mapping


def render_json(remittances: Iterable[Remittance], mapping: Mapping, out: BinaryIO) -> None:
    out.write(b"[")
    for number, remittance in enumerate(remittances):
        if number:
            out.write(b",\n")
        out.write(json.dumps(to_jsonable(remittance), ensure_ascii=False).encode("utf-8"))
    out.write(b"]\n")
