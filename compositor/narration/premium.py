"""The ``premium`` engine: an OpenAI-compatible speech server over HTTP.

``POST {base}/v1/audio/speech`` with JSON ``{model, voice, input, response_format: "wav"}``
and a bearer key is what OpenAI and the common self-hosted servers (openedai-speech,
Kokoro-FastAPI, LocalAI...) speak. They return audio but no word timings, so the script is
sent one sentence per request and aligned by ``compositor.narration.align``.

Every failure of the server (unreachable, timeout, refused key, error status, no audio) is
``narration_unavailable``: the API answers 503 and the caller may retry or use ``local``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx

from compositor.errors import InvalidJob, NarrationError
from compositor.narration import align, segments
from compositor.narration.audio import samples_to_ms
from compositor.narration.script import Script
from compositor.narration.timing import Narration, WordTiming, sentences_of
from compositor.settings import Settings

log = logging.getLogger(__name__)
ENGINE_FIELD = "audio.narrationEngine"
VOICE_FIELD = "audio.voice"


def base_url(settings: Settings) -> str | None:
    """The configured base, without a trailing ``/`` or ``/v1`` (both are common in configs)."""
    if not settings.premium_tts_url:
        return None
    return settings.premium_tts_url.rstrip("/").removesuffix("/v1")


def headers(settings: Settings) -> dict[str, str]:
    key = settings.premium_tts_api_key
    return {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}


def premium_voice(name: str | None, settings: Settings) -> str:
    """The voice to request; names outside ``premium_tts_voices`` are refused before any call."""
    voice = (settings.premium_tts_voice if name is None else name).strip()
    offered = {v.strip() for v in settings.premium_tts_voices.split(",") if v.strip()}
    if "*" in offered or voice in offered:
        return voice
    raise InvalidJob(
        f"{VOICE_FIELD}: unknown premium voice {voice!r}; use one of {', '.join(sorted(offered))}",
        field=VOICE_FIELD,
        code="narration_voice_unknown",
    )


def unavailable_reason(
    settings: Settings, transport: httpx.BaseTransport | None = None
) -> str | None:
    """Why premium narration cannot run now, or None: the cheap preflight behind available().

    ``GET {base}/v1/models`` with the key and a short timeout: it proves the server answers
    and accepts the key without synthesizing (or paying for) anything. A server that lists
    models must list the configured one; one without the route (404/405) passes, since
    reaching it was the point.
    """
    base = base_url(settings)
    if base is None:
        return "no premium narration server is configured (COMPOSITOR_PREMIUM_TTS_URL)"
    try:
        with httpx.Client(
            timeout=settings.premium_tts_preflight_timeout_sec, transport=transport
        ) as client:
            response = client.get(f"{base}/v1/models", headers=headers(settings))
    except httpx.TimeoutException:
        seconds = settings.premium_tts_preflight_timeout_sec
        return f"the narration server did not answer within {seconds:g}s"
    except httpx.HTTPError as exc:
        return f"the narration server is unreachable ({type(exc).__name__})"
    if response.status_code in (404, 405):
        return None
    if response.status_code in (401, 403):
        return f"the narration server refused the API key (HTTP {response.status_code})"
    if response.status_code >= 400:
        return f"the narration server answered HTTP {response.status_code}"
    models = _model_ids(response)
    if models and settings.premium_tts_model not in models:
        return f"the narration server does not offer model {settings.premium_tts_model!r}"
    return None


def _model_ids(response: httpx.Response) -> set[str]:
    try:
        data: Any = response.json()
    except ValueError:
        return set()
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return set()
    return {str(item["id"]) for item in items if isinstance(item, dict) and "id" in item}


def available(settings: Settings, transport: httpx.BaseTransport | None = None) -> bool:
    reason = unavailable_reason(settings, transport)
    if reason:
        log.info("premium narration unavailable: %s", reason)
    return reason is None


class SpeechClient:
    """One HTTP client for the requests of one narration."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        base = base_url(settings)
        if base is None:
            raise NarrationError(
                "premium narration is not configured (COMPOSITOR_PREMIUM_TTS_URL)",
                field=ENGINE_FIELD,
            )
        self.url = f"{base}/v1/audio/speech"
        self.settings = settings
        self.timeout = settings.premium_tts_timeout_sec
        self.client = httpx.Client(timeout=self.timeout, transport=transport)

    def __enter__(self) -> SpeechClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def speech(self, text: str, voice: str) -> bytes:
        body = {
            "model": self.settings.premium_tts_model,
            "voice": voice,
            "input": text,
            "response_format": "wav",
        }
        try:
            response = self.client.post(self.url, json=body, headers=headers(self.settings))
        except httpx.TimeoutException:
            raise NarrationError(
                f"the narration server did not answer within {self.timeout:g}s", field=ENGINE_FIELD
            ) from None
        except httpx.HTTPError as exc:
            raise NarrationError(
                f"the narration server is unreachable ({type(exc).__name__})", field=ENGINE_FIELD
            ) from None
        if response.status_code >= 400:
            raise NarrationError(
                f"the narration server answered HTTP {response.status_code}: {response.text[:200]}",
                field=ENGINE_FIELD,
            )
        return response.content


def speak(
    script: Script,
    voice: str | None,
    settings: Settings,
    path: Path,
    *,
    max_ms: int | None,
    transport: httpx.BaseTransport | None = None,
) -> Narration:
    """Request each sentence, join them with pauses, spread words inside each sentence."""
    name = premium_voice(voice, settings)
    ranges = align.chunks(script)
    pieces: list[segments.AudioSegment] = []
    spoken_ms = 0
    complete = True
    with SpeechClient(settings, transport) as client:
        for first, stop in ranges:
            text = script.text[script.words[first].start : script.words[stop - 1].end]
            try:
                segment = segments.decode(client.speech(text, name))
            except segments.NotAudio as exc:
                raise NarrationError(
                    f"the narration server returned no audio ({exc})", field=ENGINE_FIELD
                ) from None
            voiced = segments.trim_to_voice(segment)
            if voiced is None:
                raise NarrationError(
                    f"the narration server returned silence for {text[:40]!r}", field=ENGINE_FIELD
                )
            pieces.append(voiced if not pieces else segments.conform(voiced, pieces[0]))
            spoken_ms += segments.length_ms(pieces[-1]) + align.SENTENCE_PAUSE_MS
            if max_ms is not None and spoken_ms > max_ms and stop < len(script.words):
                complete = False
                break
    joined, starts = segments.join(pieces, align.SENTENCE_PAUSE_MS)
    segments.export_wav(joined, path)
    duration_ms = segments.length_ms(joined)
    if not complete:
        reached = script.words[ranges[len(pieces) - 1][1] - 1].end
        estimate = duration_ms * len(script.text) // max(reached, 1)
        return Narration(
            path,
            joined.frame_rate,
            duration_ms,
            max(estimate, duration_ms),
            (),
            (),
            "premium",
            name,
            complete=False,
        )
    words: list[WordTiming] = []
    rate = joined.frame_rate
    for (first, stop), start, piece in zip(ranges, starts, pieces, strict=True):
        begin_ms = samples_to_ms(start, rate)
        end_ms = samples_to_ms(start + int(piece.frame_count()), rate)
        span = align.spread_words(script.words[first:stop], begin_ms, end_ms)
        words.extend(
            WordTiming(word.text, begin, end, word.brk)
            for word, (begin, end) in zip(script.words[first:stop], span, strict=True)
        )
    timed = tuple(words)
    return Narration(
        path=path,
        sample_rate=joined.frame_rate,
        duration_ms=duration_ms,
        speech_ms=timed[-1].end_ms,
        words=timed,
        sentences=sentences_of(timed, script),
        engine="premium",
        voice=name,
    )
