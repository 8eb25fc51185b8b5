"""What an alert says: the mail's subject and body, the webhook's JSON.

One notice gives one message; more notices than the hourly rate limit allows go out as one
digest listing them all. The text is made of the alert's rule, ids, counts and codes (see
gateway/alerts/rules.py): nothing here reads a file, a claim or an error message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.store.alerts import Notice

SOURCE = "psao-gateway"
_WORD = {"opened": "ALERT", "resolved": "RESOLVED"}


def headline(notices: Sequence[Notice], instance: str) -> str:
    """The mail's subject and the webhook's first line."""
    if len(notices) == 1:
        notice = notices[0]
        text = f"{_WORD[notice.transition]} {notice.alert.rule}: {notice.alert.summary}"
    else:
        opened = sum(n.transition == "opened" for n in notices)
        text = (f"{len(notices)} alert changes: {opened} opened, "
                f"{len(notices) - opened} resolved (digest: the hourly limit was reached)")
    return f"[gateway {instance}] {text}"[:250]


def body(notices: Sequence[Notice], instance: str) -> str:
    """The mail's text: one paragraph per notice, then where to look."""
    paragraphs = [_paragraph(notice) for notice in notices]
    footer = (f"From the PSAO gateway {instance}. Look a file up with `gateway trace F<id>`, "
              "deliveries with `gateway deliveries list`, or on the console's dashboard.\n"
              "Alerts carry ids, counts and codes only, never patient or claim data.")
    return "\n\n".join([*paragraphs, footer]) + "\n"


def webhook_payload(notices: Sequence[Notice], instance: str) -> dict[str, Any]:
    """JSON for a webhook: ``text`` is what Slack and Teams incoming webhooks show; the
    ``alerts`` list is for a program."""
    lines = [headline(notices, instance)]
    if len(notices) > 1:
        lines += [f"{_WORD[n.transition]} {n.alert.rule}: {n.alert.summary}" for n in notices]
    return {"text": "\n".join(lines), "source": SOURCE, "instance": instance,
            "alerts": [_record(notice) for notice in notices]}


def _paragraph(notice: Notice) -> str:
    alert = notice.alert
    lines = [f"{_WORD[notice.transition]} {alert.rule}: {alert.summary}",
             f"  about: {alert.entity_type} {alert.entity_id}",
             f"  opened: {_time(alert.opened_at)}"]
    if alert.resolved_at is not None:
        lines.append(f"  resolved: {_time(alert.resolved_at)}")
    lines.append(f"  alert: A{alert.id}")
    return "\n".join(lines)


def _record(notice: Notice) -> dict[str, Any]:
    alert = notice.alert
    return {"id": alert.id, "rule": alert.rule, "transition": notice.transition,
            "state": alert.state, "entity_type": alert.entity_type,
            "entity_id": alert.entity_id, "summary": alert.summary, "count": alert.count,
            "opened_at": _time(alert.opened_at),
            "resolved_at": _time(alert.resolved_at) if alert.resolved_at else None}


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
