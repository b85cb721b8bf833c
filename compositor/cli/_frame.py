"""The frame both command-line programs share (``compositor`` and the API's ``neariq``): one
subcommand per module of a package, ``--debug``, logging, Ctrl-C, and one ``Error: ...`` line
instead of a traceback for the errors a program knows how to report."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence

INTERRUPTED = 130

Reporter = Callable[[Exception, argparse.Namespace], int]


def subcommands(package_path: Iterable[str]) -> list[str]:
    """Every public module of the package is a subcommand (it defines ``register``)."""
    return sorted(
        info.name for info in pkgutil.iter_modules(package_path) if not info.name.startswith("_")
    )


def build_parser(
    prog: str, description: str, debug_help: str, package: str, package_path: Iterable[str]
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--debug", action="store_true", help=debug_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in subcommands(package_path):
        importlib.import_module(f"{package}.{name}").register(commands)
    return parser


def run(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    *,
    reported: tuple[type[Exception], ...],
    report: Reporter,
) -> int:
    """Run the chosen subcommand. An error of a ``reported`` type is printed by ``report``
    (after the traceback with ``--debug``), which returns the exit code; others propagate."""
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
        return INTERRUPTED
    except reported as error:
        if args.debug:
            traceback.print_exc()
        return report(error, args)
