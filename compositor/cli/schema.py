"""``compositor schema``: the job's JSON Schema (what /compose and render accept)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from compositor.job import job_schema


def register(commands: Any) -> None:
    parser = commands.add_parser("schema", help="print the job's JSON Schema")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(job_schema(), indent=2))
    return 0
