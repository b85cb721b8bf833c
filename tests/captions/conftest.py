"""The loopback speech server fixture, shared with the narration tests."""

from tests.narration.conftest import speech_server

__all__ = ["speech_server"]
