"""PSAO gateway: pulls PBM remittances and NCPDP claim files, parses them into canonical
documents, routes each pharmacy its own part, and delivers it exactly once."""

__version__ = "0.1.0"
