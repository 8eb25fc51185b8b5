"""The ledger's 835 facts made in one cheap pass (issue 13) are, value for value, the facts as
they were made before (tests/ledger_reference.py, a frozen copy): on the synthetic generators'
files of every shape (CAS on claims and lines, PLBs, reversals, denials, negative and zero
amounts, several PBM CLP01 rules), on every X12 file of the shared corpus, and on items whose
amounts were swapped for awkward ones — 1, 1.5, 1.50, -0.01, -0, more digits than Decimal's
context holds, and fractions of a cent, which both refuse with the same InputError.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path

import ledger_reference as reference
import pytest
from x12_corpus import corpus_files

from gateway.config.members import load_roster
from gateway.errors import InputError, Location
from gateway.model import ClaimPayment, ProviderAdjustment, TransactionHeader
from gateway.reconcile import amounts, facts
from gateway.reconcile.config import ReconcileConfig, load_reconcile_config
from gateway.reconcile.pharmacies import roster_pharmacy_of
from gateway.synth.recon import ReconSpec
from gateway.synth.recon_files import write_scenario
from gateway.synth.x12_835 import Spec, write_835
from gateway.synth.x12_shapes import generate, make_pool
from gateway.x12.read.reader import iter_835
from gateway.x12.read.transaction import Item

BUILT_IN = load_reconcile_config(None)
AWKWARD = [Decimal(text) for text in (
    "0", "0.00", "-0", "-0.00", "1", "1.5", "1.50", "-0.01", "0.01", "-1.5", "100", "-100.00",
    "12345678.90", "-99999999.99", "1.500", "1.5000000000", "0E-50", "1E+3", "1E-2", "25E-1",
    "999999999999999999.99", "123456789012345678901234567890.12",  # rounded by scaleb, as ever
    "1.000000000000000000000000000000001",  # past the context: scaleb rounds it to 100
    "1.005", "0.001", "-0.005", "12.345", "1E-3", "1E-60",  # fractions of a cent: refused
    "Infinity", "NaN",
)]


def _pharmacy_of(identifier: str) -> str:
    return f"member-{identifier[::-1]}"


def _outcome(run: Callable[[], Iterable[object]]) -> list[str] | tuple[str, str, str]:
    """The facts as their reprs (types and values), or what was raised, word for word."""
    try:
        return [repr(fact) for fact in run()]
    except Exception as exc:  # compared, not swallowed: both sides must raise the same
        details = vars(exc) if isinstance(exc, InputError) else {}
        return type(exc).__name__, str(exc), repr(sorted(details.items()))


def _compare(items: list[Item], config: ReconcileConfig, partner: str,
             pharmacy_of: Callable[[str], str] = _pharmacy_of) -> int:
    """Feed both implementations every item; return how many facts were compared."""
    old = reference.X12Facts(7, partner, config, pharmacy_of)
    new = facts.X12Facts(7, partner, config, pharmacy_of)
    compared = 0
    for n, item in enumerate(items):
        expected = _outcome(lambda item=item: old.of(item))
        assert _outcome(lambda item=item: new.of(item)) == expected, (n, item)
        compared += len(expected) if isinstance(expected, list) else 1
    return compared


def _items(data: bytes) -> list[Item]:
    """Every item the reader yields in collect mode (a refused file: those before)."""
    items: list[Item] = []
    with contextlib.suppress(InputError):
        items.extend(iter_835(io.BytesIO(data), file_name="x.835", findings=[]))
    return items


def _synthetic(spec: Spec) -> list[Item]:
    text = io.StringIO()
    write_835(text, spec)
    return _items(text.getvalue().encode("ascii"))


SPECS = [
    Spec(shape="single-st", payees=12, claims=400, seed=3),
    Spec(shape="multi-st", payees=7, claims=300, seed=4),
    Spec(shape="single-st", payees=3, claims=200, seed=8, reversal_rate=0.4, denial_rate=0.3,
         compound_rate=0.6, dir_rate=0.9, plb_rate=1.0),
    Spec(shape="multi-st", payees=5, claims=200, seed=9, reversal_rate=0.5, denial_rate=0.5,
         compound_rate=0.9, dir_rate=0.5, plb_rate=1.0),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.shape}-{s.seed}")
def test_x12_835_generator_files(spec):
    items = _synthetic(spec)
    assert sum(isinstance(i, ClaimPayment) for i in items) == spec.claims
    recon = load_reconcile_config_of_scenario()
    assert _compare(items, BUILT_IN, "acme") > spec.claims
    for partner in ("pbm-alpha", "pbm-beta", "pbm-gamma"):  # each PBM's CLP01 rule
        _compare(items, recon, partner)


def test_x12_shapes_generator_files():
    pool = make_pool(7)
    claims = 0
    for seed in range(40):
        items = _items(generate(seed, pool).data)
        claims += sum(isinstance(i, ClaimPayment) for i in items)
        _compare(items, BUILT_IN, "acme")
    assert claims > 500


def test_reconciliation_scenario_files(tmp_path):
    written = write_scenario(ReconSpec(seed=3, pharmacies=3, claims=200, weeks=3), tmp_path)
    config = load_reconcile_config(tmp_path)
    pharmacy_of = roster_pharmacy_of(load_roster(tmp_path / "members.csv"))
    x12 = [w for w in written if w.path.suffix == ".835"]
    assert {w.partner for w in x12} == {"pbm-alpha", "pbm-beta", "pbm-gamma"}
    for w in x12:
        assert _compare(_items(w.path.read_bytes()), config, w.partner, pharmacy_of) > 0


def test_every_x12_file_of_the_shared_corpus(shared_corpus: Path):
    compared = 0
    for name in corpus_files(shared_corpus):
        items = _items((shared_corpus / "x12" / name).read_bytes())
        compared += _compare(items, BUILT_IN, "acme")
        compared += _compare(items, load_reconcile_config_of_scenario(), "pbm-beta")
    assert compared > 100


def test_awkward_amounts_and_fractions_of_a_cent_everywhere():
    """Every amount a fact reads swapped, in turn, for each awkward one."""
    items = _synthetic(SPECS[2])
    for shift in range(len(AWKWARD)):
        _compare(list(_with_amounts(items, shift)), BUILT_IN, "acme")


def test_cents_alone_on_awkward_amounts():
    where = Location(file="x.ncpdp", record_number=3)
    values: list[Decimal | None] = [
        *AWKWARD, Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+30"), Decimal("-1E+19"),
        Decimal("99999999999999999999.99"), None]
    values += [Decimal(n).scaleb(-places) for n in (0, 7, -7, 12345, -98765432101)
              for places in range(5)]
    for amount in values:
        assert (_outcome(lambda a=amount: [amounts.cents(a, where)])
                == _outcome(lambda a=amount: [reference.cents(a, where)])), amount
    assert amounts.cents(Decimal("-0.01")) == -1 and amounts.cents(Decimal("1.50")) == 150
    with pytest.raises(InputError, match="fractions of a cent") as refused:
        amounts.cents(Decimal("1.005"), where)
    assert refused.value.code == "amount-precision" and refused.value.location == where


def test_the_pharmacy_of_an_identifier_is_asked_once_per_file():
    asked: list[str] = []

    def pharmacy_of(identifier: str) -> str:
        asked.append(identifier)
        return _pharmacy_of(identifier)

    items = _synthetic(SPECS[0])
    _compare(items, BUILT_IN, "acme", pharmacy_of)
    new = facts.X12Facts(1, "acme", BUILT_IN, pharmacy_of)
    asked.clear()
    for item in items:
        new.of(item)
    assert len(asked) == len(set(asked)) < sum(isinstance(i, ClaimPayment) for i in items) / 10


def load_reconcile_config_of_scenario() -> ReconcileConfig:
    """The reconciliation scenario's three PBMs (rx, rx+fill, rxFILLn CLP01 rules)."""
    import tempfile

    from gateway.synth.recon_files import reconcile_toml

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "reconcile.toml").write_text(reconcile_toml())
        return load_reconcile_config(Path(folder))


def _with_amounts(items: list[Item], shift: int) -> Iterator[Item]:
    """The items with every amount the facts read replaced by AWKWARD ones, in turn."""
    counter = iter(range(shift, 10**9))

    def next_amount() -> Decimal:
        return AWKWARD[next(counter) % len(AWKWARD)]

    def adjusted(adjustments):
        return tuple(dataclasses.replace(a, amount=next_amount()) for a in adjustments)

    for item in items:
        if isinstance(item, ClaimPayment):
            lines = tuple(dataclasses.replace(
                line, billed=next_amount(), paid=next_amount(), units=next_amount(),
                adjustments=adjusted(line.adjustments)) for line in item.service_lines)
            yield dataclasses.replace(
                item, billed=next_amount(), paid=next_amount(),
                patient_responsibility=next_amount(), adjustments=adjusted(item.adjustments),
                service_lines=lines)
        elif isinstance(item, ProviderAdjustment):
            yield dataclasses.replace(item, amount=next_amount())
        elif isinstance(item, TransactionHeader):
            yield dataclasses.replace(
                item, payment=dataclasses.replace(item.payment, amount=next_amount()))
        else:
            yield item
