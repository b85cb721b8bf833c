"""Build the ASS document that libass burns in: captions, text overlays, text watermark.

All user text reaches FFmpeg through this file, never through the filter graph, so the graph
only ever carries names we generate. Inside the file, ``escape_ass_text`` makes every string
literal: override blocks (``{\\b1}``), escapes (``\\N``) and drawing commands cannot be
smuggled in. Layout is relative to the output size and keeps to each aspect's safe area.
Reference: https://github.com/libass/libass/wiki/ASS-File-Format-Guide
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from compositor.job import Aspect, Captions, Cue, TextOverlay, Watermark

WORD_JOINER = "\u2060"
PRIMARY_FONT = "Noto Sans"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")


def escape_ass_text(text: str) -> str:
    """Make ``text`` render literally in an ASS Dialogue line.

    A backslash gets an invisible word joiner after it, so ``\\N``, ``\\h`` and ``\\{`` are shown
    as typed; braces become libass's literal-brace escapes; newlines become ASS line breaks;
    other control characters (NUL included) are dropped.
    """
    text = _CONTROL.sub("", text.replace("\t", " "))
    text = text.replace("\\", "\\" + WORD_JOINER)
    text = text.replace("{", "\\{").replace("}", "\\}")
    return _NEWLINES.sub(r"\\N", text)


def ass_time(seconds: float) -> str:
    """h:mm:ss.cc, rounded to the centisecond ASS can express."""
    centis = max(round(seconds * 100), 0)
    hours, centis = divmod(centis, 360_000)
    minutes, centis = divmod(centis, 6_000)
    secs, centis = divmod(centis, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{centis:02d}"


def ass_colour(rgb: int, alpha: int = 0) -> str:
    """&HAABBGGRR, alpha 0 = opaque (ASS counts transparency)."""
    red, green, blue = (rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF
    return f"&H{alpha:02X}{blue:02X}{green:02X}{red:02X}"


def override_colour(rgb: int) -> str:
    """&HBBGGRR& as override tags (\\1c) take it."""
    return ass_colour(rgb)[0:2] + ass_colour(rgb)[4:] + "&"


@dataclass(frozen=True)
class Layout:
    """Safe-area margins and type sizes for one output size, in pixels."""

    width: int
    height: int
    aspect: Aspect

    @property
    def base(self) -> int:
        return min(self.width, self.height)

    @property
    def side_margin(self) -> int:
        return round(self.width * (0.08 if self.aspect == "9:16" else 0.06))

    @property
    def caption_margin(self) -> int:
        # 9:16: clear of the bottom 20 % where platform UI (captions, buttons) sits.
        return round(self.height * (0.22 if self.aspect == "9:16" else 0.08))

    @property
    def top_margin(self) -> int:
        return round(self.height * (0.12 if self.aspect == "9:16" else 0.08))

    @property
    def overlay_bottom_margin(self) -> int:
        # Bottom overlays sit above the caption band.
        return self.caption_margin + round(self.height * 0.14)

    def px(self, fraction: float) -> int:
        return max(round(self.base * fraction), 1)


WHITE, BLACK, YELLOW = 0xFFFFFF, 0x000000, 0xFFD200


@dataclass(frozen=True)
class Style:
    name: str
    font: str
    size: int
    primary: str
    secondary: str
    outline_colour: str
    back_colour: str
    bold: bool
    border_style: int  # 1 outline + shadow, 3 opaque box (libass draws it in OutlineColour)
    outline: float
    shadow: float
    alignment: int  # numpad: 2 bottom centre, 5 centre, 8 top centre
    margin_l: int
    margin_r: int
    margin_v: int

    def line(self) -> str:
        fields = [
            self.name,
            self.font,
            str(self.size),
            self.primary,
            self.secondary,
            self.outline_colour,
            self.back_colour,
            "-1" if self.bold else "0",
            "0",
            "0",
            "0",
            "100",
            "100",
            "0",
            "0",
            str(self.border_style),
            f"{self.outline:g}",
            f"{self.shadow:g}",
            str(self.alignment),
            str(self.margin_l),
            str(self.margin_r),
            str(self.margin_v),
            "1",
        ]
        return "Style: " + ",".join(fields)


def caption_style(style: str, layout: Layout) -> Style:
    side, bottom = layout.side_margin, layout.caption_margin
    size = layout.px(0.05)
    common = {"margin_l": side, "margin_r": side, "margin_v": bottom, "alignment": 2}
    if style == "bold":
        big = layout.px(0.065)
        return Style(
            "caption", PRIMARY_FONT, big, ass_colour(WHITE), ass_colour(WHITE),
            ass_colour(BLACK), ass_colour(BLACK, 0x60), True, 1, max(big * 0.09, 2), big * 0.04,
            **common,
        )  # fmt: skip
    if style == "karaoke":
        return Style(
            "caption", PRIMARY_FONT, size, ass_colour(WHITE), ass_colour(WHITE),
            ass_colour(BLACK), ass_colour(BLACK, 0x60), True, 1, max(size * 0.08, 2), size * 0.03,
            **common,
        )  # fmt: skip
    if style == "minimal":
        small = layout.px(0.04)
        return Style(
            "caption", PRIMARY_FONT, small, ass_colour(WHITE), ass_colour(WHITE),
            ass_colour(BLACK, 0x40), ass_colour(BLACK, 0x80), False, 1, max(small * 0.03, 1),
            max(small * 0.04, 1), **common,
        )  # fmt: skip
    # clean: white on a translucent dark box
    return Style(
        "caption", PRIMARY_FONT, size, ass_colour(WHITE), ass_colour(WHITE),
        ass_colour(BLACK, 0x50), ass_colour(BLACK, 0x50), True, 3, max(size * 0.25, 2), 0,
        **common,
    )  # fmt: skip


def overlay_styles(layout: Layout) -> list[Style]:
    side = layout.side_margin
    promo = layout.px(0.085)
    plain = layout.px(0.06)
    styles = []
    for name, size, bold, outline, shadow in (
        ("promo", promo, True, promo * 0.07, promo * 0.05),
        ("plain", plain, False, plain * 0.04, plain * 0.04),
    ):
        for position, alignment, margin in (
            ("top", 8, layout.top_margin),
            ("center", 5, 0),
            ("bottom", 2, layout.overlay_bottom_margin),
        ):
            styles.append(
                Style(
                    f"{name}-{position}",
                    PRIMARY_FONT,
                    size,
                    ass_colour(WHITE),
                    ass_colour(WHITE),
                    ass_colour(BLACK),
                    ass_colour(BLACK, 0x70),
                    bold,
                    1,
                    max(outline, 2),
                    shadow,
                    alignment,
                    side,
                    side,
                    margin,
                )
            )
    return styles


_WATERMARK_ALIGNMENT = {
    "bottom-left": 1,
    "bottom-right": 3,
    "center": 5,
    "top-left": 7,
    "top-right": 9,
}
# Mean advance of Noto Sans Bold, in em: turns "size as a fraction of output width" into points.
_MEAN_ADVANCE_EM = 0.6


def watermark_style(watermark: Watermark, layout: Layout) -> Style:
    assert watermark.text is not None
    target_width = watermark.size * layout.width
    chars = max(len(watermark.text), 4)
    size = max(round(target_width / (chars * _MEAN_ADVANCE_EM)), 8)
    size = min(size, layout.px(0.12))
    alpha = round((1 - watermark.opacity) * 255)
    margin = round(layout.width * 0.03)
    return Style(
        "watermark", PRIMARY_FONT, size, ass_colour(WHITE, alpha), ass_colour(WHITE, alpha),
        ass_colour(BLACK, min(alpha + 0x40, 0xFF)), ass_colour(BLACK, 0xFF), True, 1,
        max(size * 0.05, 1), 0, _WATERMARK_ALIGNMENT[watermark.position], margin, margin, margin,
    )  # fmt: skip


@dataclass(frozen=True)
class Event:
    layer: int
    start: float
    end: float
    style: str
    text: str  # already escaped / tagged

    def line(self) -> str:
        return (
            f"Dialogue: {self.layer},{ass_time(self.start)},{ass_time(self.end)},"
            f"{self.style},,0,0,0,,{self.text}"
        )


def spread_words(cue: Cue) -> list[tuple[str, float, float]]:
    """Word timings for karaoke: the cue's own, else the cue split by word length."""
    if cue.words:
        return [(w.text, w.start_sec, w.end_sec) for w in cue.words]
    words = cue.text.split()
    if not words:
        return []
    weights = [len(word) + 1 for word in words]
    total = sum(weights)
    span = cue.end_sec - cue.start_sec
    timings = []
    at = cue.start_sec
    for word, weight in zip(words, weights, strict=True):
        end = at + span * weight / total
        timings.append((word, at, end))
        at = end
    return timings


def karaoke_events(cue: Cue, end: float) -> list[Event]:
    """One event per word, the whole cue shown with the current word highlighted; the cue's own
    line breaks are kept (words are matched to its lines in order)."""
    words = spread_words(cue)
    if not words:
        return [Event(1, cue.start_sec, end, "caption", escape_ass_text(cue.text))]
    highlight = "{\\1c" + override_colour(YELLOW) + "}"
    line_ends = _line_ends(cue.text, len(words))
    events = []
    for index, (_, start, _) in enumerate(words):
        stop = words[index + 1][1] if index + 1 < len(words) else end
        start = max(start, cue.start_sec)
        stop = min(stop, end)
        if stop <= start:
            continue
        text = ""
        for j, (word, _, _) in enumerate(words):
            escaped = escape_ass_text(word)
            text += highlight + escaped + "{\\r}" if j == index else escaped
            if j + 1 < len(words):
                text += "\\N" if j in line_ends else " "
        events.append(Event(1, start, stop, "caption", text))
    return events


def _line_ends(text: str, word_count: int) -> set[int]:
    """Indices of the words that end a line of ``text`` (when its words match the timings)."""
    lines = [line.split() for line in text.splitlines() if line.split()]
    if sum(len(line) for line in lines) != word_count:
        return set()
    ends, total = set(), 0
    for line in lines[:-1]:
        total += len(line)
        ends.add(total - 1)
    return ends


def caption_events(captions: Captions, slot_sec: float) -> list[Event]:
    events: list[Event] = []
    for cue in captions.cues:
        end = min(cue.end_sec, slot_sec)
        if captions.style == "karaoke":
            events.extend(karaoke_events(cue, end))
        else:
            events.append(Event(1, cue.start_sec, end, "caption", escape_ass_text(cue.text)))
    return events


def overlay_events(overlays: Sequence[TextOverlay], slot_sec: float) -> list[Event]:
    events = []
    for overlay in overlays:
        end = min(overlay.end_sec, slot_sec)
        fade = min(250, round((end - overlay.start_sec) * 1000 / 4))
        text = f"{{\\fad({fade},{fade})}}" + escape_ass_text(overlay.text)
        events.append(Event(2, overlay.start_sec, end, f"{overlay.style}-{overlay.position}", text))
    return events


def build_ass(
    *,
    width: int,
    height: int,
    aspect: Aspect,
    slot_sec: float,
    captions: Captions | None,
    overlays: Sequence[TextOverlay],
    watermark: Watermark | None,
) -> str | None:
    """The whole ASS document, or None when there is nothing to burn in."""
    layout = Layout(width, height, aspect)
    styles: list[Style] = []
    events: list[Event] = []
    if captions is not None and captions.burn_in and captions.cues:
        styles.append(caption_style(captions.style, layout))
        events.extend(caption_events(captions, slot_sec))
    if overlays:
        styles.extend(overlay_styles(layout))
        events.extend(overlay_events(overlays, slot_sec))
    if watermark is not None and watermark.text is not None:
        styles.append(watermark_style(watermark, layout))
        events.append(Event(3, 0, slot_sec, "watermark", escape_ass_text(watermark.text)))
    if not events:
        return None
    return _document(width, height, styles, events)


def _document(width: int, height: int, styles: Iterable[Style], events: Iterable[Event]) -> str:
    lines = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        *(style.line() for style in styles),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        *(event.line() for event in events),
        "",
    ]
    return "\n".join(lines)
