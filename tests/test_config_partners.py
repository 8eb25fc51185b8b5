"""PBM partner TOML, the PSAO identity and the whole partners/ directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.configuration import load_configuration
from gateway.config.partners import load_partner, load_partners
from gateway.config.problems import ConfigProblems
from gateway.config.psao import load_psao
from gateway.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def test_sample_configuration_loads_and_builds_transports() -> None:
    config = load_configuration(REPO / "partners")
    pbm = config.pbms["example-pbm"]
    assert pbm.inbound is not None and pbm.inbound["known_hosts"]
    assert pbm.archive == "archive" and pbm.acknowledgment.kind == "999"
    assert pbm.sla is not None and pbm.sla.expected_by == "10:00" and pbm.sla.business_days
    assert "SftpSource" in repr(pbm.source())
    assert "FolderSource" in repr(config.pbms["local-pbm"].source())
    assert config.pbms["local-pbm"].archive == "delete"
    assert config.psao.isa_id == "EXAMPLEPSAO"
    assert "1234567893" in config.psao.identifiers
    assert len(config.roster) == 5
    moore = config.roster.by_id("1000080")
    assert moore is not None
    assert repr(config.sink_for(moore.destination)) == (
        "SftpSink('sftp://psao@sftp.moore-rx.test:22/inbox (moore-rx-sftp)')"
    )


def test_partner_problems_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'id = "Bad PBM"\n'
        'validation = "deep"\n'
        'colour = "blue"\n'
        "[inbound]\n"
        'type = "sftp"\n'
        'host = "h"\n'
        "[schedule]\n"
        'window_start = "25:00"\n'
        "[acknowledgment]\n"
        'kind = "997"\n'
    )
    with pytest.raises(ConfigProblems) as caught:
        load_partner(path)
    problems = {p.key: p for p in caught.value.problems}
    assert {
        "id", "name", "validation", "colour", "inbound", "schedule.window_start",
        "acknowledgment.kind",
    } <= set(problems)
    assert "user" in problems["inbound"].what  # the transport module's own check
    assert str(path) in str(caught.value)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('id = "x"\nname = unquoted\n')
    with pytest.raises(ConfigProblems) as caught:
        load_partner(path)
    assert caught.value.problems[0].line == 2


def test_duplicate_partner_ids(tmp_path: Path) -> None:
    body = 'id = "same"\nname = "N"\n[inbound]\ntype = "folder"\npath = "/x"\n'
    (tmp_path / "a.toml").write_text(body)
    (tmp_path / "b.toml").write_text(body)
    with pytest.raises(ConfigProblems, match="also the id in"):
        load_partners(tmp_path)


def test_a_partner_must_have_the_transport_its_role_needs(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('id = "p"\nname = "N"\n[acknowledgment]\nkind = "999"\n')
    with pytest.raises(ConfigProblems) as caught:
        load_partner(path)
    assert {p.key for p in caught.value.problems} == {"inbound", "acknowledgment.kind"}
    with pytest.raises(ConfigProblems, match="outbound"):
        load_partners(tmp_path, requires="outbound")


def test_psao_identity_validation(tmp_path: Path) -> None:
    path = tmp_path / "psao.toml"
    path.write_text('name = "P"\nisa_qualifier = "zz"\nisa_id = "THIS ID IS FAR TOO LONG"\n')
    with pytest.raises(ConfigProblems) as caught:
        load_psao(path)
    assert {p.key for p in caught.value.problems} == {"isa_qualifier", "isa_id"}


def test_missing_configuration_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_configuration(tmp_path / "nope")
