"""External code lists with their dates: CARC and RARC, as data files an operator can replace.

X12 maintains the Claim Adjustment Reason Codes (CAS02, 05, ... of the 835) and the
Remittance Advice Remark Codes (MIA/MOA remark codes; LQ02 when LQ01 is HE) outside the
guide, adding and retiring codes several times a year: each code has a start date and, once
retired, a stop date. A code is in effect on a day when start <= day < stop, and the day a
remittance is checked against is its group's date (GS04, when the sender made it).

The lists ship in ``code_lists/`` (``lists.toml`` says what each holds, from where, as of
when, and whether it is complete); ``$GATEWAY_CODE_LISTS`` or an explicit directory replaces
them with an operator's full lists in the same layout. What is reported (always warnings — a
retired code is no reason to reject a payment):

* a code outside its dates (``tr3-code-out-of-date``), from any list;
* a code not on a *complete* list (``tr3-code-unknown``); an incomplete list cannot tell;
* where pyx12 itself checks a list (the MIA/MOA remark codes), a code not on the list, as
  pyx12 does (``tr3-invalid-code``, a warning while the list is incomplete).
"""

from __future__ import annotations

import bisect
import csv
import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path

from gateway.errors import ConfigError
from gateway.x12.tr3.fast_match import Accepted
from gateway.x12.tr3.tables import Element, Node

LISTS_FILE = "lists.toml"


@dataclass(frozen=True)
class Binding:
    """Which list an element's codes come from; ``pyx12`` when pyx12 checks it too (its
    external list), ``when``: (element position, value) that must hold (LQ01 = HE)."""

    list_name: str
    pyx12: bool = False
    when: tuple[int, str] | None = None


def binding_of(node: Node, spec: Element) -> Binding | None:
    """The 835's code-list elements (facts of the guide, not configuration)."""
    if spec.external == "remark_code":
        return Binding("rarc", pyx12=True)
    if spec.data_ele == "1034" and spec.composite is None:
        return Binding("carc")
    if node.id == "LQ" and spec.seq == 2:
        return Binding("rarc", when=(1, "HE"))
    return None


@dataclass(frozen=True)
class CodeList:
    name: str
    title: str
    complete: bool
    as_of: str
    source: str
    dates: dict[str, tuple[date | None, date | None]]  # code -> (start, stop)

    def in_effect(self, code: str, on: date | None) -> bool | None:
        """True/False for a listed code on ``on`` (any day when None); None when unlisted."""
        if code not in self.dates:
            return None
        start, stop = self.dates[code]
        return on is None or ((start is None or start <= on) and (stop is None or on < stop))

    def accepted(self, on: date | None, *, pyx12: bool) -> Accepted:
        """What the fast path may accept for an element bound to this list on ``on``."""
        current = frozenset(c for c in self.dates if self.in_effect(c, on))
        if self.complete or pyx12:
            return Accepted(current)
        return Accepted(None, frozenset(self.dates) - current)


class CodeLists:
    """The loaded lists, and the dates on which any of their codes starts or stops."""

    def __init__(self, lists: dict[str, CodeList]) -> None:
        self.lists = lists
        self._changes = sorted({d for cl in lists.values() for pair in cl.dates.values()
                                for d in pair if d is not None})

    def era(self, on: date | None) -> int:
        """Days of the same era have the same codes in effect (-1: no date known)."""
        return -1 if on is None else bisect.bisect_right(self._changes, on)

    def get(self, name: str) -> CodeList | None:
        return self.lists.get(name)


def group_date(gs04: str | None) -> date | None:
    """GS04 (CCYYMMDD) as a date, None when it is not one."""
    try:
        return datetime.strptime(gs04 or "", "%Y%m%d").date()
    except ValueError:
        return None


def load_code_lists(directory: Path | None = None) -> CodeLists:
    """The lists of ``directory``, else $GATEWAY_CODE_LISTS, else the ones shipped."""
    if directory is None and os.environ.get("GATEWAY_CODE_LISTS"):
        directory = Path(os.environ["GATEWAY_CODE_LISTS"])
    folder = directory or Path(str(files("gateway.x12.tr3").joinpath("code_lists")))
    index = folder / LISTS_FILE
    if not index.is_file():
        raise ConfigError(f"{index} does not exist",
                          fix=f"a code-list directory needs a {LISTS_FILE} (see the shipped one)")
    try:
        described = tomllib.loads(index.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{index}: {exc}", fix="correct the TOML syntax") from None
    lists = {}
    for name, meta in described.items():
        for key in ("title", "file", "complete"):
            if key not in meta:
                raise ConfigError(f"{index}: [{name}] has no {key}",
                                  fix=f"add {key} = ... to [{name}]")
        if not isinstance(meta["complete"], bool):
            raise ConfigError(f"{index}: [{name}] complete must be true or false",
                              fix="write complete = true only for a full list")
        lists[name] = CodeList(name, str(meta["title"]), meta["complete"],
                               str(meta.get("as_of", "")), str(meta.get("source", "")),
                               _read_dates(folder / str(meta["file"])))
    return CodeLists(lists)


def _read_dates(path: Path) -> dict[str, tuple[date | None, date | None]]:
    if not path.is_file():
        raise ConfigError(f"{path} does not exist", fix="put the list's CSV beside lists.toml")
    out: dict[str, tuple[date | None, date | None]] = {}
    with open(path, encoding="utf-8", newline="") as stream:
        rows = csv.DictReader(stream)
        if not rows.fieldnames or not {"code", "start", "stop"} <= set(rows.fieldnames):
            raise ConfigError(f"{path}, line 1: the header must name code, start and stop",
                              fix="use the columns code,start,stop[,source]")
        for line, row in enumerate(rows, 2):
            code = (row["code"] or "").strip()
            if not code:
                raise ConfigError(f"{path}, line {line}: code is empty", fix="give the code")
            if code in out:
                raise ConfigError(f"{path}, line {line}: code {code} is listed twice",
                                  fix="keep one line per code")
            out[code] = (_date(path, line, "start", row["start"]),
                         _date(path, line, "stop", row["stop"]))
    return out


def _date(path: Path, line: int, key: str, text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    for form in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ConfigError(f"{path}, line {line}: {key} {text!r} is not a date",
                      fix="write dates as YYYY-MM-DD (or MM/DD/YYYY)")
