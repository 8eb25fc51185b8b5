"""Findings: what the checks found wrong with an X12 file, in a shape acknowledgments can use.

The reader's checks (envelopes, counts, balancing) and the pyx12 TR3 stage both report
findings; the TA1 and 999 writers turn them into acknowledgment segments. A finding names the
level it applies to, so the writer knows whether it rejects the interchange (TA1), the group
(AK9), a transaction set (IK5) or points at a segment (IK3) and element (IK4).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypedDict

from gateway.errors import Location


class Level(Enum):
    """The envelope level a finding applies to."""

    INTERCHANGE = "interchange"  # ISA/IEA: answered by a TA1
    GROUP = "group"  # GS/GE: AK9
    TRANSACTION = "transaction"  # ST/SE: IK5
    SEGMENT = "segment"  # a segment inside ST..SE: IK3 (and IK4 when element_position is set)


@dataclass(frozen=True)
class Finding:
    """One defect. ``fatal`` findings reject what they apply to; the others are warnings.

    ``code`` is a short stable name (``se-count``, ``unbalanced-bpr``, ``isa13-iea02``, ...).
    ``x12_code`` is the code the acknowledgment carries for it (TA105, IK304, IK403, IK502 or
    AK905), when the writer needs one other than its default.
    """

    code: str
    message: str
    level: Level
    location: Location
    fatal: bool = True
    transaction_set: str | None = None  # ST02 of the set it belongs to
    group_control_number: str | None = None  # GS06 of the group it belongs to
    segment_position: int | None = None  # position within ST..SE, ST being 1 (IK302)
    loop_id: str | None = None  # IK303, when known
    element_position: int | None = None  # IK401
    component_position: int | None = None  # IK401-2
    x12_code: str | None = None
    # The element whose presence made this one required or forbidden (a syntax rule such as
    # "if CAS06 is present, CAS05 is required"): the 999's element context (CTX05).
    trigger_element: int | None = None


class FindingDetails(TypedDict, total=False):
    """The optional fields of a :class:`Finding`, as keyword arguments: what a check knows
    beyond the location, and what :func:`~gateway.x12.read.received.attribute` fills in."""

    transaction_set: str | None
    group_control_number: str | None
    segment_position: int | None
    loop_id: str | None
    element_position: int | None
    component_position: int | None
    x12_code: str | None
    trigger_element: int | None
