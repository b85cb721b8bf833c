"""Validation of v1 inputs (CONTRACT §3). Pure: values in, frozen requests or InvalidRequest."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.credits.rules import DURATIONS_SEC
from api.errors import InvalidRequest

ASPECT_RATIOS = ("16:9", "9:16", "1:1")
STATUSES = ("completed", "processing", "failed", "all")
PROMPT_MIN, PROMPT_MAX = 5, 500
LIMIT_DEFAULT, LIMIT_MAX = 20, 50
_DIGITS = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class CreateVideo:
    prompt: str
    duration_sec: int
    aspect_ratio: str


@dataclass(frozen=True)
class ListQuery:
    limit: int
    status: str


def clean_text(
    value: Any,
    field: str,
    *,
    max_chars: int,
    min_chars: int = 1,
    code: str = "invalid_field",
    allowed_controls: str = "\t\n\r",
) -> str:
    """User text (prompts, scripts, cues, overlays): a string without control characters but
    ``allowed_controls`` or unpaired surrogates, ``min_chars``-``max_chars`` code points after
    trimming. Everything else (quotes, braces, emoji, right-to-left text) is text."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be a string of {min_chars}-{max_chars} characters",
                             code=code, field=field)  # fmt: skip
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            raise InvalidRequest(f"{field} contains an unpaired surrogate", code=code,
                                 field=field)  # fmt: skip
        if category == "Cc" and char not in allowed_controls:
            raise InvalidRequest(
                f"{field} contains a control character (U+{ord(char):04X})", code=code, field=field
            )
    text = value.strip()
    if not min_chars <= len(text) <= max_chars:
        raise InvalidRequest(
            f"{field} must be {min_chars}-{max_chars} characters after trimming (got {len(text)})",
            code=code,
            field=field,
        )
    return text


def clean_prompt(value: Any, field: str = "prompt") -> str:
    """5-500 code points after trimming; no control characters (tab and newlines are text)."""
    return clean_text(
        value, field, min_chars=PROMPT_MIN, max_chars=PROMPT_MAX, code="invalid_prompt"
    )


def clean_duration(value: Any, present: bool, field: str = "duration") -> int:
    """ "5", "15", "30" or the same as integers; absent means 15."""
    if not present:
        return 15
    allowed = {str(seconds): seconds for seconds in DURATIONS_SEC}
    if isinstance(value, str) and value in allowed:
        return allowed[value]
    if type(value) is int and value in DURATIONS_SEC:  # bool is an int subclass: excluded
        return value
    raise InvalidRequest('duration must be "5", "15" or "30"', code="invalid_duration", field=field)


def clean_aspect(value: Any, present: bool, field: str = "aspectRatio") -> str:
    if not present:
        return "16:9"
    if isinstance(value, str) and value in ASPECT_RATIOS:
        return value
    raise InvalidRequest(
        'aspectRatio must be "16:9", "9:16" or "1:1"', code="invalid_aspect_ratio", field=field
    )


def parse_create(body: Mapping[str, Any]) -> CreateVideo:
    """Fields are checked in document order; unknown fields are ignored."""
    return CreateVideo(
        prompt=clean_prompt(body.get("prompt")),
        duration_sec=clean_duration(body.get("duration"), "duration" in body),
        aspect_ratio=clean_aspect(body.get("aspectRatio"), "aspectRatio" in body),
    )


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    raw_limit = params.get("limit")
    if raw_limit is None:
        limit = LIMIT_DEFAULT
    elif _DIGITS.match(raw_limit) and raw_limit.strip("0"):
        # Any whole number over 50 is clamped, however many digits it has.
        limit = min(int(raw_limit[-12:]) if len(raw_limit.lstrip("0")) <= 12 else LIMIT_MAX + 1,
                    LIMIT_MAX)  # fmt: skip
    else:
        raise InvalidRequest("limit must be a whole number of at least 1", code="invalid_limit",
                             field="limit")  # fmt: skip
    status = params.get("status", "all")
    if status not in STATUSES:
        raise InvalidRequest(
            "status must be completed, processing, failed or all", code="invalid_status",
            field="status",
        )  # fmt: skip
    return ListQuery(limit, status)
