"""The premium engine against a real HTTP server on loopback that speaks the OpenAI protocol."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from compositor.errors import InvalidJob, NarrationError
from compositor.narration import available, ensure_available, synthesize_script
from compositor.narration.premium import base_url
from compositor.narration.timing import Narration
from compositor.settings import Settings
from tests.narration.conftest import premium_settings
from tests.narration.measure import onsets_after_pauses, read_wav
from tests.narration.tts_server import TONE_MS_PER_CHAR, SpeechServer


def premium(server: SpeechServer, text: str, tmp_path: Path) -> Narration:
    """``text`` narrated by the premium engine against ``server``, default settings."""
    return synthesize_script(
        text, engine="premium", voice=None, settings=premium_settings(server),
        path=tmp_path / "p.wav",
    )  # fmt: skip


SCRIPT = "Fresh bread every morning. Stop by the bakery on Main Street today. Open late!"


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_premium_sends_the_openai_speech_request_with_the_key(speech_server, tmp_path):
    server = speech_server(mode="tone", key="sk-test")
    settings = premium_settings(server, premium_tts_voice="nova")
    synthesize_script(
        SCRIPT, engine="premium", voice=None, settings=settings, path=tmp_path / "p.wav"
    )
    posts = [r for r in server.requests if r.method == "POST"]
    assert [r.path for r in posts] == ["/v1/audio/speech"] * 3  # one request per sentence
    assert [r.body["input"] for r in posts] == [  # type: ignore[index]
        "Fresh bread every morning.",
        "Stop by the bakery on Main Street today.",
        "Open late!",
    ]
    for request in posts:
        assert request.headers["Authorization"] == "Bearer sk-test"
        assert request.body == {
            **request.body,
            "model": "tts-1",
            "voice": "nova",  # type: ignore[dict-item]
            "response_format": "wav",
        }


def test_force_alignment_puts_sentences_where_their_audio_starts(speech_server, tmp_path):
    """Each sentence is a tone of a known length: measure where each one starts and ends."""
    server = speech_server(mode="tone")
    narration = premium(server, SCRIPT, tmp_path)
    samples, rate = read_wav(narration.path)
    measured_starts = [0, *onsets_after_pauses(samples, rate, min_pause_ms=150)]
    assert len(measured_starts) == len(narration.sentences) == 3
    for sentence, measured in zip(narration.sentences, measured_starts, strict=True):
        assert abs(sentence.start_ms - measured) <= 100
        # The server's 200 ms lead and 300 ms tail were trimmed: the sentence is its tone.
        expected_ms = TONE_MS_PER_CHAR * len(sentence.text)
        assert abs((sentence.end_ms - sentence.start_ms) - expected_ms) <= 20


def test_words_are_spread_inside_their_sentence_by_length(speech_server, tmp_path):
    server = speech_server(mode="tone")
    narration = premium(server, "Go. Incredible bread!", tmp_path)
    go, incredible, bread = narration.words
    assert go.start_ms == 0
    assert incredible.start_ms == narration.sentences[1].start_ms > go.end_ms  # pause between
    assert bread.end_ms == narration.sentences[1].end_ms == narration.speech_ms
    # 10 letters against 5: "Incredible" gets twice the time of "bread!".
    ratio = (incredible.end_ms - incredible.start_ms) / (bread.end_ms - bread.start_ms)
    assert ratio == pytest.approx(11 / 6, rel=0.02)


def test_premium_with_espeak_speech_keeps_every_word_in_order(speech_server, tmp_path):
    server = speech_server(mode="espeak")
    narration = premium(server, SCRIPT, tmp_path)
    assert [w.text for w in narration.words] == SCRIPT.split()
    previous = 0
    for word in narration.words:
        assert previous <= word.start_ms <= word.end_ms <= narration.duration_ms
        previous = word.end_ms
    samples, rate = read_wav(narration.path)
    onsets = onsets_after_pauses(samples, rate, min_pause_ms=200)
    for sentence in narration.sentences[1:]:
        assert min(abs(at - sentence.start_ms) for at in onsets) <= 100


def test_audio_in_another_format_is_decoded(speech_server, tmp_path):
    """A server that ignores response_format and answers FLAC still works (PyAV decodes)."""
    server = speech_server(mode="flac")
    narration = premium(server, "Fresh bread.", tmp_path)
    assert narration.duration_ms == pytest.approx(TONE_MS_PER_CHAR * len("Fresh bread."), abs=20)


@pytest.mark.parametrize(
    ("mode", "needle"),
    [("text", "no audio"), ("silence", "silence"), ("error", "HTTP 500")],
)
def test_a_misbehaving_server_is_narration_unavailable(speech_server, tmp_path, mode, needle):
    server = speech_server(mode=mode)
    with pytest.raises(NarrationError) as caught:
        premium(server, "Hello there.", tmp_path)
    assert caught.value.code == "narration_unavailable"
    assert caught.value.field == "audio.narrationEngine"
    assert needle in caught.value.message


def test_a_slow_server_times_out_as_narration_unavailable(speech_server, tmp_path):
    server = speech_server(mode="slow", delay_sec=5)
    settings = premium_settings(server, premium_tts_timeout_sec=0.3)
    with pytest.raises(NarrationError) as caught:
        synthesize_script(
            "Hello there.", engine="premium", voice=None, settings=settings, path=tmp_path / "p.wav"
        )
    assert caught.value.code == "narration_unavailable"
    assert "did not answer within 0.3s" in caught.value.message


def test_an_unreachable_server_is_narration_unavailable(tmp_path):
    settings = Settings(premium_tts_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(NarrationError) as caught:
        synthesize_script(
            "Hello there.", engine="premium", voice=None, settings=settings, path=tmp_path / "p.wav"
        )
    assert caught.value.code == "narration_unavailable"
    assert "unreachable" in caught.value.message


def test_premium_without_a_server_configured_is_unavailable(tmp_path):
    assert available("premium", Settings()) is False
    with pytest.raises(NarrationError) as caught:
        synthesize_script(
            "Hi there.", engine="premium", voice=None, settings=Settings(), path=tmp_path / "p.wav"
        )
    assert caught.value.code == "narration_unavailable"


def test_an_unknown_premium_voice_is_refused_before_any_request(speech_server, tmp_path):
    server = speech_server(mode="tone")
    with pytest.raises(InvalidJob) as caught:
        synthesize_script(
            "Hi there.",
            engine="premium",
            voice="en-us+f3",
            settings=premium_settings(server),
            path=tmp_path / "p.wav",
        )
    assert (caught.value.code, caught.value.field) == ("narration_voice_unknown", "audio.voice")
    assert server.requests == []
    wildcard = premium_settings(server, premium_tts_voices="*")
    synthesize_script(
        "Hi there.", engine="premium", voice="any-voice", settings=wildcard, path=tmp_path / "p.wav"
    )
    assert server.requests[-1].body["voice"] == "any-voice"  # type: ignore[index]


class TestAvailable:
    def test_a_server_that_lists_the_model_is_available(self, speech_server):
        server = speech_server(mode="tone", key="sk-test")
        assert available("premium", premium_settings(server)) is True
        assert [(r.method, r.path) for r in server.requests] == [("GET", "/v1/models")]

    def test_a_wrong_key_is_unavailable(self, speech_server):
        server = speech_server(mode="tone", key="sk-test")
        settings = premium_settings(server, premium_tts_api_key="sk-wrong")
        assert available("premium", settings) is False
        with pytest.raises(NarrationError, match="refused the API key"):
            ensure_available("premium", settings)

    def test_a_model_the_server_does_not_list_is_unavailable(self, speech_server):
        server = speech_server(mode="tone")
        settings = premium_settings(server, premium_tts_model="tts-9")
        with pytest.raises(NarrationError, match="does not offer model 'tts-9'"):
            ensure_available("premium", settings)

    def test_a_server_without_a_models_route_is_available(self, speech_server):
        server = speech_server(mode="nomodels")
        assert available("premium", premium_settings(server)) is True

    def test_a_slow_server_is_unavailable_after_the_short_timeout(self, speech_server):
        server = speech_server(mode="slow", delay_sec=5)
        settings = premium_settings(server, premium_tts_preflight_timeout_sec=0.2)
        with pytest.raises(NarrationError, match=r"within 0\.2s") as caught:
            ensure_available("premium", settings)
        assert caught.value.code == "narration_unavailable"

    def test_an_unreachable_server_is_unavailable(self):
        assert (
            available("premium", Settings(premium_tts_url=f"http://127.0.0.1:{free_port()}"))
            is False
        )

    def test_local_is_available(self):
        assert available("local", Settings()) is True

    def test_an_unknown_engine_is_an_invalid_field(self):
        with pytest.raises(InvalidJob) as caught:
            available("cloud", Settings())
        assert caught.value.field == "audio.narrationEngine"


def test_the_key_can_come_from_a_secret_file(speech_server, tmp_path, monkeypatch):
    server = speech_server(mode="tone", key="sk-from-file")
    secret = tmp_path / "key"
    secret.write_text("sk-from-file\n")
    monkeypatch.setenv("COMPOSITOR_PREMIUM_TTS_URL", server.url + "/v1/")
    monkeypatch.setenv("COMPOSITOR_PREMIUM_TTS_API_KEY_FILE", str(secret))
    settings = Settings()
    assert base_url(settings) == server.url  # "/v1/" as often pasted is tolerated
    assert available("premium", settings) is True
    assert server.requests[-1].headers["Authorization"] == "Bearer sk-from-file"
