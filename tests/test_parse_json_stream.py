"""``gateway parse --format json|jsonl`` streams an 835: the same bytes as the whole-set JSON,
in memory that does not grow with a single-ST central pay (issue 12: 2.68 GB for 100 MB)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli.parse import X12_LAYOUTS
from gateway.jsonable import RemittanceJson, to_jsonable
from gateway.synth.x12_835 import Spec, write_835_file
from gateway.x12.read.reader import iter_835, read_835
from gateway.x12.syntax.findings import Finding
from tests.test_x12_reader import CLAIM, x12
from tests.x12_corpus import corpus_files


def whole_set_json(data: bytes, layout: str) -> str:
    """What parse printed before: each remittance built whole, then json.dumps."""
    remittances = [json.dumps(to_jsonable(r))
                   for r in read_835(io.BytesIO(data), findings=[])]
    if layout == "jsonl":
        return "".join(text + "\n" for text in remittances)
    return "[\n" + ",\n".join(remittances) + "\n]\n" if remittances else "[]\n"


def streamed_json(data: bytes, layout: str) -> str:
    out = io.StringIO()
    findings: list[Finding] = []
    RemittanceJson(out, **X12_LAYOUTS[layout]).write(iter_835(io.BytesIO(data),
                                                              findings=findings))
    return out.getvalue()


@pytest.mark.parametrize("layout", ["json", "jsonl"])
def test_streamed_json_is_byte_for_byte_the_whole_set_json_on_the_corpus(shared_corpus, layout):
    """Every corpus file, defective ones included (collect mode yields what it can)."""
    compared = 0
    for name in corpus_files(shared_corpus):
        data = (shared_corpus / "x12" / name).read_bytes()
        assert streamed_json(data, layout) == whole_set_json(data, layout), name
        compared += bool(whole_set_json(data, layout).strip("[]\n"))
    assert compared >= 20  # most corpus files hold remittances: the comparison is not vacuous


@pytest.mark.parametrize("shape", ["multi-st", "single-st"])
def test_streamed_json_matches_on_generated_central_pays(tmp_path: Path, shape: str):
    """Groups with TS3 summaries, PLBs (the PSAO's and the pharmacies'), several sets."""
    path = tmp_path / "cp.835"
    write_835_file(path, Spec(shape=shape, payees=6, claims=300, seed=4, plb_rate=1.0))
    data = path.read_bytes()
    expected = whole_set_json(data, "json")
    assert '"provider_adjustments": [{' in expected
    assert streamed_json(data, "json") == expected


def test_claims_after_a_plb_land_where_read_835_puts_them():
    """A CLP after the PLB opens a group "0" after the first group; the PLB still comes
    after the groups in the JSON, as in the model."""
    second = [CLAIM[0].replace("429500703", "429500704"), *CLAIM[1:]]
    data = x12([*CLAIM, "PLB*1234567893*20261231*WO:X1*5", *second], bpr="155")
    expected = whole_set_json(data, "json")
    assert expected.count('"claim_id"') == 2
    assert streamed_json(data, "json") == expected


def test_no_remittance_gives_an_empty_array():
    data = b"ISA"  # not even an interchange: nothing is read
    assert streamed_json(data, "json") == whole_set_json(data, "json")


def peak_rss_mib(*args: str) -> float:
    """Peak RSS of one ``gateway`` run (its own rusage, not the test process's)."""
    child = subprocess.Popen([sys.executable, "-m", "gateway", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    assert status == 0
    return usage.ru_maxrss / 1024


def test_single_st_json_takes_no_more_memory_than_the_streaming_summary(tmp_path: Path):
    """8,000 claims in one ST (2.4 MB): the whole-set JSON took ~53 MiB more than the
    summary (which always streamed); streamed, the two differ by the noise of one process."""
    path = tmp_path / "single.835"
    write_835_file(path, Spec(shape="single-st", payees=20, claims=8_000, seed=5))
    summary = peak_rss_mib("parse", str(path), "--format", "summary")
    as_json = peak_rss_mib("parse", str(path), "--format", "json")
    assert as_json < summary + 12, (as_json, summary)


def test_cli_json_is_valid_and_complete(tmp_path: Path):
    path = tmp_path / "single.835"
    write_835_file(path, Spec(shape="single-st", payees=4, claims=300, seed=9))
    result = subprocess.run([sys.executable, "-m", "gateway", "parse", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (remittance,) = json.loads(result.stdout)
    assert sum(len(group["claims"]) for group in remittance["groups"]) == 300
