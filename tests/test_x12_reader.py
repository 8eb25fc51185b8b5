"""The 835 reader: mapping into the canonical model, envelope checks, balancing, any input."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import GatewayError, InputError
from gateway.x12.read.reader import read_835
from gateway.x12.syntax.findings import Finding

ISA = (
    "ISA*00*          *00*          *ZZ*EXAMPLEPBM     *ZZ*EXAMPLEPSAO    *260105*1200*^*00501"
    "*000000001*0*P*:~"
)
HEADER = [
    "BPR*I*{bpr}*C*ACH*CCP*01*011000015*DA*123456789*1999999999**01*021000021*DA*987654321*20260105",
    "TRN*1*260105000000001*1999999999",
    "REF*EV*EXAMPLEPSAO",
    "DTM*405*20260105",
    "N1*PR*EXAMPLE PBM ONE",
    "PER*BL*EDI SUPPORT*TE*8005550100",
    "N1*PE*LEE DRUG PHARMACY 1*XX*1000061600",
    "REF*D3*1000013",
    "REF*TJ*562978562",
]
CLAIM = [
    "CLP*429500703*1*100*80*5*MB*CC1*01*1",
    "NM1*QC*1*DOE*JANE****MI*ZZ1",
    "NM1*82*2*LEE DRUG*****XX*1000061600",
    "DTM*232*20251224",
    "SVC*N4:00071015523*100*80**60",
    "DTM*472*20251224",
    "CAS*CO*45*15",
    "CAS*PR*3*5",
    "REF*6R*42950070301",
    "AMT*B6*85",
    "LQ*HE*N20",
]


def x12(body: list[str], *, bpr: str = "80", se_count: int | None = None) -> bytes:
    """One interchange with one 835 holding ``body`` after the header."""
    segments = ["ST*835*0001", *(s.format(bpr=bpr) for s in HEADER), *body]
    count = len(segments) + 1 if se_count is None else se_count
    segments.append(f"SE*{count}*0001")
    text = ISA + "GS*HP*PBM*PSAO*20260105*1200*1*X*005010X221A1~"
    text += "".join(s + "~" for s in segments) + "GE*1*1~IEA*1*000000001~"
    return text.encode()


def read(data: bytes, **kw) -> list:
    return list(read_835(io.BytesIO(data), file_name="t.835", **kw))


def test_pharmacy_remittance_maps_to_the_canonical_model():
    body = ["LX*1", "TS3*1000061600*99*20261231*1*100", *CLAIM]
    body.append("PLB*1000061600*20261231*CS:DIR Q4*5")
    (remittance,) = read(x12(body, bpr="75"))
    assert remittance.payment.amount == Decimal("75")
    assert remittance.payment.trace_number == "260105000000001"
    assert remittance.payment.date == date(2026, 1, 5)
    assert remittance.receiver_id == "EXAMPLEPSAO"
    assert remittance.production_date == date(2026, 1, 5)
    payee = remittance.payee
    assert (payee.npi, payee.ncpdp_id, payee.tin) == ("1000061600", "1000013", "562978562")
    (group,) = remittance.groups
    assert group.provider_id == "1000061600" and group.facility_code == "99"
    (claim,) = remittance.claims
    assert claim.claim_id == "429500703" and claim.paid == Decimal("80")
    assert claim.patient.last_name == "DOE" and claim.rendering_provider_npi == "1000061600"
    assert claim.provider_id == "1000061600" and claim.statement_start == date(2025, 12, 24)
    (line,) = claim.service_lines
    assert (line.product_qualifier, line.product_id) == ("N4", "00071015523")
    assert line.units == Decimal("60") and line.allowed_amount == Decimal("85")
    assert line.line_control_number == "42950070301" and line.remark_codes == ("N20",)
    copay = [a for a in line.adjustments if a.group == "PR"]
    assert copay[0].reason == "3" and copay[0].amount == Decimal("5")
    (plb,) = remittance.provider_adjustments
    assert (plb.reason, plb.reference, plb.amount) == ("CS", "DIR Q4", Decimal("5"))


def test_source_refs_slice_back_to_the_original_bytes():
    data = x12(["LX*1", *CLAIM, *CLAIM], bpr="160")
    (remittance,) = read(data)
    first = remittance.claims[0].source
    assert data[first.start_offset : first.end_offset].startswith(b"CLP*429500703")
    assert data[first.start_offset : first.end_offset].endswith(b"LQ*HE*N20~")
    assert first.last_segment - first.first_segment + 1 == len(CLAIM)
    whole = remittance.source
    assert data[whole.start_offset : whole.end_offset].startswith(b"ST*835*0001~")
    assert data[whole.start_offset : whole.end_offset].endswith(b"*0001~")


def test_claims_before_any_lx_form_group_zero():
    (remittance,) = read(x12(CLAIM))
    assert [g.number for g in remittance.groups] == ["0"]
    assert len(remittance.claims) == 1


def test_unparsable_date_is_none_and_a_warning():
    findings: list[Finding] = []
    body = [CLAIM[0], "DTM*232*20251345", *CLAIM[4:]]
    (remittance,) = read(x12(body), findings=findings)
    assert remittance.claims[0].statement_start is None
    assert [(f.code, f.fatal) for f in findings] == [("bad-date", False)]


def test_unparsable_amount_is_a_precise_input_error():
    body = ["CLP*429500703*1*100*8O*5*MB*CC1*01*1", *CLAIM[1:]]
    with pytest.raises(InputError) as caught:
        read(x12(body))
    error = caught.value
    assert error.code == "bad-amount" and error.location.element == "CLP04"
    assert error.location.segment_id == "CLP" and error.location.segment_number == 13
    assert error.location.byte_offset == x12(body).index(b"CLP*")


@pytest.mark.parametrize(
    ("body", "kw", "code"),
    [
        (CLAIM, {"bpr": "70"}, "unbalanced-payment"),
        ([*CLAIM[:4], "SVC*N4:00071015523*100*81**60", *CLAIM[5:]], {}, "unbalanced-line"),
        ([*CLAIM[:6], "CAS*CO*45*14", *CLAIM[7:]], {}, "unbalanced-line"),
        (CLAIM, {"se_count": 99}, "se-count"),
        ([*CLAIM[:4], "SVC*N4>00071015523*100*80**60", *CLAIM[5:]], {}, "delimiter-mismatch"),
        ([*CLAIM, "XX*B6*800"], {}, "unexpected-segment"),
    ],
)
def test_defects_have_stable_codes(body, kw, code):
    with pytest.raises(InputError) as caught:
        read(x12(body, **kw))
    assert caught.value.code == code
    assert caught.value.location.segment_number is not None


def test_claim_balance_includes_claim_level_adjustments():
    body = ["CLP*429500703*1*100*70*5*MB*CC1*01*1", "CAS*CO*45*10", *CLAIM[1:]]
    read(x12(body, bpr="70"))  # CLP04 70 = SVC03 80 - claim-level CAS 10


@pytest.mark.parametrize(
    ("replace", "code"),
    [
        (("GE*1*1~", "GE*2*1~"), "ge-count"),
        (("GE*1*1~", "GE*1*9~"), "ge-control"),
        (("IEA*1*000000001~", "IEA*1*000000002~"), "iea-control"),
        (("IEA*1*000000001~", "IEA*3*000000001~"), "iea-count"),
        (("*0001~GE*", "*0002~GE*"), "se-control"),
        (("GE*1*1~IEA*1*000000001~", ""), "truncated"),
        (("ST*835*0001~", "LX*1~ST*835*0001~"), "outside-envelope"),
        (("005010X221A1", "004010X091A1"), "version-4010"),
        (("GS*HP", "GS*HC"), "not-835"),
    ],
)
def test_envelope_defects(replace, code):
    data = x12(CLAIM).replace(replace[0].encode(), replace[1].encode(), 1)
    findings: list[Finding] = []
    read(data, findings=findings)
    assert code in {f.code for f in findings if f.fatal}
    with pytest.raises(InputError) as caught:
        read(data)
    assert caught.value.code == code


def test_empty_segment_is_reported_not_a_silent_stop():
    """pyx12's X12Reader stops silently at ``~~`` (its defect 3); we report it and read on."""
    data = x12([*CLAIM[:4], "", *CLAIM[4:]])
    with pytest.raises(InputError) as caught:
        read(data)
    assert caught.value.code == "empty-segment"
    assert caught.value.location.byte_offset == data.index(b"~~") + 1
    findings: list[Finding] = []
    (remittance,) = read(data, findings=findings)
    assert [f.code for f in findings if f.fatal] == ["empty-segment"]
    assert remittance.claims[0].service_lines[0].paid == Decimal("80")


def test_central_pay_yields_one_remittance_per_transaction_set():
    one = x12(CLAIM).decode()
    st_to_se = one[one.index("ST*835") : one.index("GE*")]
    two = one.replace("GE*1*1~", st_to_se.replace("0001", "0002") + "GE*2*1~")
    remittances = read(two.encode())
    assert [r.control_number for r in remittances] == ["0001", "0002"]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_mutated_files_raise_only_gateway_errors(data):
    original = bytearray(x12(["LX*1", *CLAIM, "PLB*1000061600*20261231*CS:X*5"], bpr="75"))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(original) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        byte = data.draw(st.sampled_from(list(b"*~:^0A\n\x00-.9")))
        if action == "flip":
            original[position] = byte
        elif action == "delete":
            del original[position]
        else:
            original.insert(position, byte)
    read(bytes(original), findings=[])
    with contextlib.suppress(GatewayError):
        read(bytes(original))


def test_cli_parse_outputs_json_jsonl_and_summary(tmp_path):
    path = tmp_path / "remit.dat"
    path.write_bytes(x12(["LX*1", *CLAIM, "PLB*1000061600*20261231*CS:X*5"], bpr="75"))
    run = [sys.executable, "-m", "gateway", "parse", str(path)]
    result = subprocess.run([*run, "--format", "json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (document,) = json.loads(result.stdout)
    assert document["payment"]["amount"] == "75"
    assert document["groups"][0]["claims"][0]["service_lines"][0]["service_date"] == "2025-12-24"
    result = subprocess.run([*run, "--format", "jsonl"], capture_output=True, text=True)
    assert len(result.stdout.splitlines()) == 1
    result = subprocess.run([*run, "--format", "summary"], capture_output=True, text=True)
    assert result.stdout.split() == [
        "st=0001", "payee_npi=1000061600", "ncpdp=1000013", "tin=562978562", "claims=1",
        "clp04_sum=80", "plb_sum=5", "bpr02=75",
    ]  # fmt: skip


def test_cli_usage_errors_exit_2(tmp_path):
    run = [sys.executable, "-m", "gateway", "parse"]
    missing = subprocess.run([*run, str(tmp_path / "nope")], capture_output=True, text=True)
    bad_option = subprocess.run([*run, "x", "--format", "xml"], capture_output=True, text=True)
    assert missing.returncode == 2 and bad_option.returncode == 2
    assert "Traceback" not in missing.stderr + bad_option.stderr


@pytest.mark.parametrize(
    ("replace", "code"),
    [
        (("~SE*", "~ST*835*0002~SE*"), "missing-se"),
        (("GE*1*1~", ""), "missing-ge"),
        (("GE*1*1~IEA*1*000000001~", "GE*1*1~"), "truncated"),
    ],
)
def test_unclosed_envelopes(replace, code):
    data = x12(CLAIM).replace(replace[0].encode(), replace[1].encode(), 1)
    findings: list[Finding] = []
    read(data, findings=findings)
    assert code in {f.code for f in findings}


def test_second_interchange_without_iea_before_it():
    data = x12(CLAIM).replace(b"IEA*1*000000001~", b"")
    findings: list[Finding] = []
    remittances = read(data + x12(CLAIM), findings=findings)
    assert "missing-iea" in {f.code for f in findings} and len(remittances) == 2
