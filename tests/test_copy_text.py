"""copy_text (the ledger's COPY batches as one block of text) stores in PostgreSQL exactly what
psycopg's write_row of the same rows stores: every escape (backslash, tab, newline, carriage
return, a literal ``\\N``), None, the empty string, dates, negative and large integers,
non-ASCII text — and the ledger's own fact rows, in its own tables' column types.
"""

from __future__ import annotations

import io
from datetime import date
from typing import NamedTuple

import psycopg
import pytest

from gateway.reconcile import facts
from gateway.reconcile.config import load_reconcile_config
from gateway.reconcile.copy_text import copy_text
from gateway.reconcile.ledger import TABLES
from gateway.synth.x12_835 import Spec, write_835
from gateway.x12.read.reader import iter_835


class Row(NamedTuple):
    id: int
    text: str | None
    number: int | None
    day: date | None
    other: str


AWKWARD_TEXT = [
    "plain", "", "\\", "\\\\", "a\\b", "\t", "a\tb", "\n", "a\nb", "\r", "a\r\nb", "\\N", "\\n",
    "N", "None", "\\.", "end\\", "\t\\N\t", "é", "naïve café", "日本語", "💊 rx", "\x0b\x0c",
    "\x1f", "\x85", "\u2028", "tab\tnew\nline\rback\\slash", " leading and trailing ",
]
NUMBERS = [0, 1, -1, -45, 2**62, -(2**63), 123456789012, None]
DAYS = [date(2026, 1, 5), date(1, 1, 1), date(9999, 12, 31), date(2024, 2, 29), None]


def _rows() -> list[Row]:
    return [Row(n, text, NUMBERS[n % len(NUMBERS)], DAYS[n % len(DAYS)],
                AWKWARD_TEXT[(n * 7) % len(AWKWARD_TEXT)])
            for n, text in enumerate([*AWKWARD_TEXT, None, None])]


def _stored(db: psycopg.Connection, table: str, like: str, rows: list, how: str) -> list:
    """What PostgreSQL holds after COPYing ``rows`` into a fresh temporary table."""
    db.execute(f"CREATE TEMP TABLE {table} (LIKE {like})")
    with db.cursor().copy(f"COPY {table} FROM STDIN") as copy:
        if how == "write_row":
            for row in rows:
                copy.write_row(row)
        else:
            copy.write(copy_text(rows))
    return db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()


@pytest.fixture
def db(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute("CREATE TEMP TABLE awkward (id bigint, text text, number bigint, "
                           "day date, other text NOT NULL)")
        yield connection


@pytest.mark.parametrize("shape", [Row, tuple], ids=["namedtuple", "plain-tuple"])
def test_awkward_values_are_stored_as_write_row_stores_them(db, shape):
    rows = [shape(row) if shape is tuple else row for row in _rows()]
    expected = _stored(db, "by_rows", "awkward", rows, "write_row")
    assert len(expected) == len(rows)
    assert _stored(db, "by_text", "awkward", rows, "copy_text") == expected
    assert [r[1] for r in expected if r[0] < len(AWKWARD_TEXT)] == AWKWARD_TEXT  # as sent


@pytest.mark.parametrize("index", range(len(AWKWARD_TEXT)))
def test_one_awkward_value_in_a_batch_of_plain_ones(db, index):
    """The check over the whole block finds a single special character among plain rows."""
    rows = [Row(n, "plain", n, date(2026, 1, 5), "x") for n in range(50)]
    rows[17] = Row(17, AWKWARD_TEXT[index], None, None, AWKWARD_TEXT[-index])
    expected = _stored(db, "by_rows", "awkward", rows, "write_row")
    assert _stored(db, "by_text", "awkward", rows, "copy_text") == expected


def test_the_ledgers_fact_rows_in_its_own_tables(db):
    text = io.StringIO()
    write_835(text, Spec(shape="single-st", payees=4, claims=300, seed=2, reversal_rate=0.3,
                         denial_rate=0.2, compound_rate=0.5, plb_rate=1.0))
    maker = facts.X12Facts(9, "acme", load_reconcile_config(None), lambda i: f"m\\{i}\t")
    by_kind: dict[type, list] = {}
    for item in iter_835(io.BytesIO(text.getvalue().encode()), file_name="x.835"):
        for fact in maker.of(item):
            by_kind.setdefault(type(fact), []).append(fact)
    assert set(by_kind) == {facts.PaymentFact, facts.ClaimPaymentFact, facts.LineFact,
                            facts.PlbFact}
    for kind, awkward in by_kind.items():  # pharmacy ids with a backslash and a tab...
        plain = [r._replace(pharmacy="p") if "pharmacy" in r._fields else r for r in awkward]
        for name, rows in (("awkward", awkward), ("plain", plain)):  # ...and without
            like, table = f"ledger_{TABLES[kind]}", f"{kind.__name__}_{name}"
            expected = _stored(db, f"r_{table}", like, rows, "write_row")
            assert len(expected) == len(rows)
            assert _stored(db, f"t_{table}", like, rows, "copy_text") == expected


def test_the_text_itself():
    day = date(2026, 1, 5)
    assert copy_text([]) == ""
    assert copy_text([Row(1, "a", -2, day, "")]) == "1\ta\t-2\t2026-01-05\t\n"
    assert copy_text([Row(1, None, None, None, "x")]) == "1\t\\N\t\\N\t\\N\tx\n"
    assert copy_text([(1, "\\N", "a\tb\nc\rd\\e")]) == "1\t\\\\N\ta\\tb\\nc\\rd\\\\e\n"
    assert copy_text([(None,), ("",)]) == "\\N\n\n"
