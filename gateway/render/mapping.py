"""Mapping files: what a rendered format contains, as data.

    name = "remittance-csv"
    kind = "csv"                 # csv | json | xml
    row = "claim"                # csv: one row per claim, or per service "line"
    [[columns]]
    header = "claim_id"
    field = "claim.claim_id"     # a canonical field path

A field path starts at one of the *roots* — ``remittance``, ``payment``, ``payer``,
``payee``, ``group``, ``claim``, ``line``, ``adjustment`` — and follows attribute names of
gateway.model. Paths are checked when the mapping is loaded, so a typo is a ConfigError that
names the file and the column, not an empty column in a pharmacy's file.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway import model
from gateway.config.problems import Problems
from gateway.config.tables import read_toml, text, unknown_keys
from gateway.errors import ConfigError

BUILT_IN = Path(__file__).resolve().parent / "mappings"
KINDS = ("csv", "json", "xml")
ROOTS: dict[str, type] = {
    "remittance": model.Remittance,
    "payment": model.Payment,
    "payer": model.Party,
    "payee": model.Party,
    "group": model.ProviderGroup,
    "claim": model.ClaimPayment,
    "line": model.ServiceLine,
    "adjustment": model.ProviderAdjustment,
}
XML_SECTIONS = ("payment", "payer", "payee", "claim", "line", "adjustment")


@dataclass(frozen=True)
class Field:
    """One output column or element: its name and the canonical path it is filled from."""

    name: str
    path: str

    def value(self, scope: dict[str, Any]) -> str:
        """The field's text for one row (empty when a part of the path is absent)."""
        root, *attributes = self.path.split(".")
        value = scope.get(root)
        for attribute in attributes:
            if value is None:
                return ""
            value = getattr(value, attribute)
        return format_value(value)


@dataclass(frozen=True)
class Mapping:
    name: str
    kind: str
    extension: str
    row: str = "claim"  # csv: claim or line
    columns: tuple[Field, ...] = ()  # csv
    sections: dict[str, tuple[Field, ...]] = dataclasses.field(default_factory=dict)  # xml
    namespace: str | None = None  # xml
    schema: Path | None = None  # xml: the XSD the output must validate against
    file: str = ""


def format_value(value: Any) -> str:
    """Canonical values as text: Decimal exactly, dates ISO, None empty."""
    if value is None:
        return ""
    if isinstance(value, Decimal | str | int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return " ".join(format_value(item) for item in value)
    raise TypeError(f"cannot format {type(value).__name__}")


def find_mapping(name: str, directories: Sequence[Path] = ()) -> Path:
    """The file of mapping ``name``: site directories first, then the built-in ones."""
    for directory in (*directories, BUILT_IN):
        candidate = directory / f"{name}.toml"
        if candidate.is_file():
            return candidate
    known = sorted(
        {p.stem for d in (*directories, BUILT_IN) if d.is_dir() for p in d.glob("*.toml")}
    )
    raise ConfigError(
        f"there is no mapping named {name!r}",
        fix=f"use one of {', '.join(known)} or add {name}.toml to a mappings directory",
    )


def load_mapping(name: str, directories: Sequence[Path] = ()) -> Mapping:
    """Load and check the mapping ``name`` (see :func:`find_mapping`)."""
    path = find_mapping(name, directories)
    problems = Problems(path)
    data = read_toml(path, problems) or {}
    unknown_keys(data, {"name", "kind", "extension", "row", "columns", "namespace", "schema",
                        *XML_SECTIONS}, "", problems)
    kind = text(data, "kind", "", problems) or ""
    if kind and kind not in KINDS:
        problems.add(None, "kind", f"{kind!r} is not a known kind", f"use one of {KINDS}")
    row = data.get("row", "claim")
    if row not in ("claim", "line"):
        problems.add(None, "row", f"{row!r} is not claim or line", 'write row = "claim"')
    allowed = {"remittance", "payment", "payer", "payee", "group", "claim"}
    column_roots = (allowed | {"line"}) if row == "line" else allowed
    columns = _fields(data.get("columns", []), "columns", "header", column_roots, problems)
    sections = {
        section: _fields(data.get(section, []), section, "element",
                         {section} | ({"adjustment"} if section == "adjustment" else set()),
                         problems)
        for section in XML_SECTIONS
    }
    schema_name = data.get("schema")
    schema = path.parent / schema_name if isinstance(schema_name, str) else None
    if kind == "xml" and (schema is None or not schema.is_file()):
        problems.add(None, "schema", f"the XSD {schema_name!r} is not beside the mapping",
                     "name the XSD file (kept in the same directory) in schema = \"...\"")
    if kind == "csv" and not columns:
        problems.add(None, "columns", "a csv mapping needs columns", "add [[columns]] tables")
    problems.raise_if_any()
    return Mapping(
        name=data.get("name", path.stem), kind=kind, extension=data.get("extension", kind),
        row=row, columns=columns, sections=sections, namespace=data.get("namespace"),
        schema=schema, file=str(path),
    )


def _fields(
    entries: Any, key: str, name_key: str, roots: set[str], problems: Problems
) -> tuple[Field, ...]:
    if not isinstance(entries, list):
        problems.add(None, key, "is not a list of tables", f"write [[{key}]] tables")
        return ()
    fields = []
    for number, entry in enumerate(entries, start=1):
        where = f"{key}[{number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get(name_key), str) \
                or not isinstance(entry.get("field"), str):
            problems.add(None, where, f"needs {name_key} and field strings",
                         f'write {name_key} = "..." and field = "claim.claim_id"')
            continue
        error = path_error(entry["field"], roots)
        if error:
            problems.add(None, f"{where}.field", error, "use a canonical field path, e.g. "
                         "claim.paid, payment.trace_number, payee.npi")
            continue
        fields.append(Field(entry[name_key], entry["field"]))
    return tuple(fields)


def path_error(path: str, roots: set[str]) -> str | None:
    """Why a field path does not name a canonical field (None when it does)."""
    root, *attributes = path.split(".")
    if root not in roots:
        return f"{path!r} starts with {root!r}; here it may start with {', '.join(sorted(roots))}"
    current: Any = ROOTS[root]
    for attribute in attributes:
        hints = typing.get_type_hints(current) if dataclasses.is_dataclass(current) else {}
        if attribute not in hints:
            return f"{path!r}: {getattr(current, '__name__', current)} has no field {attribute!r}"
        current = _dataclass_in(hints[attribute])
    if isinstance(current, type) and dataclasses.is_dataclass(current):
        return f"{path!r} names a whole {current.__name__}; name one of its fields"
    return None


def _dataclass_in(hint: Any) -> Any:
    """The model dataclass inside ``X | None`` (or the hint itself)."""
    for argument in typing.get_args(hint) or (hint,):
        if dataclasses.is_dataclass(argument):
            return argument
    return hint
