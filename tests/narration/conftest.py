"""Fixtures for narration tests: settings, and the loopback speech server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from compositor.settings import Settings
from tests.narration.tts_server import Running, SpeechServer


@pytest.fixture
def speech_server() -> Iterator[Callable[..., SpeechServer]]:
    """Start a loopback speech server: ``speech_server(mode="tone", key="k")``."""
    running: list[Running] = []

    def start(**options: Any) -> SpeechServer:
        server = SpeechServer(**options)
        running.append(Running(server))
        return server

    yield start
    for item in running:
        item.stop()


def premium_settings(server: SpeechServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "premium_tts_url": server.url,
        "premium_tts_timeout_sec": 10,
        "premium_tts_preflight_timeout_sec": 2,
    }
    if server.key:
        values["premium_tts_api_key"] = server.key
    values.update(overrides)
    return Settings(**values)
