"""A small loopback TCP proxy that can misbehave on command: stall, cut (FIN) or reset (RST).

No toxiproxy, netem or iptables on this machine, so faults between client and server are
made here: the client connects to ``proxy.port``, the proxy forwards to the real server with
two threads per connection. ``stall()`` stops forwarding in both directions while keeping
every socket open — the "partner's server hangs" case that paramiko would otherwise wait on
forever. ``resume()`` lets bytes flow again.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType

_BUFFER = 64 * 1024
_TICK = 0.05


class TcpProxy:
    """``with TcpProxy(("127.0.0.1", port)) as proxy: connect to proxy.port ...``

    ``port`` picks the proxy's own port (0: any free one): a proxy closed and started again on
    the same port is a server that went down and came back."""

    def __init__(self, target: tuple[str, int], port: int = 0, host: str = "127.0.0.1") -> None:
        self.target = target
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(_TICK)
        self.port: int = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.forwarded = 0  # bytes passed on, both directions
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    # -- faults ----------------------------------------------------------------------------

    def stall(self) -> None:
        """Stop forwarding; connections stay open and silent."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        """Close every connection in an orderly way (FIN): the peer sees EOF."""
        self._drop_connections(reset=False)

    def reset(self) -> None:
        """Abort every connection (RST): the peer sees 'connection reset'."""
        self._drop_connections(reset=True)

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        self._listener.close()
        self._drop_connections(reset=False)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        src.settimeout(_TICK)
        try:
            while not self._closed.is_set():
                if not self._flowing.wait(_TICK):
                    continue  # stalled: read nothing, so the sender's buffers fill up
                try:
                    data = src.recv(_BUFFER)
                except TimeoutError:
                    continue
                if not data:
                    break
                while not self._flowing.is_set() and not self._closed.is_set():
                    self._flowing.wait(_TICK)  # hold what we read until resumed
                dst.sendall(data)
                self.forwarded += len(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _drop_connections(self, *, reset: bool) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
