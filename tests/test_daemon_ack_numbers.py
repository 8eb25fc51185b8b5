"""The daemon's acknowledgments (issue 10, defect 12 daemon side): one 999 per received file,
answering all its groups, with ISA13/GS06 from the per-partner counter — never the same
control number twice to one PBM, however many interchanges a file has."""

from __future__ import annotations

import re

from x12_compose import interchange, write

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.ops.demo import folder_workspace


def _isa13(text: str) -> str:
    return text[3 + 1:].split(text[3])[12]


def test_defect_12_one_999_per_file_and_no_control_number_twice(tmp_path):
    config, _samples = folder_workspace(tmp_path / "ws")
    root = config.parent
    drop = root / "pbm" / "outbound"
    six = [interchange(payees=1, claims=2, seed=n, interchange_control_number=n).text
           for n in range(1, 7)]
    write(drop / "era-six-interchanges.835", *six)
    Daemon(load_settings(config)).run(once=True)
    write(drop / "era-next.835", interchange(payees=1, claims=2, seed=9).text)
    Daemon(load_settings(config)).run(once=True)

    acks = {p.name: p.read_text() for p in (root / "pbm" / "inbound").iterdir()}
    nines = {name: text for name, text in acks.items() if name.endswith(".999")}
    per_file = [re.sub(r"\.\d+\.999$", "", name) for name in nines]
    assert sorted(per_file) == sorted(set(per_file))  # one 999 per received file
    assert any(n.startswith("era-six-interchanges.835") for n in nines)
    six_ack = next(t for n, t in nines.items() if n.startswith("era-six-interchanges"))
    assert six_ack.count("AK1*HP*") == 6  # all its groups in that one 999
    numbers = [_isa13(text) for text in acks.values()]
    assert len(numbers) == len(set(numbers)), numbers
