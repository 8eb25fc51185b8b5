"""``gateway keys``: the payload archive's encryption keys (docs/security.md).

* ``new PATH`` writes a new key-encryption key (32 random bytes, base64), mode 0600, and
  prints its key id; it never overwrites a file.
* ``id FILE`` prints the key id of a key file (which file holds the key a payload needs).
* ``status`` lists the key ids the store's payloads are wrapped under, with counts.
* ``rotate`` re-wraps every data key under the configured ``key``, reading the old ones with
  ``previous_keys``: no payload body is re-encrypted; idempotent, and resumable after a
  crash (each batch commits). When ``status`` shows only the new key id, the old key may be
  removed from ``previous_keys`` and retired.
* ``encrypt-existing`` seals the payloads kept in plaintext before encryption was on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.cli.codes import EXIT_OK
from gateway.cli.run import add_config_argument
from gateway.config.settings import load_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = subparsers.add_parser("keys", help="payload encryption keys: new, id, status, "
                                 "rotate, encrypt-existing",
                                 description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    new = commands.add_parser("new", help="write a new key file (0600) and print its key id")
    new.add_argument("path", type=Path)
    new.set_defaults(handler=run_new)
    key_id = commands.add_parser("id", help="print the key id of a key file")
    key_id.add_argument("path", type=Path)
    key_id.set_defaults(handler=run_id)
    for name, handler, text in (
            ("status", run_status, "key ids in use, with the number of payloads under each"),
            ("rotate", run_rotate, "re-wrap every data key under the configured key"),
            ("encrypt-existing", run_encrypt_existing, "seal the plaintext payloads")):
        command = commands.add_parser(name, help=text)
        add_config_argument(command)
        command.set_defaults(handler=handler)


def run_new(args: argparse.Namespace) -> int:
    from gateway.errors import ConfigError
    from gateway.store.crypt.keys import write_key_file

    if args.path.exists():
        raise ConfigError(f"{args.path} exists: a key file is never overwritten",
                          fix="choose a new file name (e.g. payload-2027.key)")
    kek = write_key_file(args.path)
    print(f"wrote {args.path} (mode 0600): key id {kek.key_id}")
    print("Back it up apart from the data; then name it in [encryption] key (docs/security.md).")
    return EXIT_OK


def run_id(args: argparse.Namespace) -> int:
    from gateway.config.secrets import Secret
    from gateway.store.crypt.keys import read_kek

    print(read_kek(Secret(f"file:{args.path.resolve()}"), str(args.path)).key_id)
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    from gateway.store import open_configured

    settings = load_settings(args.config)
    with open_configured(settings, create=False) as store:
        keyring = store.sealer.keyring
        current = keyring.current.key_id if keyring and keyring.current else None
        print(f"current key id: {current or 'none (payloads written in plaintext)'}")
        for key_id, count in store.sealer.keys_in_use():
            note = "current" if key_id == current else \
                "configured" if keyring and key_id in keyring.known else "NOT CONFIGURED"
            print(f"  {key_id}  {count:>8} payloads  ({note})")
    return EXIT_OK


def run_rotate(args: argparse.Namespace) -> int:
    from gateway.store import open_configured

    settings = load_settings(args.config)
    with open_configured(settings, create=False) as store:
        done = list(store.sealer.rewrap_all())[-1]
        keyring = store.sealer.keyring
        assert keyring is not None and keyring.current is not None
        print(f"re-wrapped {done} data key(s) under key id {keyring.current.key_id}; "
              f"every payload now needs only that key")
    return EXIT_OK


def run_encrypt_existing(args: argparse.Namespace) -> int:
    from gateway.store import open_configured
    from gateway.store.crypt.convert import seal_existing

    settings = load_settings(args.config)
    with open_configured(settings, create=False) as store:
        count = sum(1 for _ in seal_existing(store))
        print(f"sealed {count} plaintext payload(s)")
    return EXIT_OK
