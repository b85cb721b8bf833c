"""Build the configured provider from the settings (one place that knows the family)."""

from __future__ import annotations

from api.generation import GenerationProvider
from api.generation.http import HttpProvider
from api.generation.local import LocalProvider
from api.generation.none import NoneProvider
from api.settings import ApiSettings
from compositor.settings import Settings


def build_provider(settings: ApiSettings, compositor: Settings) -> GenerationProvider:
    if settings.generation_provider == "local":
        return LocalProvider(compositor, resolution=settings.render_resolution)
    if settings.generation_provider == "http":
        return HttpProvider(
            settings.generation_http_url,
            api_key=settings.generation_http_key,
            poll_sec=settings.generation_http_poll_sec,
            timeout_sec=settings.generation_http_timeout_sec,
            max_bytes=settings.generation_http_max_bytes,
        )
    return NoneProvider()
