"""SFTP offers and accepts strong algorithms only (issue 13, Security): a real sshd
configured with weak algorithms only is refused with a clear, permanent reason."""

from __future__ import annotations

import pytest
from sshd import INSTALL_HINT, SSHD, keygen, running_sshd, sshd_available

from gateway.errors import TransportError
from gateway.transport.config import source_from_config

WEAK_ONLY = {
    # main connected to this one (3des-cbc) and to the next (hmac-md5)
    "cbc-and-3des": "Ciphers 3des-cbc,aes128-cbc,aes256-cbc\n",
    "md5-and-sha1-macs": "MACs hmac-md5,hmac-sha1,hmac-sha1-etm@openssh.com\n",
    "sha1-kex": "KexAlgorithms diffie-hellman-group14-sha1,diffie-hellman-group1-sha1\n",
    "ssh-rsa-sha1-host-key": "HostKey {base}/host_rsa\nHostKeyAlgorithms ssh-rsa\n",
}


@pytest.mark.parametrize("variant", sorted(WEAK_ONLY))
def test_a_server_offering_only_weak_algorithms_is_refused(tmp_path, require_sshd, variant):
    base = tmp_path / "sshd"
    base.mkdir()
    if "rsa" in variant:
        keygen(base / "host_rsa", "rsa")
    with running_sshd(base, extra_config=WEAK_ONLY[variant].format(base=base)) as server:
        remote = tmp_path / "partner"
        remote.mkdir()
        source = source_from_config(
            server.transport_config(remote, settle_seconds=0, connect_attempts=1),
            partner="pbm-weak")
        try:
            with pytest.raises(TransportError) as refused:
                source.list_ready()
        finally:
            source.close()
    message = str(refused.value)
    assert "refuses as weak" in message, message
    assert refused.value.permanent
    assert "ask the partner to enable strong algorithms" in message


@pytest.fixture
def require_sshd():
    from conftest import require

    require(sshd_available(), f"OpenSSH sshd ({SSHD})", INSTALL_HINT)


def test_nothing_weak_is_offered():
    from gateway.transport.algorithms import disabled_algorithms, is_weak

    offered = {
        "ciphers": ["aes128-ctr", "aes256-gcm@openssh.com", "aes128-cbc", "3des-cbc"],
        "macs": ["hmac-sha2-256-etm@openssh.com", "hmac-sha1", "hmac-md5-96"],
        "kex": ["curve25519-sha256@libssh.org", "diffie-hellman-group14-sha1"],
        "keys": ["ssh-ed25519", "rsa-sha2-512", "ssh-rsa", "ssh-rsa-cert-v01@openssh.com"],
    }
    weak = {kind: [n for n in names if is_weak(kind, n)] for kind, names in offered.items()}
    assert weak == {
        "ciphers": ["aes128-cbc", "3des-cbc"],
        "macs": ["hmac-sha1", "hmac-md5-96"],
        "kex": ["diffie-hellman-group14-sha1"],
        "keys": ["ssh-rsa", "ssh-rsa-cert-v01@openssh.com"],
    }
    disabled = disabled_algorithms()
    assert "3des-cbc" in disabled["ciphers"] and "hmac-md5" in disabled["macs"]
    assert "ssh-rsa" in disabled["keys"] and "ssh-rsa" in disabled["pubkeys"]
