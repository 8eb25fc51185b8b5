"""What an operator may change in the queue, over the SQL back ends, written once for both.

Here: which state changes an operator may make — retry a dead or failed delivery, release a
held one, replay a file's deliveries, resend one whatever its outcome, pause a partner's
polling — and the wording of their audit events, each appended in the same transaction as the
change. The statements are the back end's ``queries.sql`` (retry, release, replay) and
``console.sql`` (resend, pauses); the interfaces are :class:`MessageStore` and
:class:`OperatorStore`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from gateway.errors import StoreError
from gateway.store.connection import Transaction, returned_row
from gateway.store.errors import NotFound
from gateway.store.models import Delivery, DeliveryState, Row, delivery_from_row
from gateway.store.operator_models import PartnerPause, pause_from_row
from gateway.store.sqlstore import SQLStore, _Connection


class ActionSQLStore(SQLStore[_Connection]):
    """SQLStore plus the operator's state changes of deliveries and partners."""

    # -- the delivery queue: retry, release, replay ------------------------------------------

    def retry(
        self, delivery_id: int, *, actor: str, reason: str = "", to: str | None = None
    ) -> Delivery:
        with self._intake.transaction() as db:
            current = db.execute(self._sql["lock_delivery"], {"id": delivery_id}).fetchone()
            if current is None:
                raise NotFound("delivery", delivery_id)
            if current["state"] not in (DeliveryState.DEAD, DeliveryState.FAILED):
                raise StoreError(
                    f"delivery {delivery_id} is {current['state']}, not dead or failed",
                    fix="to send a delivered file again, replay its file (`gateway trace` "
                    "shows the file id)",
                )
            row = self._requeue(db, delivery_id, "retried", actor, reason, to)
        return delivery_from_row(row)

    def retry_all_dead(
        self,
        *,
        destination: str | None = None,
        actor: str,
        reason: str = "",
        redirects: Mapping[int, str] | None = None,
    ) -> int:
        redirects = redirects or {}
        with self._intake.transaction() as db:
            dead = db.execute(self._sql["dead_ids"], {"destination": destination})
            ids = [row["id"] for row in dead]
            for delivery_id in ids:
                self._requeue(db, delivery_id, "retried", actor, reason, redirects.get(delivery_id))
        return len(ids)

    def release(
        self, delivery_id: int, *, destination: str | None = None, actor: str, reason: str = ""
    ) -> Delivery:
        params = {"id": delivery_id, "destination": destination, "now": time.time()}
        with self._intake.transaction() as db:
            row = db.execute(self._sql["release"], params).fetchone()
            if row is None:
                current = db.execute(self._sql["get_delivery"], params).fetchone()
                if current is None:
                    raise NotFound("delivery", delivery_id)
                raise StoreError(f"delivery {delivery_id} is {current['state']}, not held")
            why = f"to {row['destination']}; {reason}"
            self._log(db, "delivery", delivery_id, "released", actor, why)
        return delivery_from_row(row)

    def replay_file(
        self,
        file_id: int,
        *,
        actor: str,
        reason: str = "",
        redirects: Mapping[int, str] | None = None,
    ) -> int:
        """Leased deliveries are in flight and held ones wait for release: the SQL's
        ``replayable_ids`` leaves both out."""
        redirects = redirects or {}
        with self._intake.transaction() as db:
            if db.execute(self._sql["get_file"], {"id": file_id}).fetchone() is None:
                raise NotFound("file", file_id)
            replayable = db.execute(self._sql["replayable_ids"], {"file_id": file_id})
            ids = [row["id"] for row in replayable]
            for delivery_id in ids:
                why = f"file {file_id}; {reason}"
                self._requeue(db, delivery_id, "replayed", actor, why, redirects.get(delivery_id))
            why = f"{len(ids)} deliveries; {reason}"
            self._log(db, "file", file_id, "replayed", actor, why)
        return len(ids)

    def _requeue(
        self, db: Transaction, delivery_id: int, action: str, actor: str, why: str,
        to: str | None = None,
    ) -> Row:
        """Back to pending now, with a fresh attempt count and age clock (and to ``to``, when
        the member's destination was corrected), and say who did it."""
        params = {"id": delivery_id, "destination": to, "now": time.time()}
        row = returned_row(db.execute(self._sql["requeue"], params), "requeue")
        self._log(db, "delivery", delivery_id, action, actor, f"to {to}; {why}" if to else why)
        return row

    # -- resend, and pausing a partner --------------------------------------------------------

    def resend(
        self, delivery_id: int, *, destination: str | None = None, actor: str, reason: str = ""
    ) -> Delivery:
        params = {"id": delivery_id, "destination": destination, "now": time.time()}
        with self._intake.transaction() as db:
            before = db.execute(self._sql["lock_delivery"], params).fetchone()
            if before is None:
                raise NotFound("delivery", delivery_id)
            row = db.execute(self._sql["resend"], params).fetchone()
            if row is None:
                raise StoreError(
                    f"delivery {delivery_id} is {before['state']}: it cannot be sent again now",
                    fix="a held delivery is released (`gateway deliveries release`); a leased "
                    "one is being sent right now: wait for its outcome",
                )
            moved = destination is not None and destination != before["destination"]
            action = "redirected" if moved else "resent"
            where = f"from {before['destination']} to {row['destination']}" if moved else (
                f"to {row['destination']} (was {before['state']})")
            self._log(db, "delivery", delivery_id, action, actor, f"{where}; {reason}")
        return delivery_from_row(row)

    def pause_partner(self, partner: str, *, actor: str, reason: str = "") -> PartnerPause:
        params = {"partner": partner, "actor": actor, "reason": reason, "now": time.time()}
        with self._intake.transaction() as db:
            row = db.execute(self._sql["pause_partner"], params).fetchone()
            if row is None:
                raise StoreError(f"partner {partner} is paused already",
                                 fix=f"`gateway partners resume {partner}` polls it again")
            self._log(db, "partner", partner, "paused", actor, reason or "polling paused")
        return pause_from_row(row)

    def resume_partner(self, partner: str, *, actor: str, reason: str = "") -> bool:
        with self._intake.transaction() as db:
            row = db.execute(self._sql["resume_partner"], {"partner": partner}).fetchone()
            if row is not None:
                self._log(db, "partner", partner, "resumed", actor, reason or "polling resumed")
        return row is not None

    def partner_pauses(self) -> dict[str, PartnerPause]:
        return {p.partner: p for p in self._read("partner_pauses", {}, pause_from_row)}
