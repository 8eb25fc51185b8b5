"""The PHI scanner (tests/phi.py) itself: it fails an end-to-end test that leaks a synthetic
patient's name, id, birth date or Rx number into a log, an event or a report, and passes
one that does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from phi import GENERATED, Generated

INNER = '''
import sys
from gateway.synth.x12_835 import Spec, write_835_file
from gateway.synth import ncpdp

def _first_claim(tmp_path):
    write_835_file(tmp_path / "in.835", Spec(payees=2, claims=6, seed=3))
    return next(iter(sorted(GENERATED.values["id"])))

def test_clean(tmp_path):
    _first_claim(tmp_path)
    print("file_id=1 sha256=ab12 delivered", file=sys.stderr)

def test_leaks_into_stderr(tmp_path):
    member = _first_claim(tmp_path)
    print(f"delivery failed for member {member}", file=sys.stderr)

def test_leaks_into_a_daemon_log(tmp_path):
    _first_claim(tmp_path)
    rx = sorted(GENERATED.values["rx number"])[0]
    (tmp_path / "daemon.log").write_text('{"event": "retry", "claim": "%s"}' % rx)

def test_leaks_into_an_event(tmp_path):
    import sqlite3
    _first_claim(tmp_path)
    name = sorted(GENERATED.values["name"])[0]
    with sqlite3.connect(tmp_path / "gateway.db") as db:
        db.execute("CREATE TABLE events (actor, entity_id, action, reason)")
        db.execute("INSERT INTO events VALUES ('x', '1', 'failed', ?)", (f"patient {name}",))

def test_rx_in_a_report_is_allowed(tmp_path):
    _first_claim(tmp_path)
    rx = sorted(GENERATED.values["rx number"])[0]
    print(f"rx,paid\\n{rx},10.00")
'''


def test_the_scanner_fails_a_test_that_leaks_and_passes_one_that_does_not(pytester,
                                                                        monkeypatch):
    # In a subprocess: an in-process run shares the outer run's streams and state (its output
    # escaped the capture when the whole suite ran).
    here = str(Path(__file__).resolve().parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH", "")) if p))
    pytester.makeconftest('pytest_plugins = ["phi"]\n')
    pytester.makepyfile(test_daemon_planted="from phi import GENERATED\n" + INNER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(["*PHI scanner*", "*id 'ZZ*' in Captured stderr call*"])
    text = result.stdout.str()
    for name, outcome in {"test_clean": "PASSED", "test_leaks_into_stderr": "FAILED",
                          "test_leaks_into_a_daemon_log": "FAILED",
                          "test_leaks_into_an_event": "FAILED",
                          "test_rx_in_a_report_is_allowed": "PASSED"}.items():
        assert f"{outcome} test_daemon_planted.py::{name}" in text, name


@pytest.mark.parametrize(("text", "hit"), [
    ("member ZZ000000042 failed", True),
    ("member XZZ000000042 failed", False),  # inside a longer token
    ("born 1961-04-02", True),
    ("took 0.123456789 s", False),  # digits inside a decimal number
])
def test_matching_is_on_whole_tokens(text, hit):
    generated = Generated(recording=True)
    generated.add("id", "ZZ000000042")
    generated.add("rx number", "123456789")
    from datetime import date
    generated.add("birth date", date(1961, 4, 2))
    assert bool(generated.hits(text)) is hit
    assert GENERATED is not generated
