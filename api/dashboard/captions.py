"""Captions for a source bundle: cues timed to its narration as it will be spoken, saved on the
row, charged once per new script and timing (CONTRACT §4, §5).

The cues come from ``compositor.captions.caption_cues`` with the same engine, pace, start,
slot and duration mode the composite will render with, so they land on the spoken words. The
inputs are hashed into ``caption_meta.key``: the same key again returns the saved cues free;
a new key generates (1 credit). The check and the charge share one locked transaction
(``Ledger.charge_unless``), so two identical requests at once charge once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.access import Principal
from api.audio_config import effective_audio
from api.clock import Clock
from api.compositing.jobs import (
    DURATION_MODE,
    clean_bool,
    clean_caption_style,
    clean_id,
)
from api.credits.ledger import Ledger
from api.credits.rules import CAPTION_CREDITS, MonthlyUsage, require_headroom
from api.dashboard.bundle import owned_row
from api.db.engine import Database
from api.db.models import VideoGeneration
from api.errors import (
    InvalidRequest,
    NarrationUnavailable,
    NotReady,
    OverlayNotAllowed,
)
from api.validation import clean_text
from compositor.captions import caption_cues
from compositor.errors import InvalidJob, NarrationError
from compositor.narration import available
from compositor.settings import Settings

MAX_SCRIPT_CHARS = 5000
# Fields of the engine's errors, as the client knows them.
ENGINE_FIELDS = {
    "audio.narration.script": "script",
    "audio.speechPace": "audioConfig.speechPace",
    "audio.voiceStartSec": "audioConfig.voiceStartSec",
    "audio.voice": "audioConfig.voice",
    "audio.narrationEngine": "audioConfig.voice",
    "output.durationSec": "duration",
}


@dataclass(frozen=True)
class CaptionRequest:
    video_id: str
    script: str | None
    caption_style: str
    burn_in: bool


@dataclass(frozen=True)
class CaptionTiming:
    """Everything the cues depend on."""

    script: str
    pace: float
    voice_start_sec: float
    duration_sec: int
    engine: str  # local | premium
    duration_mode: str

    def summary(self) -> dict[str, Any]:
        return {
            "speechPace": self.pace,
            "voiceStartSec": self.voice_start_sec,
            "durationSec": self.duration_sec,
            "engine": self.engine,
            "durationMode": self.duration_mode,
        }

    @property
    def key(self) -> str:
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def clean_script(value: Any, field: str = "script") -> str:
    return clean_text(value, field, max_chars=MAX_SCRIPT_CHARS)


def parse_caption_request(body: dict[str, Any]) -> CaptionRequest:
    script = body.get("script")
    return CaptionRequest(
        video_id=clean_id(body.get("videoId"), "videoId"),
        script=None if script is None else clean_script(script),
        caption_style=clean_caption_style(body.get("captionStyle", "clean")),
        burn_in=clean_bool(body.get("burnIn", True), "burnIn"),
    )


def timing_for(script: str, audio: dict[str, Any], duration_sec: int) -> CaptionTiming:
    return CaptionTiming(
        script=script,
        pace=float(audio["speechPace"]),
        voice_start_sec=float(audio["voiceStartSec"]),
        duration_sec=duration_sec,
        engine="premium" if audio["voice"] == "premium" else "local",
        duration_mode=DURATION_MODE,
    )


def generate_cues(timing: CaptionTiming, settings: Settings) -> list[dict[str, Any]]:
    """Synthesize and cue (blocking, ~0.1-1 s locally): run it in a worker thread."""
    try:
        return caption_cues(
            timing.script,
            settings=settings,
            pace=timing.pace,
            voice_start_sec=timing.voice_start_sec,
            duration_sec=timing.duration_sec,
            engine=timing.engine,
            duration_mode=timing.duration_mode,
        )
    except NarrationError as error:
        raise NarrationUnavailable(error.message, field="audioConfig.voice") from None
    except InvalidJob as error:
        field = ENGINE_FIELDS.get(error.field or "", error.field)
        message = error.message.split(": ", 1)[-1] if error.field else error.message
        raise InvalidRequest(f"{field or 'script'}: {message}", field=field or "script") from None


def split_words(cues: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Public cues ``{startSec, endSec, text}`` and, apart, each cue's word timings."""
    public = [{"startSec": c["startSec"], "endSec": c["endSec"], "text": c["text"]} for c in cues]
    return public, [c.get("words") or [] for c in cues]


@dataclass(frozen=True)
class Captioned:
    row: VideoGeneration  # as saved, cues included
    charged: bool
    usage: MonthlyUsage
    audio: dict[str, Any]


class CaptionSaver:
    """Runs under the business lock: keeps the saved cues when they match (no charge), else
    saves the new ones (charge). ``cues`` None means "reuse": if they changed meanwhile, the
    saver touches nothing and reports ``stale``."""

    def __init__(
        self,
        timing: CaptionTiming,
        cues: list[dict[str, Any]] | None,
        request: CaptionRequest,
        now: datetime,
    ) -> None:
        self.timing = timing
        self.cues = cues
        self.request = request
        self.now = now
        self.stale = False

    def __call__(self, session: Session, row: VideoGeneration) -> bool:
        meta = dict(row.caption_meta or {})
        meta.update(captionStyle=self.request.caption_style, burnIn=self.request.burn_in)
        if meta.get("key") == self.timing.key and row.captions is not None:
            row.caption_meta = meta  # the same cues: keep them, only the style may change
            return False
        if self.cues is None:
            self.stale = True
            return False
        public, words = split_words(self.cues)
        meta.update(key=self.timing.key, words=words, timing=self.timing.summary())
        row.captions = public
        row.caption_meta = meta
        row.script = self.timing.script  # the composite narrates what the captions show
        row.updated_at = self.now
        return True


class CaptionMaker:
    """The captions route's work, blocking (database, synthesis): run it in a worker thread."""

    def __init__(
        self, database: Database, ledger: Ledger, clock: Clock, settings: Settings
    ) -> None:
        self.db = database
        self.ledger = ledger
        self.clock = clock
        self.settings = settings

    def load(self, business_id: str, video_id: str) -> VideoGeneration:
        with self.db.session() as session:
            return owned_row(session, business_id, video_id)

    def make(self, principal: Principal, request: CaptionRequest) -> Captioned:
        row = self.load(principal.business_id, request.video_id)
        if row.kind != "generation":
            raise InvalidRequest(
                "captions are made for source videos, not composites", field="videoId"
            )
        if row.status == "failed":
            raise NotReady("the video failed; captions cannot be made for it", field="videoId")
        script = request.script or row.script
        if not script:
            raise InvalidRequest("the video has no script; send one", field="script")
        audio = effective_audio(row.audio_config)
        timing = timing_for(script, audio, row.duration_sec)
        # Twice at most: when another request replaced the saved cues between our look and
        # the lock, the cues we meant to reuse are gone and are generated after all.
        for _ in range(2):
            saved = (row.caption_meta or {}).get("key") == timing.key and row.captions is not None
            cues = None
            if not saved:
                self.check_new(principal, timing)
                cues = generate_cues(timing, self.settings)
            saver = CaptionSaver(timing, cues, request, self.clock.now())
            charged, usage = self.ledger.charge_unless(
                principal.business_id,
                row.pk,
                limit=principal.plan.monthly_video_credits,
                credits=CAPTION_CREDITS,
                reason="captions",
                apply=saver,
            )
            row = self.load(principal.business_id, request.video_id)
            if not saver.stale:
                return Captioned(row, charged, usage, audio)
        raise InvalidRequest(
            "the captions kept changing under this request; try again", field="videoId"
        )

    def check_new(self, principal: Principal, timing: CaptionTiming) -> None:
        """Before synthesizing anything: the plan allows the voice, the engine answers, and
        the month has room for one more credit (checked again under the lock)."""
        if timing.engine == "premium":
            if not principal.plan.premium_narration:
                raise OverlayNotAllowed(
                    "the plan does not include premium narration", field="audioConfig.voice"
                )
            if not available("premium", self.settings):
                raise NarrationUnavailable(
                    "premium narration is not available right now", field="audioConfig.voice"
                )
        usage = self.ledger.usage(principal.business_id, principal.plan.monthly_video_credits)
        require_headroom(usage, CAPTION_CREDITS)
