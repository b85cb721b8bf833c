"""The composite job: what ``compositor render`` reads and ``/compose`` takes (CONTRACT §7).

Field names are camelCase on the wire and snake_case in Python. Models are frozen and reject
unknown fields, NaN and infinities, so a job that validates is a job the planner can trust.
``parse_job`` turns pydantic's errors into one ``InvalidJob`` naming the first failing field.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from compositor.errors import InvalidJob

Aspect = Literal["16:9", "9:16", "1:1"]
Fit = Literal["cover", "contain", "blur"]

MAX_CLIPS = 100
MAX_CUES = 1000
MAX_OVERLAYS = 50
MAX_CUE_CHARS = 500

OUTPUT_SIZES: dict[Aspect, tuple[int, int]] = {
    "16:9": (1920, 1080),
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
}

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CUE_CHARS)]
Source = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Seconds = Annotated[float, Field(ge=0, le=3600)]


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
    )


class Output(Model):
    aspect: Aspect = "16:9"
    duration_sec: float = Field(default=15, ge=1, le=120)
    fps: Literal[24, 25, 30, 50, 60] = 30
    tolerance_sec: float = Field(default=0.1, ge=0.02, le=5)
    fit: Fit = "cover"
    duration_mode: Literal["trim-pad", "fit"] = "trim-pad"
    resolution: Literal["full", "preview"] = Field(
        default="full", description="preview renders at half size, for drafts and tests."
    )

    @property
    def size(self) -> tuple[int, int]:
        width, height = OUTPUT_SIZES[self.aspect]
        if self.resolution == "preview":
            return width // 2, height // 2
        return width, height


class Clip(Model):
    source: Source
    in_sec: Seconds = 0
    out_sec: Annotated[float, Field(gt=0, le=3600)] | None = None
    fit: Fit | None = None

    @model_validator(mode="after")
    def _out_after_in(self) -> Clip:
        if self.out_sec is not None and self.out_sec <= self.in_sec:
            raise _field_error("outSec", "must be greater than inSec")
        return self


class Transition(Model):
    type: Literal["cut", "fade"] = "cut"
    duration_sec: float = Field(default=0.5, ge=0.1, le=2.0)


class Word(Model):
    text: Text
    start_sec: Seconds
    end_sec: Seconds


class Cue(Model):
    start_sec: Seconds
    end_sec: Seconds
    text: Text
    words: list[Word] | None = Field(
        default=None, description="Word timings (from narration) for the karaoke style."
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> Cue:
        if self.end_sec <= self.start_sec:
            raise _field_error("endSec", "must be greater than startSec")
        return self


class Captions(Model):
    cues: list[Cue] = Field(default_factory=list, max_length=MAX_CUES)
    style: Literal["clean", "bold", "karaoke", "minimal"] = "clean"
    burn_in: bool = True


class TextOverlay(Model):
    text: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    start_sec: Seconds
    end_sec: Seconds
    position: Literal["center", "top", "bottom"] = "center"
    style: Literal["promo", "plain"] = "promo"

    @model_validator(mode="after")
    def _end_after_start(self) -> TextOverlay:
        if self.end_sec <= self.start_sec:
            raise _field_error("endSec", "must be greater than startSec")
        return self


WatermarkPosition = Literal["top-left", "top-right", "bottom-left", "bottom-right", "center"]


class Watermark(Model):
    text: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    image: Source | None = None
    position: WatermarkPosition = "bottom-right"
    opacity: float = Field(default=0.6, ge=0, le=1)
    size: float = Field(default=0.15, ge=0.02, le=0.5, description="Width as output fraction.")

    @model_validator(mode="after")
    def _text_or_image(self) -> Watermark:
        if (self.text is None) == (self.image is None):
            raise ValueError("a watermark has either text or image")
        return self


class NarrationScript(Model):
    script: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class NarrationSource(Model):
    source: Source


class Music(Model):
    source: Source


class Audio(Model):
    native_volume: float = Field(default=0.5, ge=0, le=2)
    voice_volume: float = Field(default=1.0, ge=0, le=2)
    music_volume: float = Field(default=0.3, ge=0, le=2)
    speech_pace: float = Field(default=1.0, ge=0.5, le=2.0)
    pitch: float = Field(default=0, ge=-12, le=12)
    voice_start_sec: Seconds = 0.5
    music_start_sec: Seconds = 0
    narration: NarrationScript | NarrationSource | None = None
    narration_engine: Literal["local", "premium"] = "local"
    voice: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    music: Music | None = None
    ducking: bool = True
    loudness_lufs: Annotated[float, Field(ge=-40, le=-5)] | None = Field(
        default=-14, description="Integrated loudness of the mix; null leaves levels untouched."
    )


JobId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]


class Job(Model):
    job_id: JobId | None = Field(default=None, description="Worker only: idempotency key.")
    wait_sec: float = Field(default=0, ge=0, le=30, description="Worker only.")
    callback_url: Annotated[str, StringConstraints(max_length=2048)] | None = Field(
        default=None, description="Worker only: signed completion callback."
    )
    output: Output = Field(default_factory=Output)
    clips: list[Clip] = Field(min_length=1, max_length=MAX_CLIPS)
    transition: Transition = Field(default_factory=Transition)
    captions: Captions | None = None
    text_overlays: list[TextOverlay] = Field(default_factory=list, max_length=MAX_OVERLAYS)
    watermark: Watermark | None = None
    audio: Audio = Field(default_factory=Audio)

    @model_validator(mode="after")
    def _times_inside_slot(self) -> Job:
        slot = self.output.duration_sec
        for name in ("voice_start_sec", "music_start_sec"):
            if getattr(self.audio, name) > slot:
                raise _field_error(f"audio.{to_camel(name)}", "must not exceed output.durationSec")
        if self.captions is not None:
            for i, cue in enumerate(self.captions.cues):
                if cue.start_sec >= slot:
                    raise _field_error(
                        f"captions.cues[{i}].startSec", "starts after the output ends"
                    )
        for i, overlay in enumerate(self.text_overlays):
            if overlay.start_sec >= slot:
                raise _field_error(f"textOverlays[{i}].startSec", "starts after the output ends")
        return self

    def fit_of(self, clip: Clip) -> Fit:
        return clip.fit or self.output.fit


class _FieldError(ValueError):
    """A cross-field failure that knows its path relative to the model that raised it
    (pydantic alone would report the model's path, not the field's)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _field_error(field: str, message: str) -> _FieldError:
    return _FieldError(field, message)


def json_path(loc: tuple[int | str, ...]) -> str:
    """('clips', 0, 'inSec') -> 'clips[0].inSec'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


_CODES = {"extra_forbidden": "unknown_field", "missing": "missing_field"}


def parse_job(data: Any) -> Job:
    """Validate a decoded JSON value as a job, raising one ``InvalidJob`` for the first error."""
    if not isinstance(data, dict):
        raise InvalidJob("the job must be a JSON object", field=None, code="invalid_json")
    try:
        return Job.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        # Union members (narration) add their class name to the path; drop it.
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p[:1].isupper()))
        context_error = (first.get("ctx") or {}).get("error")
        if isinstance(context_error, _FieldError):
            loc = (*loc, context_error.field)
        field = json_path(loc) or None
        message = first["msg"].removeprefix("Value error, ")
        code = _CODES.get(first["type"], "invalid_field")
        raise InvalidJob(f"{field or 'job'}: {message}", field=field, code=code) from None


def parse_job_json(text: str | bytes) -> Job:
    """Decode and validate; NaN and Infinity literals are refused like any invalid number."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJob(f"the job is not valid JSON: {exc}", code="invalid_json") from None
    return parse_job(data)


def _refuse_constant(name: str) -> float:
    if name in ("NaN", "Infinity", "-Infinity"):
        return math.nan  # pydantic rejects it with the field's path
    raise ValueError(name)


def job_schema() -> dict[str, Any]:
    return Job.model_json_schema(by_alias=True)
