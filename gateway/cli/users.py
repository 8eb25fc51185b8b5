"""``gateway users``: the web console's accounts.

    gateway users add NAME --role viewer|operator|admin     asks for the password twice
    gateway users passwd NAME                               a new password; ends their sessions
    gateway users role NAME --role R
    gateway users disable NAME | enable NAME
    gateway users list

The password is read from the terminal (never an argument: it would stay in the shell's
history and the process list), or from one line on stdin with ``--password-stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from gateway.cli.codes import EXIT_OK
from gateway.cli.operator import actor, opened, store_options, table, when
from gateway.errors import ConfigError
from gateway.service import Accounts
from gateway.store.operator_models import Role


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = subparsers.add_parser("users", help="web console accounts")
    actions = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = store_options()
    roles = [r.value for r in Role]
    add = actions.add_parser("add", parents=[common], help="create an account")
    add.add_argument("name")
    add.add_argument("--role", choices=roles, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    add.set_defaults(handler=add_user)
    passwd = actions.add_parser("passwd", parents=[common], help="set a new password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    passwd.set_defaults(handler=set_password)
    role = actions.add_parser("role", parents=[common], help="change an account's role")
    role.add_argument("name")
    role.add_argument("--role", choices=roles, required=True)
    role.set_defaults(handler=set_role)
    for name, handler in (("disable", disable), ("enable", enable)):
        parser = actions.add_parser(name, parents=[common], help=f"{name} an account")
        parser.add_argument("name")
        parser.set_defaults(handler=handler)
    listing = actions.add_parser("list", parents=[common], help="every account")
    listing.set_defaults(handler=list_users)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():  # getpass would read the pipe, then fail on EOF: a traceback
        raise ConfigError("there is no terminal to ask for the password",
                          fix="run it at a terminal, or pipe the password as one line and "
                          "add --password-stdin")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise ConfigError("the two passwords differ", fix="type the same password twice")
    return first


def add_user(args: argparse.Namespace) -> int:
    password = _password(args)
    with opened(args, create=True) as ctx:
        user = Accounts(ctx.store, actor=actor()).add(args.name, password, Role(args.role))
    print(f"user {user.name} added ({user.role.value})")
    return EXIT_OK


def set_password(args: argparse.Namespace) -> int:
    password = _password(args)
    with opened(args) as ctx:
        Accounts(ctx.store, actor=actor()).passwd(args.name, password)
    print(f"user {args.name}: password changed; their sessions are ended")
    return EXIT_OK


def set_role(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        Accounts(ctx.store, actor=actor()).set_role(args.name, Role(args.role))
    print(f"user {args.name}: role {args.role}")
    return EXIT_OK


def disable(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        Accounts(ctx.store, actor=actor()).disable(args.name)
    print(f"user {args.name} disabled; their sessions are ended")
    return EXIT_OK


def enable(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        Accounts(ctx.store, actor=actor()).enable(args.name)
    print(f"user {args.name} enabled")
    return EXIT_OK


def list_users(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        users = ctx.store.list_users()
    table(["NAME", "ROLE", "STATE", "CHANGED"],
          ([u.name, u.role.value, "disabled" if u.disabled else "enabled", when(u.updated_at)]
           for u in users))
    return EXIT_OK
