"""``[retention]`` in gateway.toml: defaults, and errors naming file, line, key and fix."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from gateway.config.retention import RetentionPolicy, years_before
from gateway.config.settings import load_settings
from gateway.errors import ConfigError


def _write(tmp_path, text):
    path = tmp_path / "gateway.toml"
    path.write_text('[gateway]\nstore = "sqlite:///var/g.db"\n\n' + text)
    return path


def test_defaults_keep_payloads_90_days_and_the_audit_six_years(tmp_path):
    policy = load_settings(_write(tmp_path, "")).retention
    assert policy == RetentionPolicy()
    assert (policy.payload_days, policy.audit_years, policy.daily_at) == (90, 6, time(3, 30))


def test_values_are_read(tmp_path):
    policy = load_settings(_write(tmp_path, '[retention]\npayload_days = 30\nrollup_days = 60\n'
                                            'daily_at = "off"\n')).retention
    assert (policy.payload_days, policy.rollup_days, policy.daily_at) == (30, 60, None)


@pytest.mark.parametrize(("text", "key", "fix"), [
    ("audit_years = 5", "audit_years", "audit_years = 6"),
    ("payload_days = 120\nrollup_days = 100", "rollup_days", "rollup_days"),
    ('daily_at = "late"', "daily_at", '"03:30"'),
    ("keep = 1", "keep", "known keys"),
])
def test_errors_name_file_line_key_and_fix(tmp_path, text, key, fix):
    path = _write(tmp_path, "[retention]\n" + text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert f"{path}:" in message and f"[retention] {key}" in message and fix in message


def test_six_years_before_a_leap_day():
    assert years_before(datetime(2028, 2, 29, tzinfo=UTC), 6) == datetime(2022, 2, 28,
                                                                         tzinfo=UTC)
