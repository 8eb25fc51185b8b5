"""A store row's state is read into its enum once, at the edge, and an unknown one is named."""

import pytest

from gateway.errors import StoreError
from gateway.store.models import FileStatus, file_from_row

ROW = {"id": 1, "partner": "acme", "remote_path": "/out/a.835", "original_name": "a.835",
       "size": 3, "mtime": None, "sha256": "ab" * 32, "received_at": 0.0, "error": None,
       "duplicate_of": None}


def test_a_known_state_becomes_its_enum():
    assert file_from_row({**ROW, "status": "routed"}).status is FileStatus.ROUTED


def test_an_unknown_state_is_a_store_error_naming_it_and_the_known_ones():
    with pytest.raises(StoreError, match=r"FileStatus 'archived', not one of: received, "):
        file_from_row({**ROW, "status": "archived"})
