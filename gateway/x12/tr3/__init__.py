"""TR3 (005010X221A1 implementation guide) validation: the deep stage a partner can switch on."""

from gateway.x12.tr3.pyx12_reference import Tr3Validator, pyx12_can_run, validate_tr3

__all__ = ["Tr3Validator", "pyx12_can_run", "validate_tr3"]
