"""When is a partner's file complete? Two conventions, chosen per partner.

A partner uploading a 200 MB central-pay 835 is visible in the directory long before it is
complete. There is no lock to look at over SFTP, so we use what the partner gives us:

* **stable** (the default): the file's size and mtime are unchanged across two polls taken at
  least ``settle_seconds`` apart. SFTP mtimes have one-second resolution, hence the settle time.
* **marker**: the partner writes ``NAME`` then an empty ``NAME.done`` (or ``.ok``): the file
  is ready when its marker exists, whatever its mtime.

Names that are somebody's work in progress are never offered: dot files, ``.part``/``.tmp``
(our own and WinSCP's ``.filepart``) and the markers themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gateway.transport.base import RemoteFile

TEMP_SUFFIXES = (".part", ".tmp", ".filepart", ".partial")
READINESS_MODES = ("stable", "marker")


def is_temporary(name: str) -> bool:
    """A name someone is still writing (or hiding): never offered as a ready file."""
    lowered = name.lower()
    return name.startswith(".") or lowered.endswith(TEMP_SUFFIXES)


@dataclass
class StabilityTracker:
    """Remembers each file's (size, mtime) between polls; a file is ready once it stops changing.

    One tracker lives as long as its Source (across polls). After a restart the first poll
    offers nothing and the next one does: a late file is better than a truncated one.
    """

    settle_seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, tuple[int, float, float]] = field(default_factory=dict)

    def ready(self, listing: Iterable[RemoteFile]) -> list[RemoteFile]:
        now = self.clock()
        current: dict[str, tuple[int, float, float]] = {}
        ready = []
        for remote in listing:
            size, mtime, since = self._seen.get(remote.path, (-1, -1.0, now))
            if (size, mtime) != (remote.size, remote.mtime):
                since = now
            elif now - since >= self.settle_seconds:
                ready.append(remote)
            current[remote.path] = (remote.size, remote.mtime, since)
        self._seen = current  # files that vanished are forgotten
        return ready

    def forget(self, remote: RemoteFile) -> None:
        """Called after acknowledge, so a new file under the same name starts afresh."""
        self._seen.pop(remote.path, None)


@dataclass(frozen=True)
class Readiness:
    """A partner's readiness convention, from its config."""

    mode: str = "stable"
    marker_suffix: str = ".done"
    settle_seconds: float = 1.0

    def marker_for(self, name: str) -> str:
        return name + self.marker_suffix

    def select(self, names: dict[str, RemoteFile], tracker: StabilityTracker) -> list[RemoteFile]:
        """The ready files among a directory listing (``names`` maps base name to entry,
        temp names and markers included; they are filtered here)."""
        candidates = [
            remote
            for name, remote in sorted(names.items())
            if not is_temporary(name) and not self._is_marker(name)
        ]
        if self.mode == "marker":
            return [r for r in candidates if self.marker_for(r.name) in names]
        return tracker.ready(candidates)

    def _is_marker(self, name: str) -> bool:
        return self.mode == "marker" and name.endswith(self.marker_suffix)
