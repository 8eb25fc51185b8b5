"""`gateway parse` on NCPDP files: detected from content, JSON, summary and visible output."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.detect import detect_format
from gateway.ncpdp import parse_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "ncpdp"
REQUESTS = SAMPLES / "synth-seed7-requests.ncpdp"
RESPONSES = SAMPLES / "synth-seed7-responses.ncpdp"


def gateway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("path", [REQUESTS, RESPONSES])
def test_batch_files_are_detected_from_content(path, tmp_path):
    renamed = tmp_path / "remit.835"  # a misleading name must not matter
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed.read_bytes()[:128]) == "ncpdp-batch"
    result = gateway("parse", str(renamed), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(documents) == sum(1 for _ in parse_file(path))
    expected_type = "ncpdp-claim-request" if path == REQUESTS else "ncpdp-claim-response"
    assert {d["type"] for d in documents} == {expected_type}


def test_json_array_matches_jsonl():
    array = json.loads(gateway("parse", str(RESPONSES)).stdout)
    lines = gateway("parse", str(RESPONSES), "--format", "jsonl").stdout.splitlines()
    assert array == [json.loads(line) for line in lines]


def test_summary_has_one_line_per_transmission_with_statuses():
    result = gateway("parse", str(RESPONSES), "--format", "summary")
    lines = result.stdout.splitlines()
    documents = list(parse_file(RESPONSES))
    assert len(lines) == len(documents)
    for line, document in zip(lines, documents, strict=True):
        assert f"code={document.header.transaction_code}" in line
        assert f"transactions={len(document.transactions)}" in line
        assert "status=" in line and "status=-" not in line


def test_visible_shows_control_characters():
    result = gateway("parse", str(REQUESTS), "--format", "visible")
    assert result.returncode == 0
    assert "<STX>" in result.stdout and "<FS>" in result.stdout and "<ETX>" in result.stdout
    assert "\x1c" not in result.stdout and "\x02" not in result.stdout


def test_unknown_content_is_one_clear_line(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello, this is not EDI\n")
    result = gateway("parse", str(junk))
    assert result.returncode == 1
    assert "not a recognised format" in result.stderr
    assert "NCPDP" in result.stderr
    assert "Traceback" not in result.stderr
