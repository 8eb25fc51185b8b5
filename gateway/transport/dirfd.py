"""Directory handles that never follow a symbolic link: a drop folder is hostile input.

Whoever may write into a pharmacy's drop folder may also plant a symlink there (``archive ->
/srv/pharmacies/P1/inbox``) or a hard link to a file they could not read themselves. Working
through paths would follow them: archiving ``forged.835`` would then put it in a pharmacy's
inbox. So every step below a configured folder is taken relative to an open directory handle
with ``O_NOFOLLOW``, and a file is read only when it is a regular file with one link.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from gateway.errors import TransportError

DIRECTORY_MODE = 0o700
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@contextmanager
def open_directory(path: Path) -> Iterator[int]:
    """The configured folder itself (the operator's path, trusted as configured)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


@contextmanager
def open_below(base_fd: int, parts: tuple[str, ...], *, where: str,
               create: bool = False) -> Iterator[int]:
    """Walk ``parts`` down from ``base_fd``, each one a real directory (created when missing
    and ``create``), never a symlink: a planted link is refused, not followed."""
    fd = os.dup(base_fd)
    try:
        for part in parts:
            if create:
                with suppress(FileExistsError):
                    os.mkdir(part, DIRECTORY_MODE, dir_fd=fd)
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                if _is_link(fd, part):
                    raise symlink_refused(where) from error
                raise
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def symlink_refused(where: str) -> TransportError:
    return TransportError(
        f"{where} is a symbolic link (or not a directory): the gateway never follows links "
        "in a drop folder",
        permanent=True,
        where=where,
        fix="remove the link and make it a real directory; find out who planted it",
    )


def open_regular(dir_fd: int, name: bytes, *, where: str) -> int:
    """Open a file of the folder for reading: not a link, not a FIFO or device, one link."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                 dir_fd=dir_fd)
    try:
        check_regular(os.fstat(fd), where=where)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_regular(info: os.stat_result, *, where: str) -> None:
    """Refuse what is not a plain file of this folder (a hard link may be anyone's file)."""
    if not stat.S_ISREG(info.st_mode):
        raise TransportError(f"{where} is not a regular file", permanent=True, where=where,
                             fix="only plain files are taken from a drop folder")
    if info.st_nlink != 1:
        raise TransportError(
            f"{where} has {info.st_nlink} hard links: it may be another folder's file",
            permanent=True, where=where,
            fix="drop a copy of the file, not a hard link; find out who made the link")


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False
