"""Stitching the timeline's segments, the same way for picture and sound.

Each clip is cut into its pieces (a ``split`` whose branches ``trim`` their own range: every
branch holds a reference to the same frame, no copy, and drops what is not its own as it
arrives), fades join a tail piece to a head piece, and everything is concatenated in order.
Picture counts frames; sound counts ``frames * samples_per_frame`` samples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ffmpeg

from compositor.timeline import Piece, Segment, pieces_by_clip

Stream = Any
JoinFade = Callable[[Stream, Stream, Segment], Stream]


def cut_pieces(
    streams: list[Stream],
    clip_frames: list[int],
    segments: list[Segment],
    samples_per_frame: int | None = None,
) -> dict[Piece, Stream]:
    """Each piece of each clip as its own stream (video, or audio with ``samples_per_frame``)."""
    audio = samples_per_frame is not None
    cut: dict[Piece, Stream] = {}
    for clip, pieces in pieces_by_clip(segments).items():
        if len(pieces) == 1 and pieces[0].frames == clip_frames[clip]:
            cut[pieces[0]] = streams[clip]
            continue
        split = streams[clip].filter_multi_output("asplit" if audio else "split")
        for branch, piece in enumerate(pieces):
            if samples_per_frame is not None:
                trimmed = split[branch].filter(
                    "atrim",
                    start_sample=piece.start * samples_per_frame,
                    end_sample=piece.end * samples_per_frame,
                )
                cut[piece] = trimmed.filter("asetpts", "PTS-STARTPTS")
            else:
                trimmed = split[branch].filter("trim", start_frame=piece.start, end_frame=piece.end)
                cut[piece] = trimmed.filter("setpts", "PTS-STARTPTS")
    return cut


def stitch(
    streams: list[Stream],
    clip_frames: list[int],
    segments: list[Segment],
    join_fade: JoinFade,
    samples_per_frame: int | None = None,
) -> Stream:
    """Bodies as they are, fades through ``join_fade(tail, head, segment)``, all concatenated."""
    pieces = cut_pieces(streams, clip_frames, segments, samples_per_frame)
    parts = []
    for segment in segments:
        if segment.kind == "body":
            parts.append(pieces[segment.pieces[0]])
        else:
            tail, head = segment.pieces
            parts.append(join_fade(pieces[tail], pieces[head], segment))
    if len(parts) == 1:
        return parts[0]
    audio = samples_per_frame is not None
    return ffmpeg.concat(*parts, v=0 if audio else 1, a=1 if audio else 0)
