"""A small OpenAI-compatible speech server on loopback, for the premium engine's tests.

``POST /v1/audio/speech`` answers real audio: eSpeak NG speech of the input (``espeak``), or a
440 Hz tone whose length is known from the input (``tone``: 60 ms per character), both padded
with silence the way hosted servers pad their clips. Other modes misbehave on purpose.
``GET /v1/models`` lists ``tts-1``. Every request is recorded for assertions.
"""

from __future__ import annotations

import io
import json
import threading
import wave
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import av
import numpy as np

from compositor.narration.espeak import load_espeak

TONE_MS_PER_CHAR = 60
LEAD_MS = 200
TAIL_MS = 300
RATE = 24_000  # OpenAI's speech endpoint answers 24 kHz


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def padded(samples: np.ndarray, rate: int) -> np.ndarray:
    lead = np.zeros(rate * LEAD_MS // 1000, dtype=np.int16)
    tail = np.zeros(rate * TAIL_MS // 1000, dtype=np.int16)
    return np.concatenate([lead, samples.astype(np.int16), tail])


def tone(text: str) -> np.ndarray:
    count = RATE * TONE_MS_PER_CHAR * len(text) // 1000
    t = np.arange(count) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 12000).astype(np.int16)


def flac_bytes(samples: np.ndarray, rate: int) -> bytes:
    """The same audio as FLAC: a server that ignores response_format."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class SpeechServer:
    mode: str = "espeak"  # espeak | tone | flac | text | silence | slow | error | nomodels
    key: str | None = None  # required bearer key, if any
    delay_sec: float = 2.0  # for "slow"
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    stopping: threading.Event = field(default_factory=threading.Event)

    def audio_for(self, text: str) -> tuple[bytes, str]:
        if self.mode == "text":
            return b"<html>busy</html>", "text/html"
        if self.mode == "silence":
            return wav_bytes(np.zeros(RATE, dtype=np.int16), RATE), "audio/wav"
        if self.mode in ("tone", "flac"):
            samples = padded(tone(text), RATE)
            if self.mode == "flac":
                return flac_bytes(samples, RATE), "audio/flac"
            return wav_bytes(samples, RATE), "audio/wav"
        engine = load_espeak()
        result = engine.synthesize(text, "en-us")
        return wav_bytes(
            padded(result.samples, engine.sample_rate), engine.sample_rate
        ), "audio/wav"


def make_handler(server: SpeechServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            if server.key is None:
                return True
            return self.headers.get("Authorization") == f"Bearer {server.key}"

        def do_GET(self) -> None:
            server.requests.append(Request("GET", self.path, dict(self.headers), None))
            if server.mode == "slow":
                server.stopping.wait(server.delay_sec)
            if not self._authorized():
                self._reply(401, b'{"error": "bad key"}', "application/json")
            elif self.path != "/v1/models" or server.mode == "nomodels":
                self._reply(404, b"not found", "text/plain")
            else:
                body = json.dumps({"object": "list", "data": [{"id": "tts-1"}]}).encode()
                self._reply(200, body, "application/json")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append(Request("POST", self.path, dict(self.headers), body))
            if server.mode == "slow":
                server.stopping.wait(server.delay_sec)
            if not self._authorized():
                self._reply(401, b'{"error": "bad key"}', "application/json")
            elif self.path != "/v1/audio/speech":
                self._reply(404, b"not found", "text/plain")
            elif server.mode == "error":
                self._reply(500, b'{"error": "model crashed"}', "application/json")
            else:
                audio, content_type = server.audio_for(body["input"])
                self._reply(200, audio, content_type)

    return Handler


class Running:
    """A SpeechServer served on 127.0.0.1 on a free port until ``stop()``."""

    def __init__(self, server: SpeechServer) -> None:
        self.server = server
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(server))
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a "slow" handler must not hold up teardown
        server.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
