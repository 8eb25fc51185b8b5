"""CARC and RARC lists with their dates: findings for codes outside them, replaceable lists."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.synth.x12_835 import Spec, write_835
from gateway.x12.tr3 import Tr3Validator
from gateway.x12.tr3.code_lists import load_code_lists


def generated(**kwargs) -> str:
    out = io.StringIO()
    write_835(out, Spec(**{"payees": 1, "claims": 1, "seed": 2, "compound_rate": 0,
                           "reversal_rate": 0, "denial_rate": 0, **kwargs}))
    return out.getvalue()


def with_segment_after(text: str, prefix: str, segment: str) -> str:
    at = text.index("\n", text.index(prefix)) + 1
    return text[:at] + segment + "~\n" + text[at:]


def run(text: str, **kwargs):
    return Tr3Validator(**kwargs).validate(io.BytesIO(text.encode()))


def test_a_retired_carc_is_a_warning_on_the_groups_date():
    text = with_segment_after(generated(), "DTM*472", "CAS*CO*17*1.00")  # CARC 17 stopped 2009
    (finding,) = run(text)
    assert (finding.code, finding.fatal, finding.element_position) == (
        "tr3-code-out-of-date", False, 2)
    assert "17" in finding.message and "2009-07-01" in finding.message
    assert run(text.replace("*20260105*", "*20080105*", 1)) == []  # GS04 before the stop


def write_lists(folder: Path, complete: bool, carc: str, rarc: str = "code,start,stop\n"):
    folder.mkdir(exist_ok=True)
    (folder / "lists.toml").write_text(
        f'[carc]\ntitle = "CARC"\nfile = "carc.csv"\ncomplete = {str(complete).lower()}\n'
        f'as_of = "2026-01-01"\n\n[rarc]\ntitle = "RARC"\nfile = "rarc.csv"\n'
        f'complete = {str(complete).lower()}\nas_of = "2026-01-01"\n')
    (folder / "carc.csv").write_text(carc)
    (folder / "rarc.csv").write_text(rarc)
    return folder


def test_an_operators_complete_list_reports_unknown_and_future_codes(tmp_path):
    lists = write_lists(tmp_path / "lists", True,
                        "code,start,stop,source\n45,1995-01-01,,x12\n3,01/01/1995,,x12\n"
                        "295,2027-03-01,,x12\n")
    text = generated(dir_rate=1.0)  # every line has a CARC 295 (DIR) adjustment
    text = with_segment_after(text, "DTM*472", "CAS*OA*299*1.00")
    codes = [(f.code, f.location.element, f.fatal) for f in run(text, code_lists=lists)]
    assert ("tr3-code-unknown", "CAS02", False) in codes  # 299 is not on the list
    assert ("tr3-code-out-of-date", "CAS05", False) in codes  # 295 starts in 2027 here
    assert run(generated(dir_rate=0.0), code_lists=lists) == []


def test_remark_codes_where_pyx12_checks_them_and_in_lq_he(tmp_path):
    lists = write_lists(tmp_path / "lists", False, "code,start,stop\n45,1995-01-01,\n",
                        "code,start,stop\nN1,1997-01-01,\nN20,1997-01-01,2010-01-01\n")
    text = with_segment_after(generated(), "NM1*QC", "MOA***N950")
    (finding,) = run(text, code_lists=lists)  # as pyx12: not on the list (a warning here)
    assert (finding.code, finding.location.element, finding.fatal) == (
        "tr3-invalid-code", "MOA03", False)
    retired = with_segment_after(generated(), "AMT*B6", "LQ*HE*N20")
    (finding,) = run(retired, code_lists=lists)
    assert finding.code == "tr3-code-out-of-date" and finding.location.element == "LQ02"
    assert run(retired.replace("LQ*HE*N20", "LQ*RX*N20"), code_lists=lists) == []  # NCPDP


@pytest.mark.parametrize(("carc", "wanted"), [
    ("code,start,stop\n45,1995-13-01,\n", "line 2: start '1995-13-01' is not a date"),
    ("code,begin,stop\n45,,\n", "line 1: the header must name code, start and stop"),
    ("code,start,stop\n45,,\n45,,\n", "line 3: code 45 is listed twice"),
])
def test_a_broken_list_is_refused_naming_file_line_and_key(tmp_path, carc, wanted):
    lists = write_lists(tmp_path / "lists", True, carc)
    with pytest.raises(ConfigError) as raised:
        load_code_lists(lists)
    assert wanted in str(raised.value) and "carc.csv" in str(raised.value)


def test_the_shipped_lists_say_what_they_hold():
    lists = load_code_lists()
    carc, rarc = lists.get("carc"), lists.get("rarc")
    assert carc is not None and rarc is not None
    assert not carc.complete and not rarc.complete and carc.as_of and rarc.as_of
    assert carc.dates["17"][1] is not None and "N734" in rarc.dates


def test_a_retired_remark_code_ending_a_segment_inside_a_run_is_found(tmp_path):
    """A run (many claims in one match) once missed a listed code's end at the terminator:
    the retired code was only excluded before an element separator, so ``LQ*HE*N1~`` in the
    middle of a set's claims passed unseen."""
    lists = write_lists(tmp_path / "lists", False, "code,start,stop,source\n45,1995-01-01,,x12\n",
                        "code,start,stop,source\nN1,1995-01-01,2020-01-01,x12\n")
    text = generated(claims=8)
    amounts = [i for i in range(len(text)) if text.startswith("\nAMT*B6*", i)]
    at = text.index("\n", amounts[5] + 1) + 1  # after the sixth service line's AMT
    text = text[:at] + "LQ*HE*N1~\n" + text[at:]
    codes = [(f.code, f.location.element, f.fatal) for f in run(text, code_lists=lists)]
    assert codes == [("tr3-code-out-of-date", "LQ02", False)]
