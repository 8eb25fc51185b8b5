"""Progress on long CLI work: one bar, on stderr, only when stderr is a terminal.

Two kinds of long work share the one bar: counted work (``retry --all-dead``, ``replay``
call back with (done, total)) and reading a big file (``parse``, ``validate``, ``split``),
whose progress is the bytes its reader has read. For a file, :func:`reading` hands the
command the stream to read from: with a bar, a thin wrapper whose reads advance it; without
one (a pipe, CI, a log file), the plain file object itself — so a command that shows no bar
pays nothing for the feature.

The bar never takes over stdout (rich's ``redirect_stdout`` would send the command's output
through the console on stderr): stdout stays byte for byte what the command writes. A command
whose output streams while the file is read (``parse``) shows no bar when stdout is the same
terminal, where the bar would draw over the output.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from gateway.service.operations import Progress

# The bar is redrawn ten times a second anyway: telling it more often than every 1/500 of
# the file (or 1 MiB) is wasted work.
_MIN_STEP = 1 << 20
_STEPS = 500


def on_terminal() -> bool:
    """Whether a bar may be shown: stderr is a terminal (never in pipes, CI or logs)."""
    return sys.stderr.isatty()


@contextmanager
def progress(description: str, *, in_bytes: bool = False,
             total: int | None = None) -> Iterator[Progress | None]:
    """A ``rich`` progress bar on stderr while long work runs — only when stderr is a
    terminal (a pipe or a log file gets no bar). Yields the (done, total) callback, or None.
    ``in_bytes`` shows done/total as sizes and a rate (for reading a file); ``total``, when
    known before the work starts, is drawn from the first frame."""
    if not on_terminal():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bar

    columns: list[Any] = [TextColumn("[progress.description]{task.description}"),
                          BarColumn(), TaskProgressColumn()]
    if in_bytes:
        columns += [DownloadColumn(), TransferSpeedColumn()]
    columns.append(TimeRemainingColumn())
    with Bar(*columns, console=Console(stderr=True), transient=True,
             redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task(description, total=total)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def reading(path: Path, description: str, *, passes: int = 1,
            streams_output: bool = False) -> Iterator[BinaryIO]:
    """``path`` opened for binary reading, with a bar of the bytes read when one may be shown.

    ``passes``: how many times the command reads the file (it seeks back to 0 in between);
    the bar counts every byte read, so it ends full after the last pass. ``streams_output``:
    the command writes stdout while reading, so no bar when stdout is a terminal too."""
    with path.open("rb") as stream:
        if not on_terminal() or (streams_output and sys.stdout.isatty()):
            yield stream
            return
        total = max(os.fstat(stream.fileno()).st_size * passes, 1)
        with progress(description, in_bytes=True, total=total) as update:
            assert update is not None  # on a terminal
            metered = MeteredReader(stream, update, total)
            yield metered
            update(total, total)


class MeteredReader(io.BufferedIOBase, BinaryIO):
    """A binary stream that reports the bytes read through it to a (done, total) callback.

    Only what readers call is metered (read, read1, readinto, readline); name, seek, tell
    and fileno are the file's own (readers name the file in findings by its ``name``; the
    splitter copies parts from the descriptor directly)."""

    def __init__(self, raw: io.BufferedReader, update: Progress, total: int) -> None:
        super().__init__()
        self._raw = raw
        self._update = update
        self._total = total
        self._done = 0
        self._shown = 0
        self._step = max(_MIN_STEP, total // _STEPS)

    def _count(self, size: int) -> None:
        self._done += size
        if self._done - self._shown >= self._step:
            self._shown = self._done
            self._update(min(self._done, self._total), self._total)

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        self._count(len(data))
        return data

    def read1(self, size: int = -1) -> bytes:
        data = self._raw.read1(size)
        self._count(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        size = self._raw.readinto(buffer) or 0
        self._count(size)
        return size

    def readline(self, size: int | None = -1) -> bytes:
        data = self._raw.readline(-1 if size is None else size)
        self._count(len(data))
        return data

    @property
    def name(self) -> Any:
        return self._raw.name

    @property
    def mode(self) -> str:
        return self._raw.mode

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:  # the file is closed by :func:`reading`, which opened it
        super().close()
