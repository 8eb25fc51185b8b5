"""Alerts: rules that read the message store's state and events, and channels that tell an
operator (e-mail over SMTP with STARTTLS, a JSON webhook that Slack and Teams read).

:class:`gateway.alerts.engine.AlertEngine` is what the daemon runs on its cycle; the state of
each alert lives in the store (:mod:`gateway.store.alerts`).
"""
