"""WebVTT and SRT written with webvtt-py and read back by webvtt-py."""

from __future__ import annotations

import html

import pytest
import webvtt

from compositor.captions.cues import TimedCue, TimedWord
from compositor.captions.formats import srt_content, timestamp, write_srt, write_vtt

CUES = (
    TimedCue(500, 2_111, ("Fresh bread, every day.",), (TimedWord("Fresh", 500, 700),)),
    TimedCue(2_111, 7_371, ("Café NearIQ's 1,500", "loaves 🍞 baked — since 2024!"), ()),
    TimedCue(3_600_000 + 61_001, 3_600_000 + 62_500, ("<b>Tasty</b> & cheap --> yes.",), ()),
)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "00:00:00.000"),
        (500, "00:00:00.500"),
        (61_001, "00:01:01.001"),
        (3_600_000 + 59_999, "01:00:59.999"),
    ],
)
def test_timestamps(ms, text):
    assert timestamp(ms) == text


def test_webvtt_reads_back_with_the_same_times_and_text(tmp_path):
    path = tmp_path / "cues.vtt"
    write_vtt(CUES, path)
    read = webvtt.read(str(path))
    assert len(read) == len(CUES)
    for caption, cue in zip(read, CUES, strict=True):
        assert caption.start_time.in_milliseconds() == cue.start_ms
        assert caption.end_time.in_milliseconds() == cue.end_ms
        # Markup-looking script text was escaped, so it reads back as text, not tags.
        assert html.unescape(caption.raw_text) == cue.text
    assert path.read_text().startswith("WEBVTT")


def test_srt_reads_back_with_the_same_times_and_text(tmp_path):
    path = tmp_path / "cues.srt"
    write_srt(CUES, path)
    read = webvtt.from_srt(str(path))
    assert len(read) == len(CUES)
    for caption, cue in zip(read, CUES, strict=True):
        assert caption.start_time.in_milliseconds() == cue.start_ms
        assert caption.end_time.in_milliseconds() == cue.end_ms
        assert caption.raw_text == cue.text.replace("<", "‹").replace(">", "›")
    assert srt_content(CUES).splitlines()[:2] == ["1", "00:00:00,500 --> 00:00:02,111"]


def test_no_cue_text_can_start_a_new_cue(tmp_path):
    """A '-->' in the script must not read as a timing line."""
    write_vtt(CUES, tmp_path / "c.vtt")
    write_srt(CUES, tmp_path / "c.srt")
    for path in (tmp_path / "c.vtt", tmp_path / "c.srt"):
        arrows = [line for line in path.read_text().splitlines() if "-->" in line]
        assert len(arrows) == len(CUES)
