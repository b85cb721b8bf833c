"""``compositor``: one subcommand per module, named exit codes, one ``Error: ...`` line.

Exit codes: 0 done, 1 render failure, 2 invalid job, 3 source problem, 130 interrupted.
``--debug`` shows the traceback instead of the one line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys
import traceback
from collections.abc import Callable, Sequence
from enum import IntEnum

from compositor.errors import CompositorError, InvalidJob, SourceUnavailable


def subcommands() -> list[str]:
    """Every module in this package is a subcommand (it defines ``register``)."""
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
    )


class ExitCode(IntEnum):
    OK = 0
    RENDER_FAILED = 1
    INVALID_JOB = 2
    SOURCE_PROBLEM = 3
    INTERRUPTED = 130


def exit_code_for(error: BaseException) -> ExitCode:
    if isinstance(error, InvalidJob):
        return ExitCode.INVALID_JOB
    if isinstance(error, SourceUnavailable):
        return ExitCode.SOURCE_PROBLEM
    return ExitCode.RENDER_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compositor", description="Render, probe and serve video composites with FFmpeg."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and FFmpeg logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in subcommands():
        module = importlib.import_module(f"compositor.cli.{name}")
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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
    except CompositorError as error:
        if args.debug:
            traceback.print_exc()
            tail = getattr(error, "stderr_tail", "")
            if tail:
                print(tail, file=sys.stderr)
        if getattr(args, "json", False):
            print(json.dumps({"error": error.to_dict()}))
        print(f"Error: {error.message} ({error.code})", file=sys.stderr)
        return exit_code_for(error)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
