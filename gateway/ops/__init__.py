"""Operator tooling around the daemon: ``check`` (connectivity), ``scaffold`` (``gateway
init``) and the ``demo``."""
