"""``neariq``: one subcommand per module, named exit codes, one ``Error: ...`` line.

Exit codes: 0 done, 1 failure, 2 bad arguments or admin refusal, 3 database not ready,
130 interrupted. ``--debug`` shows the traceback instead of the one line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import traceback
from collections.abc import Callable, Sequence
from enum import IntEnum

from api.accounts.admin import AdminError


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    REFUSED = 2
    DATABASE_NOT_READY = 3
    INTERRUPTED = 130


def subcommands() -> list[str]:
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neariq", description="The NearIQ video API.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in subcommands():
        importlib.import_module(f"api.cli.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from api.app import DatabaseNotMigrated

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        print(f"Error: {error}", file=sys.stderr)
        if isinstance(error, AdminError):
            return ExitCode.REFUSED
        if isinstance(error, DatabaseNotMigrated):
            return ExitCode.DATABASE_NOT_READY
        return ExitCode.FAILED
