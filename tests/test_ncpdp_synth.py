"""The synthetic generator: deterministic, well formed, requests and responses that match."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

from gateway.cli import main
from gateway.ncpdp import ClaimRequest, ClaimResponse, parse_file
from gateway.synth.ncpdp import SynthOptions, write_batches

REPO = Path(__file__).resolve().parent.parent


def _generate(options: SynthOptions) -> tuple[bytes, bytes]:
    requests, responses = io.BytesIO(), io.BytesIO()
    write_batches(options, requests, responses)
    return requests.getvalue(), responses.getvalue()


def test_same_seed_same_bytes_other_seed_other_bytes():
    options = SynthOptions(seed=5, transmissions=20)
    assert _generate(options) == _generate(options)
    assert _generate(options)[0] != _generate(SynthOptions(seed=6, transmissions=20))[0]


def test_requests_and_responses_match_and_parse_clean():
    options = SynthOptions(
        seed=3,
        transmissions=60,
        transactions_per_transmission=3,
        reject_rate=0.3,
        reversal_rate=0.3,
    )
    request_bytes, response_bytes = _generate(options)
    requests = list(parse_file(io.BytesIO(request_bytes), strict=True))
    responses = list(parse_file(io.BytesIO(response_bytes), strict=True))
    assert all(isinstance(d, ClaimRequest) for d in requests)
    assert all(isinstance(d, ClaimResponse) for d in responses)
    assert [d.findings for d in requests + responses] == [()] * (len(requests) + len(responses))
    assert [r.source.transaction_reference for r in requests] == [
        r.source.transaction_reference for r in responses
    ]
    paid_rx, outcomes = set(), set()
    for request, response in zip(requests, responses, strict=True):
        code = request.header.transaction_code
        assert response.header.transaction_code == code
        assert len(request.transactions) == len(response.transactions)
        for sent, result in zip(request.transactions, response.transactions, strict=True):
            assert result.claim.rx_number == sent.claim.rx_number
            status = result.status
            if code == "B2":
                assert sent.claim.rx_number in paid_rx and status.status == "A"
                outcomes.add("reversal")
            elif status.rejected:
                assert status.reject_codes and result.pricing is None
                outcomes.add("rejected")
            else:
                pricing = result.pricing
                assert pricing.total_amount_paid == (
                    sent.pricing.ingredient_cost + sent.pricing.dispensing_fee - pricing.patient_pay
                )
                assert sent.pricing.gross_amount_due == (
                    sent.pricing.ingredient_cost + sent.pricing.dispensing_fee
                )
                paid_rx.add(sent.claim.rx_number)
                outcomes.add("paid")
    assert outcomes == {"paid", "rejected", "reversal"}


def test_committed_samples_are_what_the_documented_commands_write(tmp_path):
    readme = (REPO / "samples" / "README.md").read_text()
    commands = [
        line.strip()
        for line in readme.splitlines()
        if line.strip().startswith("gateway synth ncpdp")
    ]
    assert len(commands) == 2
    for command in commands:
        argv = shlex.split(command)[1:]
        committed = {}
        for flag in ("--requests", "--responses"):
            index = argv.index(flag) + 1
            committed[flag] = REPO / argv[index]
            argv[index] = str(tmp_path / Path(argv[index]).name)
        assert main(argv) == 0
        for path in committed.values():
            regenerated = tmp_path / path.name
            assert regenerated.read_bytes() == path.read_bytes(), path


class _CountingStream(io.RawIOBase):
    """A binary stream that records how far the reader has read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self.position += len(chunk)
        return chunk


def test_parse_file_streams_instead_of_reading_the_whole_file():
    requests, _ = _generate(
        SynthOptions(seed=9, transmissions=3000, transactions_per_transmission=4)
    )
    assert len(requests) > 1_000_000
    stream = _CountingStream(requests)
    documents = parse_file(stream)
    first = next(documents)
    assert first.transactions[0].claim.rx_number
    assert stream.position <= 128 + 2 * 65536  # the sniffed head and a block or two, not the file
    assert sum(1 for _ in documents) + 1 == sum(1 for _ in parse_file(io.BytesIO(requests)))
