"""Which SSH algorithms the gateway offers and accepts: strong ones only.

A PBM's server that still offers only 3des-cbc and hmac-md5 must be refused, not used: CBC
modes and 3DES have practical attacks (Sweet32, the SSH CBC plaintext recovery), MD5 and SHA-1
MACs and signatures are broken or deprecated, and diffie-hellman-group1/14-sha1 key exchange
uses SHA-1 (group1 also a 1024-bit group). The rules below are applied to whatever the
installed paramiko would offer, so an upgrade that adds an algorithm cannot sneak a weak one
back in; the result is passed to paramiko as ``disabled_algorithms``.
"""

from __future__ import annotations

import paramiko

from gateway.errors import TransportError

# paramiko's names for the kinds of algorithm, and the Transport attribute listing each one
_KINDS = {
    "ciphers": "_preferred_ciphers",
    "macs": "_preferred_macs",
    "keys": "_preferred_keys",  # host-key signature algorithms
    "kex": "_preferred_kex",
    "pubkeys": "_preferred_pubkeys",  # our own key's signature algorithms
}

STRONG_HINT = ("ciphers aes128-gcm@openssh.com/aes256-gcm@openssh.com/aes*-ctr, MACs "
               "hmac-sha2-256/512 (-etm@openssh.com), key exchange curve25519-sha256, ecdh-sha2-*, "
               "diffie-hellman-group14/16-sha256/512, host keys ssh-ed25519, ecdsa-sha2-*, "
               "rsa-sha2-256/512")


def is_weak(kind: str, name: str) -> bool:
    """True for an algorithm the gateway never offers nor accepts."""
    lowered = name.lower()
    if kind == "ciphers":
        return "cbc" in lowered or "3des" in lowered or "arcfour" in lowered or "des" in lowered
    if kind == "macs":
        return "md5" in lowered or "sha1" in lowered or "ripemd" in lowered
    if kind == "kex":
        return lowered.endswith("-sha1") or "group1-" in lowered
    # keys / pubkeys: SHA-1 signatures (ssh-rsa, its certificates) and DSA
    return lowered.split("-cert")[0] in ("ssh-rsa", "ssh-dss")


def disabled_algorithms() -> dict[str, list[str]]:
    """Every algorithm this paramiko knows that :func:`is_weak` refuses, per kind."""
    disabled: dict[str, list[str]] = {}
    for kind, attribute in _KINDS.items():
        known = list(getattr(paramiko.Transport, attribute, ()))
        known += ["ssh-rsa", "ssh-dss"] if kind in ("keys", "pubkeys") else []
        disabled[kind] = sorted({name for name in known if is_weak(kind, name)})
    return disabled


def refused_server(error: BaseException, where: str) -> TransportError | None:
    """A negotiation failure ("Incompatible ssh server (no acceptable ciphers)") as a
    permanent, named refusal; None for any other failure."""
    text = str(error)
    if not isinstance(error, paramiko.SSHException) or "Incompatible ssh" not in text:
        return None
    return TransportError(
        f"the SSH server offers only algorithms the gateway refuses as weak ({text})",
        permanent=True,
        where=where,
        fix=f"ask the partner to enable strong algorithms: {STRONG_HINT}",
    )
