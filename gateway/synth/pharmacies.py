"""Synthetic member pharmacies: names, NPIs, NCPDP ids and TINs that belong to nobody.

Every generator that needs pharmacies (835 remittances, NCPDP claim files, the router's
roster) draws them from here, so a seed gives the same pharmacies everywhere and a roster CSV
written by one generator matches the files written by another.

The identifiers are shaped like real ones so that validators accept them, but chosen so they
cannot be mistaken for real ones: NPIs carry a valid check digit (Luhn over the ``80840``
health-industry prefix, as CMS specifies) but are drawn at random; TINs start with ``00``, a
prefix the IRS never assigns to an EIN.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

_NAME_WORDS = (
    "MAIN STREET", "RIVERSIDE", "OAKWOOD", "HILLCREST", "LAKEVIEW", "CEDAR", "MAPLE",
    "PINEVIEW", "SUNSET", "MEADOW", "BRIDGE", "VALLEY", "HARBOR", "ORCHARD", "PRAIRIE",
    "SUMMIT", "WILLOW", "FOUR CORNERS", "MILLBROOK", "STONEGATE",
)
_NAME_KINDS = ("PHARMACY", "DRUG", "APOTHECARY", "DRUG STORE", "RX", "FAMILY PHARMACY")
_STREETS = ("MAIN ST", "OAK AVE", "ELM ST", "BROADWAY", "CHURCH ST", "PARK AVE", "MILL RD")
_CITIES = (
    ("SPRINGFIELD", "IL", "62701"), ("FRANKLIN", "TN", "37064"), ("GREENVILLE", "SC", "29601"),
    ("MADISON", "WI", "53703"), ("CLINTON", "IA", "52732"), ("SALEM", "OR", "97301"),
    ("GEORGETOWN", "TX", "78626"), ("ARLINGTON", "VA", "22201"), ("FAIRVIEW", "NJ", "07022"),
)


@dataclass(frozen=True)
class Pharmacy:
    """One synthetic member pharmacy, as the roster and the generated files name it."""

    pharmacy_id: str  # the PSAO's own member number
    name: str
    npi: str  # 10 digits, valid check digit
    ncpdp_id: str  # 7 digits (NCPDP provider id)
    tin: str  # 9 digits, 00 prefix (never a real EIN)
    street: str
    city: str
    state: str
    postal_code: str


def npi_check_digit(first_nine: str) -> str:
    """The NPI check digit: Luhn over ``80840`` + the first nine digits (CMS NPI standard)."""
    total = 0
    for position, char in enumerate(reversed("80840" + first_nine)):
        digit = int(char)
        if position % 2 == 0:  # doubled: the rightmost payload digit and every second one
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is ten digits whose last one is the Luhn check digit."""
    return len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == npi[9]


def make_npi(rng: random.Random) -> str:
    """A random organisation-style NPI (leading 1) with a valid check digit."""
    first_nine = "1" + "".join(rng.choice("0123456789") for _ in range(8))
    return first_nine + npi_check_digit(first_nine)


def make_pharmacies(seed: int, count: int) -> list[Pharmacy]:
    """``count`` distinct pharmacies, the same for the same seed (NPIs and NCPDP ids unique)."""
    rng = random.Random(f"pharmacies:{seed}")
    seen_npis: set[str] = set()
    seen_ncpdp: set[str] = set()
    pharmacies = []
    for index in range(1, count + 1):
        npi = make_npi(rng)
        while npi in seen_npis:
            npi = make_npi(rng)
        seen_npis.add(npi)
        ncpdp_id = f"{rng.randint(1000000, 9999999)}"
        while ncpdp_id in seen_ncpdp:
            ncpdp_id = f"{rng.randint(1000000, 9999999)}"
        seen_ncpdp.add(ncpdp_id)
        city, state, postal_code = rng.choice(_CITIES)
        pharmacies.append(
            Pharmacy(
                pharmacy_id=f"PH{index:05d}",
                name=f"{rng.choice(_NAME_WORDS)} {rng.choice(_NAME_KINDS)} {index}",
                npi=npi,
                ncpdp_id=ncpdp_id,
                tin=f"00{rng.randint(0, 9999999):07d}",
                street=f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
                city=city,
                state=state,
                postal_code=postal_code,
            )
        )
    return pharmacies


ROSTER_COLUMNS = ("pharmacy_id", "name", "npi", "ncpdp_id", "tin")


def write_roster(path: Path, pharmacies: list[Pharmacy]) -> None:
    """Write the roster CSV (one row per pharmacy, header ``ROSTER_COLUMNS``)."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(ROSTER_COLUMNS)
        for pharmacy in pharmacies:
            writer.writerow([getattr(pharmacy, column) for column in ROSTER_COLUMNS])
