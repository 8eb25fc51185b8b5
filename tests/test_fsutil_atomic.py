"""The one atomic write: a hidden temp file, then a rename; nothing left behind on an error."""

from __future__ import annotations

import stat

import pytest

from gateway.fsutil import atomic_write


def test_the_file_appears_whole_under_its_final_name_private_by_default(tmp_path):
    final = tmp_path / "out.835"
    with atomic_write(final) as pending:
        pending.file.write(b"ISA*")
        assert not final.exists()
        assert pending.temp.name.startswith(".") and pending.temp.name.endswith(".part")
        assert pending.temp.parent == tmp_path
    assert final.read_bytes() == b"ISA*"
    assert stat.S_IMODE(final.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.835"]


def test_an_error_while_writing_leaves_neither_file_nor_temp(tmp_path):
    final = tmp_path / "out.835"
    final.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(final) as pending:
        pending.file.write(b"half")
        raise RuntimeError("the source broke")
    assert final.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.835"]


def test_the_final_name_may_come_from_the_content_or_be_dropped(tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    with atomic_write(None, directory=incoming, prefix=".payload-", suffix="") as pending:
        pending.file.write(b"abc")
        pending.final = tmp_path / "abc"
    assert (tmp_path / "abc").read_bytes() == b"abc"
    with atomic_write(None, directory=incoming) as pending:
        pending.file.write(b"abc")
        pending.final = None  # kept already
    assert list(incoming.iterdir()) == []


def test_a_final_name_or_a_directory_is_needed(tmp_path):
    with pytest.raises(ValueError, match="needs a directory"), atomic_write(None):
        pass
