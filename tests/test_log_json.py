"""gateway.log.configure: whatever logs — structlog, stdlib loggers, paramiko, warnings, a
crashing thread — comes out as one JSON object per line, and paramiko's traceback lines and
packet dumps never do."""

from __future__ import annotations

import io
import json
import logging
import threading
import warnings

import pytest
import structlog

from gateway.log import configure, get_logger
from gateway.transport.ssh import SftpConnection, SftpSettings


@pytest.fixture
def out():
    stream = io.StringIO()
    configure(json=True, file=stream)
    yield stream
    logging.getLogger().handlers.clear()
    logging.getLogger().setLevel(logging.WARNING)
    logging.captureWarnings(False)
    structlog.reset_defaults()
    threading.excepthook = threading.__excepthook__


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_source_is_one_json_line(out, tmp_path):
    get_logger(component="t").info("structlog event", file_id=7)
    logging.getLogger("psycopg").warning("a library warning")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
    thread = threading.Thread(target=lambda: 1 / 0, name="doomed")
    thread.start()
    thread.join()
    events = lines(out)
    assert [e["event"] for e in events[:2]] == ["structlog event", "a library warning"]
    assert events[1]["logger"] == "psycopg" and events[1]["level"] == "warning"
    assert "deprecated thing" in events[2]["event"]
    assert events[3]["event"] == "thread crashed" and "ZeroDivisionError" in events[3]["exception"]


def test_paramiko_speaks_only_at_debug_and_never_in_tracebacks(out, tmp_path):
    SftpConnection(SftpSettings(partner="p", host="h", user="u", key_file=tmp_path / "k",
                                known_hosts=tmp_path / "kh", remote_dir="/"))  # its filters
    paramiko = logging.getLogger("paramiko.transport")
    paramiko.error("Exception (client): Error reading SSH protocol banner")
    for line in ["Traceback (most recent call last):", '  File "x.py", line 1, in run',
                 "    raise SSHException(", "paramiko.ssh_exception.SSHException: no banner", ""]:
        paramiko.error(line)
    paramiko.debug("OUT: 53 45 43 52 45 54")  # a packet dump
    assert out.getvalue() == ""  # at info level: the caller logs the failure, once

    configure(json=True, file=out, level=logging.DEBUG)
    paramiko.error("Exception (client): Error reading SSH protocol banner")
    paramiko.error("Traceback (most recent call last):")
    paramiko.debug("OUT: 53 45 43 52 45 54")
    (event,) = lines(out)
    assert event["level"] == "debug" and "protocol banner" in event["event"]
