"""The content-based router's decisions, as pure functions over the roster."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gateway.config.members import load_roster
from gateway.config.psao import Psao
from gateway.routing.plan import idempotency_key, plan_deliveries
from gateway.routing.policy import ProviderPolicy, RosterPolicy
from gateway.x12.split.parts import Owner, PartSource, Payee, ProviderRef, SplitPart

REPO = Path(__file__).resolve().parent.parent
ROSTER = load_roster(REPO / "partners" / "members.csv")
PSAO = Psao("EXAMPLE PSAO", "ZZ", "EXAMPLEPSAO", "EXAMPLEPSAO", npi="1234567893",
            tin="990000001")
LEE = Payee("LEE DRUG PHARMACY 1", "XX", "1000061600", "1000013", "562978562")


def test_payee_found_by_npi_then_ncpdp_then_tin() -> None:
    policy = RosterPolicy(ROSTER, PSAO)
    assert policy.find_payee(LEE).pharmacy_id == "1000013"  # type: ignore[union-attr]
    by_ncpdp = Payee("X", "XV", "PLANID", ncpdp_id="1000063")
    assert policy.find_payee(by_ncpdp).pharmacy_id == "1000063"  # type: ignore[union-attr]
    by_tin = Payee("X", "FI", "132561583", tin="132561583")
    assert policy.find_payee(by_tin).pharmacy_id == "1000080"  # type: ignore[union-attr]


def test_qualified_references_use_only_their_index() -> None:
    policy = RosterPolicy(ROSTER)
    assert policy.find(ProviderRef("XX", "1000061600")).pharmacy_id == "1000013"  # type: ignore[union-attr]
    assert policy.find(ProviderRef("XX", "1000013")) is None  # an NCPDP id is not an NPI
    assert policy.find(ProviderRef("", "1000013")).npi == "1000061600"  # type: ignore[union-attr]
    assert policy.find(ProviderRef("FI", "858255766")).pharmacy_id == "1000063"  # type: ignore[union-attr]


def test_a_tin_shared_by_a_chain_does_not_route(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(
        "pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats\n"
        "A,A,1234567893,1000001,111111111,true,folder:/a,835\n"
        "B,B,1000061600,1000002,111111111,true,folder:/b,835\n"
    )
    policy = RosterPolicy(load_roster(path))
    assert policy.find(ProviderRef("FI", "111111111")) is None
    assert policy.find(ProviderRef("", "111111111")) is None


def test_whole_set_decisions() -> None:
    policy = RosterPolicy(ROSTER, PSAO)
    member = policy.whole_owner(LEE, frozenset({ProviderRef("XX", "1000116859")}))
    assert member is not None and member.pharmacy_id == "1000013"  # a member payee takes all
    psao = Payee("EXAMPLE PSAO", "XX", "1234567893")
    assert policy.whole_owner(psao, frozenset()) is None  # central pay: split
    stranger = Payee("SOMEONE", "XX", "1999999993")
    held = policy.whole_owner(stranger, frozenset())
    assert held is not None and held.held_reason == "payee 1999999993 is not in the member roster"
    agent = policy.whole_owner(stranger, frozenset({ProviderRef("XX", "1000061600")}))
    assert agent is None  # a payment agent naming pharmacies inside: split
    inactive = policy.whole_owner(Payee("J", "XX", "1000096770"), frozenset())
    assert inactive is not None and inactive.held_reason == "member 1000039 is inactive"
    assert inactive.destination == "folder:/srv/pharmacies/1000039/inbox"  # release goes there


def test_without_a_roster_every_provider_is_an_owner() -> None:
    policy = ProviderPolicy(PSAO)
    assert policy.whole_owner(LEE, frozenset()).npi == "1000061600"  # type: ignore[union-attr]
    assert policy.whole_owner(LEE, frozenset({ProviderRef("XX", "1000116859")})) is None
    owner = policy.provider_owner(ProviderRef("", "1000116859"), "JACKSON")
    assert owner.npi == "1000116859" and owner.name == "JACKSON" and not owner.held
    assert policy.is_psao("990000001") and not policy.is_psao("1000061600")


def _part(owner: Owner) -> SplitPart:
    source = PartSource("f.835", "ab" * 32, "0001", 3, 90, 120, 9000)
    zero = Decimal(0)
    return SplitPart(source, owner, "split", 2, zero, zero, zero, zero, None, 20, 1,
                     "key", "x", 10)


def test_deliveries_fan_out_per_format_with_stable_keys() -> None:
    member = RosterPolicy(ROSTER).provider_owner(ProviderRef("XX", "1000053326"), None)
    planned = plan_deliveries([_part(member)])
    assert [p.format for p in planned] == ["835", "csv", "xml", "json"]
    assert len({p.idempotency_key for p in planned}) == 4
    assert planned == plan_deliveries([_part(member)])  # deterministic
    assert planned[0].idempotency_key == idempotency_key(
        _part(member), "folder:/srv/pharmacies/1000003/inbox", "835")
    unknown = RosterPolicy(ROSTER).provider_owner(ProviderRef("XX", "1999999993"), None)
    [held] = plan_deliveries([_part(unknown)])
    assert held.held and held.format == "835"


def test_the_reader_and_the_splitter_route_alike(tmp_path: Path) -> None:
    """Two independent readings of the same file — the canonical model from read_835 and the
    splitter's byte scan — must give the same owners, transaction set by transaction set."""
    from split_support import generate, write_members

    from gateway.routing.policy import owners_of
    from gateway.x12.read.reader import read_835
    from gateway.x12.split.splitter import split_835
    from gateway.x12.split.writers import NullPartWriter
    from gateway.x12.write.control_numbers import MemoryControlNumbers

    for shape in ("single-st", "multi-st"):
        directory = tmp_path / shape
        directory.mkdir()
        source, summary = generate(directory, shape=shape, payees=4, claims=20, seed=51)
        policy = RosterPolicy(load_roster(write_members(directory, summary.pharmacies[1:])))
        result = split_835(source, policy=policy, writer=NullPartWriter(),
                           numbers=MemoryControlNumbers())
        with source.open("rb") as stream:
            remittances = list(read_835(stream))
        from_model = [(r.control_number, o.key) for r in remittances for o in owners_of(r, policy)]
        from_split = [(p.source.control_number, p.owner.key) for p in result.parts]
        assert from_model == from_split, shape
        assert any(p.owner.held for p in result.parts)
