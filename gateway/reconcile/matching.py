"""Matching claims to payments: a sort-merge of three streams, then pairing inside each Rx.

The ledger streams requests, responses and claim payments, each ordered by (pharmacy, Rx
number). :func:`prescriptions` merges them into one :class:`Prescription` at a time — every
row of one pharmacy's Rx — so memory is bounded by the largest prescription (at most 100
fills and their payments), never by the number of claims.

Inside a prescription (:func:`fills_of`):

1. each response is paired with its request: same transaction code, date of service, batch
   reference (880-K5) and place in the transmission;
2. the pairs are grouped into **fills**, the claim key of the issue: pharmacy + Rx + fill +
   date of service (and the PBM, so a COB claim to a second PBM stays its own claim); a
   response whose request never arrived joins the fill of its date of service;
3. each payment goes to the fill it names: CLP01's fill when the PBM writes one, its date of
   service (DTM*472) when it has one, the same PBM first. A payment that names no fill of the
   prescription is *unmatched* (paid without a matching claim).

Reversals need no pairing: a B2 is an adjudication of its fill, a CLP02=22 a payment of it
with negative amounts, and :mod:`gateway.reconcile.outcomes` nets them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, NamedTuple, Protocol, TypeVar

from gateway.reconcile.facts import ClaimPaymentFact, RequestFact, ResponseFact


@dataclass
class Prescription:
    """Every ledger row of one pharmacy's Rx number (within the scope read)."""

    pharmacy: str
    rx_number: str
    requests: list[RequestFact] = field(default_factory=list)
    responses: list[ResponseFact] = field(default_factory=list)
    payments: list[ClaimPaymentFact] = field(default_factory=list)


class Adjudication(NamedTuple):
    """A request and the response that answered it (either may be missing)."""

    request: RequestFact | None
    response: ResponseFact | None

    @property
    def position(self) -> tuple[int, int]:
        """Where it was recorded: requests are in submission order within their files."""
        first = self.request or self.response
        assert first is not None
        return first.file_id, first.seq

    @property
    def transaction_code(self) -> str:
        return (self.request or self.response).transaction_code  # type: ignore[union-attr]


@dataclass
class Fill:
    """One claim: pharmacy + Rx + fill + date of service (+ PBM), with its payments."""

    pbm: str
    fill_number: int | None
    date_of_service: date | None
    adjudications: list[Adjudication] = field(default_factory=list)
    payments: list[ClaimPaymentFact] = field(default_factory=list)


def prescriptions(requests: Iterator[RequestFact], responses: Iterator[ResponseFact],
                  payments: Iterator[ClaimPaymentFact]) -> Iterator[Prescription]:
    """Merge the three (pharmacy, rx_number)-ordered streams into prescriptions."""
    sides = _Peek(requests), _Peek(responses), _Peek(payments)
    while keys := [side.key for side in sides if side.key is not None]:
        key = min(keys)
        yield Prescription(key[0], key[1], sides[0].take(key), sides[1].take(key),
                           sides[2].take(key))


class _Row(Protocol):
    @property
    def pharmacy(self) -> str: ...

    @property
    def rx_number(self) -> str: ...


_R = TypeVar("_R", bound=_Row)


class _Peek(Generic[_R]):
    """A sorted stream with its next row in view."""

    def __init__(self, rows: Iterator[_R]) -> None:
        self._rows = rows
        self._head = next(rows, None)

    @property
    def key(self) -> tuple[str, str] | None:
        return None if self._head is None else (self._head.pharmacy, self._head.rx_number)

    def take(self, key: tuple[str, str]) -> list[_R]:
        """Every row of ``key`` (the rows before it were taken already: the streams are
        sorted alike)."""
        taken = []
        while self._head is not None and (self._head.pharmacy, self._head.rx_number) == key:
            taken.append(self._head)
            self._head = next(self._rows, None)
        return taken


def fills_of(group: Prescription) -> tuple[list[Fill], list[ClaimPaymentFact]]:
    """The prescription's fills with their payments, and the payments matching none."""
    fills: dict[tuple[str, int | None, date | None], Fill] = {}
    for adjudication in _paired(group.requests, group.responses):
        request, response = adjudication
        if request is not None:
            key = (request.pbm, request.fill_number, request.date_of_service)
        else:
            assert response is not None
            key = next((k for k in fills if k[2] == response.date_of_service),
                       (response.pbm, None, response.date_of_service))
        if key not in fills:
            fills[key] = Fill(*key)
        fills[key].adjudications.append(adjudication)
    ordered = sorted(fills.values(), key=_fill_order)
    unmatched = []
    for payment in group.payments:
        fill = _fill_for(payment, ordered)
        if fill is None:
            unmatched.append(payment)
        else:
            fill.payments.append(payment)
    return ordered, unmatched


def _paired(requests: list[RequestFact], responses: list[ResponseFact]) -> list[Adjudication]:
    """Each response with the request it answers, in the order they were recorded."""
    waiting: dict[tuple[object, ...], list[RequestFact]] = {}
    for request in requests:
        key = (request.transaction_code, request.date_of_service, request.reference,
               request.txn)
        waiting.setdefault(key, []).append(request)
    pairs = []
    for response in responses:
        key = (response.transaction_code, response.date_of_service, response.reference,
               response.txn)
        candidates = waiting.get(key)
        pairs.append(Adjudication(candidates.pop(0) if candidates else None, response))
    pairs += [Adjudication(r, None) for queue in waiting.values() for r in queue]
    return sorted(pairs, key=lambda pair: pair.position)


def _fill_for(payment: ClaimPaymentFact, fills: list[Fill]) -> Fill | None:
    """The fill a payment names: by fill number and date where the payment has them, the
    payment's PBM first, then an exact fill number, then the first fill in order."""
    candidates = [
        fill for fill in fills
        if (payment.date_of_service is None or fill.date_of_service == payment.date_of_service)
        and (payment.fill_number is None or fill.fill_number is None
             or fill.fill_number == payment.fill_number)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda fill: (
        fill.pbm != payment.pbm, fill.fill_number != payment.fill_number, _fill_order(fill)))


def _fill_order(fill: Fill) -> tuple[date, int, str]:
    return (fill.date_of_service or date.min, -1 if fill.fill_number is None
            else fill.fill_number, fill.pbm)
