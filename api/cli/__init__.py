"""``neariq``: one subcommand per module, named exit codes, one ``Error: ...`` line.

Exit codes: 0 done, 1 failure, 2 bad arguments or admin refusal, 3 database not ready,
130 interrupted. ``--debug`` shows the traceback instead of the one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from enum import IntEnum

from api.accounts.admin import AdminError
from compositor.cli import _frame


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    REFUSED = 2
    DATABASE_NOT_READY = 3
    INTERRUPTED = _frame.INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    return _frame.build_parser(
        "neariq", "The NearIQ video API.", "show tracebacks", __name__, __path__
    )


def _report(error: Exception, args: argparse.Namespace) -> int:
    from api.app import DatabaseNotMigrated

    print(f"Error: {error}", file=sys.stderr)
    if isinstance(error, AdminError):
        return ExitCode.REFUSED
    if isinstance(error, DatabaseNotMigrated):
        return ExitCode.DATABASE_NOT_READY
    return ExitCode.FAILED


def main(argv: Sequence[str] | None = None) -> int:
    return _frame.run(build_parser(), argv, reported=(Exception,), report=_report)
