"""Captions, overlays and watermark: escaping, layout, and what the rendered pixels show."""

from __future__ import annotations

import numpy as np
import pytest

from compositor.ass import Layout, ass_time, build_ass, caption_style, escape_ass_text
from compositor.job import Captions, Cue
from tests.mediatools import frame_at, mean_rgb

GRAY_CLIP = "gray.mp4"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", "plain"),
        ('it\'s "quoted"', 'it\'s "quoted"'),
        ("a:b, c=d; [e]", "a:b, c=d; [e]"),
        ("{\\b1}bold?", "\\{\\\u2060b1\\}bold?"),
        ("\\N not a break", "\\\u2060N not a break"),
        ("C:\\path\\h", "C:\\\u2060path\\\u2060h"),
        ("%{pts} %{localtime}", "%\\{pts\\} %\\{localtime\\}"),
        ("line one\nline two\r\nthree", "line one\\Nline two\\Nthree"),
        ("nul\x00 bell\x07 tab\t.", "nul bell tab ."),
        ("emoji 😀🎉 and עברית and العربية", "emoji 😀🎉 and עברית and العربية"),
    ],
)
def test_user_text_is_escaped_for_ass(text, escaped):
    assert escape_ass_text(text) == escaped


def test_escaped_text_has_no_override_block_or_escape_left():
    nasty = "{\\p1}m 0 0 l 100 0 100 100{\\p0} \\N \\h \\n }{"
    escaped = escape_ass_text(nasty)
    # Every brace is escaped, every backslash is followed by a word joiner or a brace.
    assert "{" not in escaped.replace("\\{", "")
    assert "}" not in escaped.replace("\\}", "")
    assert all(escaped[i + 1] in "\u2060{}" for i, c in enumerate(escaped) if c == "\\")


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00:00.00"), (61.005, "0:01:01.00"),
                                               (3725.5, "1:02:05.50")])  # fmt: skip
def test_ass_time(seconds, text):
    assert ass_time(seconds) == text


def test_vertical_captions_clear_the_bottom_fifth():
    layout = Layout(1080, 1920, "9:16")
    for style in ("clean", "bold", "karaoke", "minimal"):
        assert caption_style(style, layout).margin_v >= 0.2 * 1920


def test_nothing_to_burn_gives_no_document():
    assert build_ass(width=960, height=540, aspect="16:9", slot_sec=5, captions=Captions(cues=[]),
                     overlays=[], watermark=None) is None  # fmt: skip


def test_document_has_one_dialogue_line_per_cue_and_commas_survive():
    cues = [Cue(start_sec=i, end_sec=i + 1, text=f"cue {i}, with commas, ok") for i in range(5)]
    document = build_ass(width=960, height=540, aspect="16:9", slot_sec=10,
                         captions=Captions(cues=cues), overlays=[], watermark=None)  # fmt: skip
    dialogues = [line for line in document.splitlines() if line.startswith("Dialogue:")]
    assert len(dialogues) == 5 and dialogues[0].endswith("cue 0, with commas, ok")


# ---- rendered -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gray(media):
    from tests.mediatools import colour_clip

    return colour_clip(media.root / GRAY_CLIP, "gray", 3)


def diff_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indices of rows where the two frames differ visibly."""
    delta = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
    return np.where((delta > 24).any(axis=1))[0]


def test_a_caption_changes_its_band_only_and_darkens_its_box(render_job, gray):
    clip = [{"source": GRAY_CLIP}]
    plain = frame_at(render_job("plain.mp4", clips=clip, output={"durationSec": 2}).path, 1.0)
    cue = {"startSec": 0, "endSec": 2, "text": "Caption here"}
    captioned = frame_at(render_job("cap.mp4", clips=clip, output={"durationSec": 2},
                                    captions={"cues": [cue]}).path, 1.0)  # fmt: skip
    rows = diff_rows(plain, captioned)
    height = plain.shape[0]
    assert len(rows) > 0
    assert rows.min() > height * 0.7 and rows.max() < height * 0.95  # bottom band, inside frame
    changed = np.abs(plain.astype(int) - captioned.astype(int)).max(axis=2) > 24
    columns = np.where(changed.any(axis=0))[0]
    box = captioned[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    assert np.median(box[..., 0]) < np.median(plain[..., 0]) - 20  # the box darkens


def test_vertical_caption_stays_above_the_platform_ui(render_job, gray):
    clip = [{"source": GRAY_CLIP}]
    output = {"durationSec": 2, "aspect": "9:16"}
    plain = frame_at(render_job("p.mp4", clips=clip, output=output).path, 1.0)
    cue = {"startSec": 0, "endSec": 2, "text": "A long caption that wraps onto two lines here"}
    result = render_job("c.mp4", clips=clip, output=output,
                        captions={"cues": [cue], "style": "bold"})  # fmt: skip
    captioned = frame_at(result.path, 1.0)
    rows = diff_rows(plain, captioned)
    assert len(rows) > 0 and rows.max() < plain.shape[0] * 0.8


@pytest.mark.parametrize(
    "text",
    ["{\\fs200\\alpha&HFF&}", "%{pts} %{eif\\:n\\:d}", "it's a \"test\": yes\\no",
     "two\nlines", "😀🎉✨", "שלום עולם", "مرحبا بالعالم"],
)  # fmt: skip
def test_hostile_or_foreign_text_is_drawn_as_text(render_job, gray, text):
    # An override block alone would draw nothing; escaped, its characters are drawn in a box.
    cues = [{"startSec": 0, "endSec": 1, "text": text}]
    result = render_job(clips=[{"source": GRAY_CLIP}], output={"durationSec": 1},
                        captions={"cues": cues})  # fmt: skip
    frame = frame_at(result.path, 0.5)
    band = frame[int(frame.shape[0] * 0.6) :]
    assert (band.max(axis=2) > 200).sum() > 50  # white glyph pixels
    assert (band.max(axis=2) < 60).sum() > 500  # the dark box around them


def test_karaoke_highlights_the_current_word(render_job, gray):
    cue = {"startSec": 0, "endSec": 3, "text": "first middle last",
           "words": [{"text": "first", "startSec": 0, "endSec": 1},
                     {"text": "middle", "startSec": 1, "endSec": 2},
                     {"text": "last", "startSec": 2, "endSec": 3}]}  # fmt: skip
    result = render_job(clips=[{"source": GRAY_CLIP}], output={"durationSec": 3},
                        captions={"cues": [cue], "style": "karaoke"})  # fmt: skip

    def yellow_columns(seconds: float) -> np.ndarray:
        frame = frame_at(result.path, seconds).astype(int)
        red, green, blue = frame[..., 0], frame[..., 1], frame[..., 2]
        return np.where(((red > 200) & (green > 160) & (blue < 90)).any(axis=0))[0]

    early, late = yellow_columns(0.5), yellow_columns(2.5)
    assert len(early) and len(late)
    assert early.mean() < late.mean() - 50  # the highlight moved right, word by word


def test_text_watermark_marks_its_corner_only(render_job, gray):
    clip = [{"source": GRAY_CLIP}]
    plain = frame_at(render_job("p.mp4", clips=clip, output={"durationSec": 1}).path, 0.5)
    marked = frame_at(
        render_job(
            "w.mp4",
            clips=clip,
            output={"durationSec": 1},
            watermark={"text": "NearIQ", "position": "top-left"},
        ).path,
        0.5,
    )
    delta = np.abs(plain.astype(int) - marked.astype(int)).max(axis=2) > 24
    height, width = delta.shape
    assert delta[: height // 4, : width // 4].sum() > 100
    assert delta[height // 4 :, :].sum() == 0 and delta[:, width // 4 :].sum() == 0


def test_image_watermark_blends_at_its_opacity(render_job, media):
    result = render_job(
        clips=[{"source": media.still_png.name, "outSec": 1}],  # green 0,128,0
        output={"durationSec": 1, "fit": "cover"},
        watermark={"image": media.wm_png.name, "position": "bottom-right", "opacity": 0.5,
                   "size": 0.2},
    )  # fmt: skip
    frame = frame_at(result.path, 0.5)
    corner = mean_rgb(frame, (0.85, 0.85, 0.95, 0.93))
    far = mean_rgb(frame, (0.05, 0.05, 0.2, 0.2))
    # white over green at 50 %: red and blue rise to about half
    assert 100 < corner[0] < 160 and 100 < corner[2] < 160
    assert far[0] < 30


HOSTILE_OVERLAYS = ['{\\an8}50% off: it\'s "{\\b1}"!', "%{pts}\nnew line", "🎉 עד 50%"]


@pytest.mark.parametrize("text", HOSTILE_OVERLAYS)
def test_hostile_overlay_text_is_drawn_as_text(render_job, gray, text):
    plain = frame_at(render_job("plain-o.mp4", clips=[{"source": GRAY_CLIP}],
                                output={"durationSec": 1}).path, 0.5)  # fmt: skip
    result = render_job(clips=[{"source": GRAY_CLIP}], output={"durationSec": 1},
                        textOverlays=[{"text": text, "startSec": 0, "endSec": 1}])  # fmt: skip
    frame = frame_at(result.path, 0.5)
    rows = diff_rows(plain, frame)
    # Drawn in the centre (the default position), not moved by an {\an8} tag to the top.
    assert len(rows) > 0 and rows.min() > frame.shape[0] * 0.25
    assert (frame.max(axis=2) > 220).sum() > 200  # white glyphs
