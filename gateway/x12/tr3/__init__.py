"""TR3 (implementation guide) validation: pyx12's maps compiled into tables, run at the speed
of the reader. ``validate_tr3`` is the one entry point (the CLI's ``validate --tr3`` and the
daemon's ``validation = "tr3"``); pyx12 itself (``pyx12_reference``) is the tests' reference.
"""

from gateway.x12.tr3.validator import Tr3Validator, validate_tr3

__all__ = ["Tr3Validator", "validate_tr3"]
