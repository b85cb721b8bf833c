"""``compositor``: one subcommand per module, named exit codes, one ``Error: ...`` line.

Exit codes: 0 done, 1 render failure, 2 invalid job, 3 source problem, 130 interrupted.
``--debug`` shows the traceback instead of the one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from enum import IntEnum

from compositor.cli import _frame
from compositor.errors import CompositorError, InvalidJob, SourceUnavailable


class ExitCode(IntEnum):
    OK = 0
    RENDER_FAILED = 1
    INVALID_JOB = 2
    SOURCE_PROBLEM = 3
    INTERRUPTED = _frame.INTERRUPTED


def exit_code_for(error: BaseException) -> ExitCode:
    if isinstance(error, InvalidJob):
        return ExitCode.INVALID_JOB
    if isinstance(error, SourceUnavailable):
        return ExitCode.SOURCE_PROBLEM
    return ExitCode.RENDER_FAILED


def build_parser() -> argparse.ArgumentParser:
    return _frame.build_parser(
        "compositor",
        "Render, probe and serve video composites with FFmpeg.",
        "show tracebacks and FFmpeg logs",
        __name__,
        __path__,
    )


def _report(error: Exception, args: argparse.Namespace) -> int:
    assert isinstance(error, CompositorError)
    if args.debug and (tail := getattr(error, "stderr_tail", "")):
        print(tail, file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"error": error.to_dict()}))
    print(f"Error: {error.message} ({error.code})", file=sys.stderr)
    return exit_code_for(error)


def main(argv: Sequence[str] | None = None) -> int:
    return _frame.run(build_parser(), argv, reported=(CompositorError,), report=_report)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
