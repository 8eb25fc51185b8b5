"""The alert rules: what counts as wrong, about what, and how it is said.

Each rule is a query of the store (``rule_<name>`` in sql/<backend>/alerts.sql) that returns
one row per thing wrong *now*; a condition lasts as long as its row comes back. The words
here carry ids, counts and codes only: a quarantine reason, an error message or a file name
can quote the data (a member id in a bad segment, a patient's name in a file name), so none
of them is ever put into an alert.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from gateway.store.alerts import AlertStore, Condition
from gateway.store.models import Row

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")  # an InputError code: "truncated", "se-count"


def _quarantined(row: Row) -> str:
    code = str(row["detail"]).partition(":")[0].strip()
    return (f"file F{row['entity_id']} from {row['partner']} quarantined: "
            f"{code if _CODE.match(code) else 'see the file'}")


def _held(row: Row) -> str:
    return (f"file F{row['entity_id']} from {row['partner']}: {row['n']} part(s) held for an "
            f"unknown or inactive pharmacy (first: delivery D{row['detail']})")


def _dead(row: Row) -> str:
    return (f"{row['n']} dead letter(s) for {row['entity_id']} "
            f"(oldest: delivery D{row['detail']})")


def _failed(row: Row) -> str:
    """The stage and the error's type only (the reason's message may quote data)."""
    found = re.match(r"([a-z ]{1,20}): (\w{1,60})", str(row["detail"]))
    error = f"{found[1]}, {found[2]}" if found else "an error"
    return (f"file F{row['entity_id']} from {row['partner']}: processing failed ({error}); "
            f"retried after a reload or `gateway files retry F{row['entity_id']}`")


def _sla(row: Row) -> str:
    return f"partner {row['entity_id']}: {row['n']} SLA deadline(s) missed; {row['detail']}"


def _unreachable(row: Row) -> str:
    return f"partner {row['entity_id']} unreachable: {row['detail']}"


def _reload(row: Row) -> str:
    return f"daemon {row['entity_id']}: reload refused, the running configuration kept; " \
        f"{row['detail']}"


# rule -> (the entity its rows are about, how a row is said)
RULES: dict[str, tuple[str, Callable[[Row], str]]] = {
    "sla-missed": ("partner", _sla),
    "file-quarantined": ("file", _quarantined),
    "part-held": ("file", _held),
    "dead-letter": ("destination", _dead),
    "processing-failed": ("file", _failed),
    "partner-unreachable": ("partner", _unreachable),
    "reload-refused": ("daemon", _reload),
}


def conditions(alerts: AlertStore, rules: Iterable[str]) -> dict[tuple[str, str, str], Condition]:
    """Every condition of the given rules now, by (rule, entity type, entity id)."""
    found: dict[tuple[str, str, str], Condition] = {}
    for rule in rules:
        entity_type, say = RULES[rule]
        for row in alerts.rule_rows(rule):
            condition = Condition(rule, entity_type, str(row["entity_id"]), say(row),
                                  int(row["n"]))
            found[condition.key] = condition
    return found
