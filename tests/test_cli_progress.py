"""Progress bars of the file commands (`parse`, `validate`, `validate --tr3`, `split`): the
real CLI run as an operator runs it, once with stderr on a pseudo-terminal and once piped.

On the terminal the bar of the bytes read appears on stderr; piped there is none; and stdout
(and the files `split` writes) are byte for byte the same either way — the bar never takes
over stdout. Without a terminal the command reads the plain file object (no wrapper, no cost).
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from gateway.cli.progress import MeteredReader, reading

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "x12" / "central_pay_multi_st.835"
NCPDP = REPO / "samples" / "ncpdp" / "synth-seed7-requests.ncpdp"
BAR = "━".encode()  # rich's bar line


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR", "NO_COLOR")}
    return {**env, "PYTHONPATH": str(REPO), "TERM": "xterm", "COLUMNS": "120"}


def _gateway(argv: list[str], cwd: Path, *, terminal: bool,
             stdout_terminal: bool = False) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) of ``python -m gateway ARGV``; with ``terminal`` stderr
    (and with ``stdout_terminal`` stdout too) is a pseudo-terminal, read while it runs."""
    command = [sys.executable, "-m", "gateway", *argv]
    if not terminal:
        done = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    controller, tty = pty.openpty()
    fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    shown = bytearray()
    reader = threading.Thread(target=_drain, args=(controller, shown))
    reader.start()
    try:
        out = tty if stdout_terminal else subprocess.PIPE
        done = subprocess.run(command, cwd=cwd, env=_env(), stdout=out, stderr=tty,
                              timeout=120)
    finally:
        os.close(tty)
        reader.join(timeout=30)
        os.close(controller)
    return done.returncode, done.stdout or b"", bytes(shown)


def _drain(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            return
        if not chunk:
            return
        into += chunk


@pytest.mark.parametrize(("argv", "description"), [
    (["parse", str(SAMPLE)], "reading central_pay_multi_st.835"),
    (["parse", str(SAMPLE), "--format", "summary"], "reading central_pay_multi_st.835"),
    (["parse", str(NCPDP), "--format", "jsonl"], "reading synth-seed7-requests.ncpdp"),
    (["validate", str(SAMPLE)], "checking central_pay_multi_st.835"),
    (["validate", str(SAMPLE), "--tr3"], "checking central_pay_multi_st.835"),
    (["split", str(SAMPLE), "--out", "parts"], "splitting central_pay_multi_st.835"),
], ids=["parse-json", "parse-summary", "parse-ncpdp", "validate", "validate-tr3", "split"])
def test_a_bar_on_a_terminal_none_in_a_pipe_and_the_same_stdout(tmp_path, argv, description):
    (tmp_path / "tty").mkdir()
    (tmp_path / "pipe").mkdir()
    code, out, shown = _gateway(argv, tmp_path / "tty", terminal=True)
    piped_code, piped_out, piped_err = _gateway(argv, tmp_path / "pipe", terminal=False)
    assert code == piped_code == 0, (shown, piped_err)
    assert description.encode() in shown and BAR in shown and b"kB" in shown
    assert piped_err == b""  # no bar, no escape codes in a pipe or a log
    assert out == piped_out and out  # stdout byte for byte the same
    if argv[0] == "split":
        tty_parts, pipe_parts = (sorted((tmp_path / side / "parts").iterdir())
                                 for side in ("tty", "pipe"))
        assert [p.name for p in tty_parts] == [p.name for p in pipe_parts]
        for ours, theirs in zip(tty_parts, pipe_parts, strict=True):
            if not ours.name.startswith("."):  # the control-number counter is SQLite
                assert ours.read_bytes() == theirs.read_bytes(), ours.name


def test_parse_to_the_terminal_draws_no_bar_over_its_output(tmp_path):
    code, _, shown = _gateway(["parse", str(SAMPLE), "--format", "summary"], tmp_path,
                              terminal=True, stdout_terminal=True)
    assert code == 0 and b"bpr02=5505.21" in shown  # the output is there, on the terminal
    assert b"reading central_pay" not in shown and BAR not in shown


def test_without_a_terminal_the_command_reads_the_plain_file(tmp_path):
    """The cost when off is none: the stream is the file object itself, not a wrapper."""
    with reading(SAMPLE, "reading") as stream:
        assert type(stream) is io.BufferedReader


def test_the_metered_stream_counts_every_pass_and_reports_in_steps(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 16384)  # 4 MiB
    calls: list[tuple[int, int]] = []
    total = path.stat().st_size * 2
    with path.open("rb") as raw:
        metered = MeteredReader(raw, lambda done, of: calls.append((done, of)), total)
        assert metered.fileno() == raw.fileno() and metered.readable()
        first = b"".join(iter(lambda: metered.read(65536), b""))
        metered.seek(0)
        buffer = bytearray(1 << 18)
        second = 0
        while size := metered.readinto(buffer):
            second += size
        assert first == path.read_bytes() and second == len(first)
        assert metered.tell() == len(first)
    # one report per MiB (the step), never more than the total, never backwards
    assert len(calls) == 8 and calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
