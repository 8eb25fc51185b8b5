"""An NCPDP transmission's pharmacy (201-B1) is recorded under the roster key its qualifier
(202-B2) names: an NPI was recorded as an NCPDP id before, so a search by NCPDP id could
match a pharmacy's NPI."""

from __future__ import annotations

import pytest

from gateway.daemon.route import provider_keys


@pytest.mark.parametrize(("qualifier", "keys"), [
    ("01", {"npi": "1234567893"}),
    ("07", {"ncpdp_id": "1234567893"}),
    ("05", {"service_provider_id": "1234567893", "service_provider_id_qualifier": "05"}),
    ("  ", {"service_provider_id": "1234567893", "service_provider_id_qualifier": "  "}),
])
def test_the_qualifier_names_the_key(qualifier, keys):
    assert provider_keys(qualifier, "1234567893") == keys
