"""Turning whatever paramiko or the OS raised into a TransportError that says whether to retry.

paramiko's exceptions are not one family: a dead server shows up as ``SSHException``,
``EOFError``, ``ConnectionResetError`` or ``socket.timeout``; SFTP status codes arrive as
``OSError`` subclasses (``FileNotFoundError``, ``PermissionError``, ``OSError('Failure')``);
a refused host key or client key has its own classes. The order below matters: specific
authentication and SFTP errors are classified before the generic "connection trouble" branch,
otherwise a bad key would be retried until the partner locks the account.

*Permanent* means "retrying cannot help; a person must act" (host key, credentials,
permission, a missing directory). *Transient* means "the next attempt may well work" (reset,
EOF, timeout, a server that said ``Failure``).
"""

from __future__ import annotations

import socket

import paramiko

from gateway.errors import TransportError
from gateway.transport.algorithms import refused_server

_CONNECTION_FIX = "the gateway retries by itself; if it persists, check the partner's server"


def classify(error: BaseException, *, where: str, doing: str) -> TransportError:
    """The TransportError for ``error`` raised while ``doing`` something at ``where``."""
    if isinstance(error, TransportError):
        return error
    if isinstance(error, paramiko.BadHostKeyException):
        return TransportError(
            f"host key changed while {doing}: the server offered {error.key.get_name()} "
            f"{error.key.fingerprint}, known_hosts pins {error.expected_key.fingerprint}",
            permanent=True,
            where=where,
            fix="confirm the new key with the partner out of band, then update known_hosts",
        )
    if isinstance(error, paramiko.PasswordRequiredException):
        return TransportError(
            f"the private key is encrypted and no passphrase was given while {doing}",
            permanent=True,
            where=where,
            fix="set passphrase_file or passphrase_env in the partner's transport config",
        )
    if isinstance(error, paramiko.AuthenticationException) and "timeout" in str(error).lower():
        # paramiko's "Authentication timeout.": the server stalled, it refused nothing.
        return TransportError(
            f"the server did not answer the login in time while {doing}",
            permanent=False, where=where, fix=_CONNECTION_FIX)
    if isinstance(error, paramiko.AuthenticationException):
        return TransportError(
            f"authentication refused while {doing} ({error})",
            permanent=True,
            where=where,
            fix="check user and key_file; the partner must have our public key authorized",
        )
    if isinstance(error, PermissionError):
        return TransportError(
            f"permission denied while {doing}",
            permanent=True,
            where=where,
            fix="ask the partner to grant our account access to this directory",
        )
    if isinstance(error, NotADirectoryError | FileExistsError):
        return TransportError(
            f"a part of the path is a file, not a folder, while {doing}",
            permanent=True,
            where=where,
            fix="correct the destination (for a member: its destination in members.csv)",
        )
    if isinstance(error, FileNotFoundError):
        return TransportError(
            f"no such file or directory while {doing}",
            permanent=True,
            where=where,
            fix="check remote_dir/archive_dir in the partner's config (or the file was removed)",
        )
    refused = refused_server(error, where)
    if refused is not None:
        return refused
    if isinstance(error, (TimeoutError, socket.timeout)):
        return TransportError(
            f"timed out while {doing}", permanent=False, where=where, fix=_CONNECTION_FIX
        )
    if isinstance(error, (EOFError, ConnectionError, paramiko.SSHException, OSError)):
        # OSError last: it also covers NoValidConnectionsError (refused) and SFTP 'Failure'.
        detail = str(error) or type(error).__name__
        return TransportError(
            f"failed while {doing} ({detail})",
            permanent=False,
            where=where,
            fix=_CONNECTION_FIX,
        )
    raise error  # anything else is a bug in the gateway, not a partner's fault
