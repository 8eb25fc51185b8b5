"""Atomic delivery into local folders, and partner file names treated as data."""

import hashlib
import io

import pytest

from gateway.errors import InputError
from gateway.fsutil import safe_name
from gateway.transport.folder import FolderSink


def test_deliver_writes_whole_file_under_final_name(tmp_path):
    payload = b"ISA*00*" * 50_000
    delivered = FolderSink(tmp_path / "pharmacy").deliver("remit.835", io.BytesIO(payload))
    final = tmp_path / "pharmacy" / "remit.835"
    assert final.read_bytes() == payload
    assert delivered.size == len(payload)
    assert delivered.sha256 == hashlib.sha256(payload).hexdigest()
    assert [p.name for p in final.parent.iterdir()] == ["remit.835"]


def test_redelivery_overwrites_instead_of_duplicating(tmp_path):
    sink = FolderSink(tmp_path)
    sink.deliver("a.835", io.BytesIO(b"first"))
    sink.deliver("a.835", io.BytesIO(b"second"))
    assert [p.read_bytes() for p in tmp_path.iterdir()] == [b"second"]


class _FailingReader(io.RawIOBase):
    def readinto(self, buffer):
        raise OSError("disk went away")


def test_failed_delivery_leaves_no_file_at_all(tmp_path):
    with pytest.raises(OSError):
        FolderSink(tmp_path).deliver("a.835", _FailingReader())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/abs/path/remit.835", "remit.835"),
        ("dir\\win\\file.txt", "file.txt"),
        (".hidden", "_hidden"),
        ("rémit 1.835", "r_mit_1.835"),
        ("a" * 300, "a" * 200),
    ],
)
def test_safe_name_keeps_one_harmless_component(given, expected):
    assert safe_name(given) == expected


@pytest.mark.parametrize("given", ["..", "/", "", "../.."])
def test_safe_name_refuses_names_with_nothing_left(given):
    with pytest.raises(InputError) as info:
        safe_name(given)
    assert info.value.code == "bad-file-name"

