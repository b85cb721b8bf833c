"""``compositor captions SCRIPT.txt``: caption cues for a script, timed by its narration.

Prints the cues (or ``--json``), and writes ``--vtt`` / ``--srt`` files. Bad input (an empty
script, an unknown voice, a pace out of range, a script too long for the slot) is one
``Error: ... (code)`` line and exit code 2, like an invalid job.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from compositor.captions.formats import timestamp, write_srt, write_vtt
from compositor.captions.script import script_captions
from compositor.errors import InvalidJob
from compositor.settings import load_settings


def number(text: str, field: str) -> float:
    """A numeric option; out-of-range values, NaN and infinities are refused by the library
    with the job field they stand for, like any other bad value."""
    try:
        return float(text)
    except ValueError:
        raise InvalidJob(f"{field}: not a number: {text!r}", field=field) from None


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "captions", help="caption cues for a narration script (WebVTT, SRT, JSON)"
    )
    parser.add_argument("script", help="UTF-8 text file ('-' reads standard input)")
    parser.add_argument("--pace", default="1.0", help="speechPace, 0.5-2.0 [1.0]")
    parser.add_argument("--start", default="0.5", help="voiceStartSec [0.5]")
    parser.add_argument("--duration", default="15", help="slot seconds, 1-120 [15]")
    parser.add_argument(
        "--fit",
        action="store_true",
        help="durationMode fit: raise the pace up to 1.25x when the narration is too long",
    )
    parser.add_argument("--engine", choices=("local", "premium"), default="local")
    parser.add_argument("--voice", help="voice (local: en-us, en-gb, en-us+f3, ...)")
    parser.add_argument("--vtt", type=Path, help="write WebVTT here")
    parser.add_argument("--srt", type=Path, help="write SubRip here")
    parser.add_argument("--json", action="store_true", help="print the cues as JSON")
    parser.set_defaults(handler=run)


def read_script(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidJob(
            f"cannot read script file {name}: {exc}", field="audio.narration.script"
        ) from None


def run(args: argparse.Namespace) -> int:
    track = script_captions(
        read_script(args.script),
        settings=load_settings(),
        pace=number(args.pace, "audio.speechPace"),
        voice_start_sec=number(args.start, "audio.voiceStartSec"),
        duration_sec=number(args.duration, "output.durationSec"),
        engine=args.engine,
        voice=args.voice,
        duration_mode="fit" if args.fit else "trim-pad",
    )
    if args.vtt:
        write_vtt(track.cues, args.vtt)
    if args.srt:
        write_srt(track.cues, args.srt)
    if args.json:
        print(
            json.dumps(
                {
                    "pace": track.pace,
                    "voiceEndSec": track.voice_end_ms / 1000,
                    "cues": track.cue_dicts(),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    for cue in track.cues:
        text = cue.text.replace("\n", " / ")
        print(f"{timestamp(cue.start_ms)} --> {timestamp(cue.end_ms)}  {text}")
    if track.pace != float(args.pace):
        print(f"pace raised to {track.pace:g} to fit the slot", file=sys.stderr)
    return 0
