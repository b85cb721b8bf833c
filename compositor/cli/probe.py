"""``compositor probe FILE``: what the engine sees in a media file, as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from compositor.probe import probe


def register(commands: Any) -> None:
    parser = commands.add_parser("probe", help="print a media file's probe as JSON")
    parser.add_argument("file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    media = probe(args.file, field="file")
    info = dataclasses.asdict(media)
    info["isImage"] = media.is_image
    if media.video is not None:
        info["video"]["displayWidth"] = media.video.width
        info["video"]["displayHeight"] = media.video.height
    print(json.dumps(info, indent=2))
    return 0
