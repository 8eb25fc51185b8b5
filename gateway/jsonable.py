"""Canonical documents as JSON-ready values: money as strings, dates ISO, ids strings.

Money is written as the Decimal's exact text (``"12.50"``, never a float that could round),
dates as ``YYYY-MM-DD``, tuples as lists and nested documents as objects with their field
names, so the JSON is a faithful, stable picture of the model for tools and tests.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any


def to_jsonable(value: Any) -> Any:
    """``value`` (a model dataclass, tuple, Decimal, date, str, int or None) as JSON values."""
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_jsonable(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_jsonable(getattr(value, field.name)) for field in fields(value)}
    raise TypeError(f"cannot express {type(value).__name__} as JSON")
