"""Pure frame geometry: how a source of one size fills the output by cover, contain or blur.

Crop rectangles are computed here, from the probe, so the crop runs *before* the scaler: the
scaler then touches only the pixels that survive, which is where a naive
``scale=...:force_original_aspect_ratio=increase,crop`` spends its time.
"""

from __future__ import annotations

from dataclasses import dataclass


def even(value: float) -> int:
    """Nearest even integer, at least 2 (4:2:0 chroma needs even sizes)."""
    return max(2, round(value / 2) * 2)


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int


def cover_crop(src_w: int, src_h: int, out_w: int, out_h: int) -> Rect:
    """The centred region of the source with the output's aspect ratio."""
    full_w, full_h = src_w - src_w % 2, src_h - src_h % 2
    if src_w * out_h > src_h * out_w:  # source is wider: cut the sides
        width, height = min(even(full_h * out_w / out_h), full_w), full_h
    else:  # source is taller: cut top and bottom
        width, height = full_w, min(even(full_w * out_h / out_w), full_h)
    return Rect((src_w - width) // 2, (src_h - height) // 2, width, height)


def contain_size(src_w: int, src_h: int, out_w: int, out_h: int) -> tuple[int, int]:
    """The largest even size with the source's aspect that fits inside the output."""
    if src_w * out_h > src_h * out_w:
        return out_w, min(even(src_h * out_w / src_w), out_h)
    return min(even(src_w * out_h / src_h), out_w), out_h
