"""Captions from a script, timed by its narration: cue rules (``cues``), the library call for
the API and the CLI (``script``), and WebVTT/SRT files (``formats``)."""

from compositor.captions.cues import CueRules, TimedCue, TimedWord, split_cues, wrap_lines
from compositor.captions.formats import srt_content, vtt_content, write_srt, write_vtt
from compositor.captions.script import CaptionTrack, caption_cues, cues_for_track, script_captions

__all__ = [
    "CaptionTrack",
    "CueRules",
    "TimedCue",
    "TimedWord",
    "caption_cues",
    "cues_for_track",
    "script_captions",
    "split_cues",
    "srt_content",
    "vtt_content",
    "wrap_lines",
    "write_srt",
    "write_vtt",
]
