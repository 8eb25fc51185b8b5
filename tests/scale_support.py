"""Hosts for the scale-out tests: network namespaces on a bridge, or loopback processes.

Each "host" is a network namespace (``ip netns``) with a veth pair into a bridge the test
makes; the host side of the bridge is the only address the daemons can reach. PostgreSQL and
the partner's sshd listen on 127.0.0.1 of the real host, so a TCP forwarder (tcp_proxy.py)
on the bridge address carries each of them. Without root the hosts are plain processes on
loopback (and the test says so); under CI=true namespaces are required.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from daemon_support import REPO
from tcp_proxy import TcpProxy

IP = shutil.which("ip") or "/usr/sbin/ip"


def namespaces_possible() -> bool:
    return os.geteuid() == 0 and os.path.exists(IP)


@dataclass
class Hosts:
    """Where the daemons run and what they connect to."""

    names: list[str]  # network namespaces ('' for a loopback process)
    address: str  # the real host as the daemons see it
    ports: dict[tuple[str, int], int] = field(default_factory=dict)  # target -> port seen

    def port(self, target: tuple[str, int]) -> int:
        return self.ports.get(target, target[1])

    def command(self, index: int, *argv: str) -> list[str]:
        name = self.names[index]
        prefix = [IP, "netns", "exec", name] if name else []
        return [*prefix, *argv]


def _ip(*args: str) -> None:
    subprocess.run([IP, *args], check=True, capture_output=True, timeout=30)


@contextmanager
def namespace_hosts(count: int, targets: list[tuple[str, int]]) -> Iterator[Hosts]:
    """``count`` namespaces on a fresh bridge, and a forwarder per target on the bridge."""
    tag = secrets.token_hex(3)
    subnet = f"10.{200 + secrets.randbelow(50)}.{secrets.randbelow(250)}"
    bridge = f"sb{tag}"
    names = [f"scale-{tag}-{n}" for n in range(count)]
    with ExitStack() as cleanup:
        _ip("link", "add", bridge, "type", "bridge")
        cleanup.callback(_ip, "link", "del", bridge)
        _ip("addr", "add", f"{subnet}.1/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for n, name in enumerate(names):
            _ip("netns", "add", name)
            cleanup.callback(_ip, "netns", "del", name)
            outside, inside = f"s{tag}o{n}", f"s{tag}i{n}"
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", name)
            _ip("link", "set", outside, "master", bridge)
            _ip("link", "set", outside, "up")
            _ip("-n", name, "addr", "add", f"{subnet}.{n + 2}/24", "dev", inside)
            _ip("-n", name, "link", "set", inside, "up")
            _ip("-n", name, "link", "set", "lo", "up")
        hosts = Hosts(names, f"{subnet}.1")
        for target in targets:
            proxy = cleanup.enter_context(TcpProxy(target, host=hosts.address))
            hosts.ports[target] = proxy.port
        yield hosts


@contextmanager
def loopback_hosts(count: int) -> Iterator[Hosts]:
    yield Hosts([""] * count, "127.0.0.1")


def gateway(hosts: Hosts, index: int, *argv: str) -> list[str]:
    return hosts.command(index, sys.executable, "-m", "gateway", *argv)


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}
