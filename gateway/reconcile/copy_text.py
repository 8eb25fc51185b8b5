"""Rows as PostgreSQL ``COPY ... FROM STDIN`` text, for the ledger's batches.

psycopg's ``Copy.write_row`` is a few Python calls per row and a dumper per value; a
central pay writes a million rows while the daemon parses it, so the ledger builds each
batch as one block of COPY text instead and sends it with one ``copy.write``. The format is
PostgreSQL's text format: columns separated by tab, rows ended by newline, ``\\N`` for NULL,
and backslash, tab, newline and carriage return inside a value escaped as ``\\\\``, ``\\t``,
``\\n``, ``\\r``. A value is written as ``str(value)``: what ``write_row`` sends for the
ledger's types — str, int and date (ISO) — and nothing else is passed (a bool would be
``True``, not ``t``).

**Cheap when nothing needs escaping, exact when something does.** Each row is one f-string
of its unpacked values (compiled once per row shape, like :func:`gateway.model.
fast_constructor`; a NamedTuple's date fields through a per-batch cache, ``isoformat`` costs
as much as a whole integer column), without escaping. The block is right exactly when its
backslashes are its NULL markers (one each, counted as they are written), its tabs its
separators and its newlines its row ends, and it has no carriage return — counted over the
whole block in C. Otherwise (a value with one of those characters, rare) the batch is built
again escaping every value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from gateway.reconcile.ledger import date_fields

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
Lines = Callable[[Sequence[Sequence[Any]], "_Iso", Callable[[int], None]], list[str]]


class _Iso(dict[date, str]):
    """ISO text of the dates seen in a batch: a file's rows share a few dates."""

    def __missing__(self, day: date) -> str:
        text = self[day] = str(day)  # date.isoformat, and any other value as str() writes it
        return text


def copy_text(rows: Sequence[Sequence[Any]]) -> str:
    """``rows`` (all of one length) as one block of COPY text, each row ended by a newline;
    "" for no rows."""
    if not rows:
        return ""
    kind = type(rows[0])
    dates = date_fields(kind) if hasattr(kind, "_fields") else ()
    nulls: list[int] = []
    lines = _lines(len(rows[0]), dates)(rows, _Iso(), nulls.append)
    lines.append("")
    block = "\n".join(lines)
    if (block.count("\\") == len(nulls) and block.count("\n") == len(rows)
            and block.count("\t") == (len(rows[0]) - 1) * len(rows) and "\r" not in block):
        return block
    return _escaped(rows)


@functools.cache
def _lines(columns: int, dates: tuple[int, ...]) -> Lines:
    """The function making the unescaped lines of rows of ``columns`` values: one f-string
    per row, every value checked for None (which ``null`` counts), ``dates`` through the
    cache."""
    names = [f"v{i}" for i in range(columns)]
    values = [f"dates[{name}]" if i in dates else name for i, name in enumerate(names)]
    fields = ["{(null(0) or NULL) if " + name + " is None else " + value + "}"
              for name, value in zip(names, values, strict=True)]
    row = "\\t".join(fields)  # the separator as an escape in the generated source
    source = ("def lines(rows, dates, null):\n"
              f"    return [f\"{row}\" for {', '.join(names)}, in rows]\n")
    namespace: dict[str, Any] = {"NULL": NULL}
    exec(source, namespace)  # code generation, as dataclasses and fast_constructor do
    lines: Lines = namespace["lines"]
    return lines


def _escaped(rows: Sequence[Sequence[Any]]) -> str:
    """The block with every value escaped: the path for batches with special characters."""
    lines = ["\t".join([NULL if value is None else str(value).translate(_ESCAPES)
                        for value in row]) for row in rows]
    lines.append("")
    return "\n".join(lines)
