"""The poster JPEG, cut from the verified render.

The plan forces a keyframe at the poster's time, so seeking there decodes a single frame. Taking
it from the written file (rather than a second branch of the render graph) keeps the graph
lean: a branch that waits for one frame mid-way held ~35 MB of frames at 1080x1920, measured.
"""

from __future__ import annotations

from pathlib import Path

import av

from compositor.errors import RenderFailed


def write_poster(video_path: Path, seconds: float, poster_path: Path, *, quality: int = 3) -> None:
    """Write the frame shown at ``seconds`` as a JPEG (mjpeg ``qscale`` ``quality``, 2-31)."""
    with av.open(str(video_path)) as source:
        stream = source.streams.video[0]
        assert stream.time_base is not None
        source.seek(int(seconds / stream.time_base), stream=stream, backward=True)
        chosen = None
        for frame in source.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time >= seconds - 1e-3:
                break
        if chosen is None:
            raise RenderFailed("no frame to make a poster from", code="render_invalid")
        with av.open(str(poster_path), "w", format="image2") as out:
            encoder = out.add_stream("mjpeg")
            encoder.width, encoder.height = chosen.width, chosen.height
            encoder.pix_fmt = "yuvj420p"
            encoder.codec_context.qmin = encoder.codec_context.qmax = quality
            for packet in encoder.encode(chosen.reformat(format="yuvj420p")):
                out.mux(packet)
            for packet in encoder.encode(None):
                out.mux(packet)
