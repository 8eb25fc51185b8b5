"""``gateway validate``: findings, exit codes, acknowledgments, and no tracebacks."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from x12_arith import split_segments

from gateway.cli import main
from gateway.synth.x12_835 import Spec, write_835
from gateway.x12.tr3.pyx12_reference import Tr3Validator


def write_sample(path: Path, **kwargs) -> str:
    out = io.StringIO()
    write_835(out, Spec(**kwargs))
    path.write_text(out.getvalue(), encoding="ascii")
    return out.getvalue()


def test_a_valid_file_exits_zero(tmp_path, capsys):
    path = tmp_path / "ok.835"
    write_sample(path, shape="single-st", payees=3, claims=12, plb_rate=1.0)
    assert main(["validate", str(path), "--tr3"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"{path}: valid (0 error(s), 0 warning(s))"


def test_an_unbalanced_file_lists_findings_and_exits_one(tmp_path, capsys):
    path = tmp_path / "bad.835"
    text = write_sample(path, payees=2, claims=6)
    bpr = text.index("BPR*C*") + len("BPR*C*")
    path.write_text(text[:bpr] + "1" + text[bpr:], encoding="ascii")  # BPR02 now too big
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("error") and "unbalanced-payment" in lines[0]
    assert "segment 4 (BPR)" in lines[0]
    assert lines[-1].endswith("invalid (1 error(s), 0 warning(s))")


def test_999_written_to_out_is_valid_and_rejects_the_bad_set(tmp_path, capsys):
    path, ack = tmp_path / "bad.835", tmp_path / "ack.999"
    text = write_sample(path, payees=3, claims=9, seed=2)
    second = text.index("ST*835*0002")
    se = text.index("SE*", second)
    path.write_text(text[:se] + "SE*7" + text[text.index("*", se + 3):], encoding="ascii")
    assert main(["validate", str(path), "--tr3", "--ack", "999", "--out", str(ack),
                 "--control-number", "500"]) == 1
    segments, _ = split_segments(ack.read_text(encoding="ascii"))
    assert segments[0][13] == "000000500"
    assert ["IK5", "R", "4"] in segments  # IK502 4: segment count wrong
    assert ["AK9", "P", "3", "3", "2"] in segments
    assert Tr3Validator().validate(ack) == []


def test_ta1_on_stdout_for_a_bad_interchange_trailer(tmp_path, capsys):
    path = tmp_path / "bad.835"
    text = write_sample(path, payees=1, claims=2)
    path.write_text(text.replace("IEA*1*000000001", "IEA*1*000000009"), encoding="ascii")
    assert main(["validate", str(path), "--ack", "ta1"]) == 1
    captured = capsys.readouterr()
    segments, _ = split_segments(captured.out)  # the TA1 alone on stdout
    assert segments[1] == ["TA1", "000000001", "260105", "1200", "R", "001"]
    assert "iea-control" in captured.err


def test_empty_segment_is_reported_and_the_guide_still_checks_the_rest(tmp_path):
    """pyx12 stopped silently at ``~~``; the compiled validator reads on past it."""
    path = tmp_path / "empty.835"
    text = write_sample(path, payees=1, claims=3)
    text = text.replace("~\nDTM*405", "~\n~\nDTM*405", 1).replace("*MC*", "*CI*", 1)
    path.write_text(text, encoding="ascii")
    result = subprocess.run([sys.executable, "-m", "gateway", "validate", str(path), "--tr3"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "empty-segment" in result.stdout
    assert "tr3-invalid-code" in result.stdout and "element CLP06" in result.stdout
    assert "Traceback" not in result.stderr


def test_bad_input_and_usage_never_give_a_traceback(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\xff\xfe garbage\n")
    for args, code in (([str(junk), "--tr3", "--ack", "999"], 1),
                       ([str(tmp_path / "missing.835")], 2),
                       ([str(junk), "--ack", "997"], 2)):
        result = subprocess.run([sys.executable, "-m", "gateway", "validate", *args],
                                capture_output=True, text=True)
        assert result.returncode == code, result
        assert "Traceback" not in result.stderr
        assert result.stdout or result.stderr


def test_ta1_rejects_an_interchange_header_of_the_wrong_width(tmp_path, capsys):
    path, ack = tmp_path / "isa.835", tmp_path / "ta1.x12"
    text = write_sample(path, payees=1, claims=2)
    path.write_text(text.replace("*EXAMPLEPBM     *", "*EXAMPLEPBM*", 1), encoding="ascii")
    assert main(["validate", str(path), "--ack", "ta1", "-o", str(ack)]) == 1
    assert "isa-length" in capsys.readouterr().out
    segments, _ = split_segments(ack.read_text(encoding="ascii"))
    assert segments[1] == ["TA1", "000000001", "260105", "1200", "R", "022"]


def test_code_lists_from_a_directory(tmp_path, capsys):
    """An operator's complete CARC list: a code missing from it is a warning, not an error."""
    path, lists = tmp_path / "ok.835", tmp_path / "lists"
    write_sample(path, payees=1, claims=3, seed=1, dir_rate=0.0)
    lists.mkdir()
    (lists / "lists.toml").write_text('[carc]\ntitle = "CARC"\nfile = "carc.csv"\n'
                                      'complete = true\nas_of = "2026-01-01"\n')
    (lists / "carc.csv").write_text("code,start,stop\n3,1995-01-01,\n")  # no 45
    assert main(["validate", str(path), "--tr3", "--code-lists", str(lists)]) == 0
    out = capsys.readouterr().out
    assert "warning tr3-code-unknown" in out and "element CAS02" in out
    (lists / "carc.csv").write_text("code,begin\n3,\n")
    assert main(["validate", str(path), "--tr3", "--code-lists", str(lists)]) == 2
