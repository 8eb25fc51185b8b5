"""The operator's actions on the message store — one implementation for the CLI and the console.

Resend one delivery (even a delivered one), redirect it to a corrected destination, release
a held part to a chosen member, retry dead letters, replay a file, retry a failed file (the
daemon does the same for every failed file after a configuration reload), pause and resume a
partner's polling. Each records an audit event naming ``actor`` (the CLI's OS user, the
console's account).

With the configuration loaded (``config``), a delivery for a member whose roster destination
was corrected since it was queued goes to the corrected one on retry, resend and replay — the
event says "to <new destination>" — and a held part is released to the pharmacy it turned
out to be once that pharmacy is in the roster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gateway.config.configuration import Configuration
from gateway.errors import ConfigError, StoreError
from gateway.service.targets import Target, member_of, resolve_target
from gateway.store import file_retry
from gateway.store.base import MessageStore
from gateway.store.models import Delivery, DeliveryState, ReceivedFile
from gateway.store.operator import DeliveryQuery

Progress = Callable[[int, int], None]  # (done, total): for a progress bar


class Operations:
    """Operator actions by one actor over one store (and, when given, the configuration)."""

    def __init__(self, store: MessageStore, *, actor: str,
                 config: Configuration | None = None) -> None:
        self.store = store
        self.actor = actor
        self.config = config

    # -- one delivery ------------------------------------------------------------------------

    def resend(self, delivery_id: int, reason: str = "") -> Delivery:
        """Send it again now, whatever its outcome was (to the member's current destination)."""
        delivery = self.store.get_delivery(delivery_id)
        return self.store.resend(delivery_id, destination=self.corrected(delivery),
                                 actor=self.actor, reason=reason)

    def redirect(self, delivery_id: int, to: str, reason: str = "") -> Delivery:
        """Send it to ``to`` (a member or a destination) instead; a held one is released."""
        target = resolve_target(to, self.config)
        delivery = self.store.get_delivery(delivery_id)
        if delivery.state is DeliveryState.HELD:
            return self.store.release(delivery_id, destination=target.destination,
                                      actor=self.actor, reason=reason)
        return self.store.resend(delivery_id, destination=target.destination,
                                 actor=self.actor, reason=reason)

    def release(self, delivery_id: int, to: str | None = None, reason: str = "") -> Delivery:
        """Release a held part: to ``to``, or to the roster member it names (once that
        pharmacy is in the roster)."""
        delivery = self.store.get_delivery(delivery_id)
        if delivery.state is not DeliveryState.HELD:
            raise StoreError(f"delivery {delivery_id} is {delivery.state}, not held",
                             fix="`gateway deliveries resend` sends a delivery again")
        target = resolve_target(to, self.config) if to else self._held_member(delivery)
        return self.store.release(delivery_id, destination=target.destination,
                                  actor=self.actor, reason=f"{target.describe()}; {reason}")

    def retry(self, delivery_id: int, reason: str = "") -> Delivery:
        delivery = self.store.get_delivery(delivery_id)
        return self.store.retry(delivery_id, actor=self.actor, reason=reason,
                                to=self.corrected(delivery))

    # -- many --------------------------------------------------------------------------------

    def retry_all_dead(self, destination: str | None = None, reason: str = "",
                       progress: Progress | None = None) -> int:
        dead = [listing.delivery for listing in self.store.search_deliveries(
            DeliveryQuery(state=DeliveryState.DEAD, destination=destination), limit=1 << 30)]
        redirects = self._redirects(dead, progress)
        return self.store.retry_all_dead(destination=destination, actor=self.actor,
                                         reason=reason, redirects=redirects)

    def replay_file(self, file_id: int, reason: str = "",
                    progress: Progress | None = None) -> int:
        redirects = self._redirects(self.store.deliveries_of_file(file_id), progress)
        return self.store.replay_file(file_id, actor=self.actor, reason=reason,
                                      redirects=redirects)

    def retry_file(self, file_id: int, reason: str = "") -> ReceivedFile:
        """Take a failed file up again from the start (gateway/store/file_retry.py)."""
        return file_retry.retry_file(self.store, file_id, actor=self.actor, reason=reason)

    def retry_failed_files(self, reason: str = "") -> list[int]:
        """Retry every failed file; their ids."""
        return file_retry.retry_failed_files(self.store, actor=self.actor, reason=reason)

    # -- partners ----------------------------------------------------------------------------

    def pause_partner(self, partner: str, reason: str = "") -> None:
        self.store.pause_partner(self._partner(partner), actor=self.actor, reason=reason)

    def resume_partner(self, partner: str, reason: str = "") -> bool:
        return self.store.resume_partner(self._partner(partner), actor=self.actor,
                                         reason=reason)

    # -- the roster's word on destinations ---------------------------------------------------

    def corrected(self, delivery: Delivery) -> str | None:
        """The member's roster destination when it differs from the delivery's (the roster
        was corrected after the delivery was queued); None to leave it as it is."""
        if self.config is None:
            return None
        document = self.store.get_document(delivery.document_id)
        if "pharmacy_id" not in document.routing_keys:
            return None  # not a member's part (an acknowledgment to a PBM, ...)
        member = member_of(document, self.config.roster)
        if member is None or not member.active or str(member.destination) == delivery.destination:
            return None
        return str(member.destination)

    def _redirects(self, deliveries: Iterable[Delivery],
                   progress: Progress | None) -> dict[int, str]:
        found = {}
        listed = list(deliveries)
        for n, delivery in enumerate(listed, 1):
            corrected = self.corrected(delivery)
            if corrected is not None:
                found[delivery.id] = corrected
            if progress is not None:
                progress(n, len(listed))
        return found

    def _held_member(self, delivery: Delivery) -> Target:
        document = self.store.get_document(delivery.document_id)
        if self.config is None:
            raise ConfigError(
                f"delivery {delivery.id} is held and no roster is loaded to find its pharmacy",
                fix="pass --config PATH (the daemon's gateway.toml), or --to MEMBER|DESTINATION")
        member = member_of(document, self.config.roster)
        ids = ", ".join(f"{k} {v}" for k, v in sorted(document.routing_keys.items())
                        if k in ("npi", "ncpdp_id", "tin"))
        if member is None:
            raise ConfigError(
                f"delivery {delivery.id} is held for a pharmacy not in the roster ({ids})",
                fix="add it to members.csv (and reload the daemon), or name where it goes: "
                "--to MEMBER|folder:/dir|sftp:id:/dir")
        if not member.active:
            raise ConfigError(f"member {member.pharmacy_id} ({ids}) is inactive",
                              fix="activate it in members.csv, or --to another destination")
        return Target(str(member.destination), member)

    def _partner(self, partner: str) -> str:
        if self.config is not None and partner not in self.config.pbms:
            raise ConfigError(f"there is no partner {partner!r}",
                              fix="use one of: " + ", ".join(sorted(self.config.pbms)))
        return partner
