"""``compositor render JOB.json -o OUT.mp4``: render a job locally, with a progress bar."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, get_args

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from compositor.errors import InvalidJob
from compositor.job import parse_job_json
from compositor.render import render
from compositor.settings import X264Preset, load_settings
from compositor.sources import LocalResolver


def register(commands: Any) -> None:
    parser = commands.add_parser("render", help="render a job file into an MP4")
    parser.add_argument("job", help="job JSON file ('-' reads standard input)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="MP4 to write")
    parser.add_argument("--poster", type=Path, help="poster JPEG (default: OUTPUT with .jpg)")
    parser.add_argument(
        "--preset", choices=get_args(X264Preset), help="libx264 preset (default from settings)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def read_job_text(name: str) -> tuple[str, Path]:
    if name == "-":
        return sys.stdin.read(), Path.cwd()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8"), path.resolve().parent
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidJob(f"cannot read job file {name}: {exc}", code="invalid_json") from None


def run(args: argparse.Namespace) -> int:
    text, base_dir = read_job_text(args.job)
    job = parse_job_json(text)
    settings = load_settings()
    resolver = LocalResolver(base_dir, settings.assets_dir)
    console = Console(stderr=True)
    show_progress = not args.quiet and console.is_terminal
    with Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("preparing", total=1.0)
        result = render(
            job,
            args.output.resolve(),
            resolver=resolver,
            settings=settings,
            poster_path=args.poster.resolve() if args.poster else None,
            preset=args.preset,
            on_progress=lambda fraction: progress.update(task, completed=fraction),
            on_stage=lambda stage: progress.update(task, description=stage),
        )
    summary = result.to_dict()
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print(
            f"{result.path}  {summary['durationSec']}s  {result.width}x{result.height}  "
            f"rendered in {summary['renderSec']}s ({summary['realtimeFactor']}x realtime)"
        )
    return 0
