"""Settings of the engine, read once from the environment into a frozen object.

Every setting ``x`` is read from ``COMPOSITOR_X``; every one also accepts ``COMPOSITOR_X_FILE``
(a Docker or Kubernetes secret mount) whose content, stripped, is the value. Modules never read
the environment themselves: they get a ``Settings`` passed down, and tests build their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]


class FileVariantSource(EnvSettingsSource):
    """``PREFIX_NAME_FILE=/run/secrets/x`` sets ``name`` from that file's stripped content."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        env_name = f"{self.env_prefix}{field_name}_FILE"
        lookup = env_name if self.case_sensitive else env_name.lower()
        path = self.env_vars.get(lookup)
        if not path:
            return None, field_name, False
        return Path(path).read_text(encoding="utf-8").strip(), field_name, False


def with_file_variants(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
    dotenv_settings: PydanticBaseSettingsSource,
    file_secret_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Source order for every settings class of the project: init, env, then ``*_FILE``."""
    return (init_settings, env_settings, FileVariantSource(settings_cls), file_secret_settings)


class FileVariantSettings(BaseSettings):
    """Base of the project's settings classes: init values, the environment, then
    ``<PREFIX><NAME>_FILE`` secret files."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return with_file_variants(
            settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        )


class Settings(FileVariantSettings):
    model_config = SettingsConfigDict(env_prefix="COMPOSITOR_", frozen=True, extra="ignore")

    ffmpeg_path: str | None = Field(
        default=None, description="FFmpeg binary to use instead of the imageio-ffmpeg wheel's."
    )
    assets_dir: Path = REPO_ROOT / "assets"
    work_dir: Path | None = Field(
        default=None, description="Where per-render temporary folders go (default: system temp)."
    )
    preset: X264Preset = Field(
        default="veryfast", description="libx264 preset (see docs/benchmarks.md)."
    )
    crf: int = Field(default=20, ge=0, le=51)
    audio_bitrate: str = "192k"
    render_timeout_sec: float = Field(default=1800.0, gt=0)
    ffmpeg_threads: int = Field(default=0, ge=0, description="x264 threads; 0 lets FFmpeg choose.")
    filter_threads: int = Field(
        default=1,
        ge=0,
        description="Threads of the filter graph; 0 lets FFmpeg choose (one per core).",
    )
    nice: int = Field(default=0, ge=0, le=19, description="Niceness of FFmpeg processes.")
    max_source_pixels: int = Field(
        default=8192 * 4320, description="Largest accepted source frame (width x height)."
    )

    # Narration (compositor.narration): local eSpeak NG, premium OpenAI-compatible speech.
    narration_voice: str = Field(default="en-us", description="Default voice of the local engine.")
    narration_max_sec: float = Field(
        default=300, gt=0, le=3600, description="Longest narration synthesized, in raw seconds."
    )
    espeak_library: str | None = Field(
        default=None, description="libespeak-ng to load instead of the espeakng-loader wheel's."
    )
    espeak_data_dir: Path | None = Field(
        default=None, description="espeak-ng-data folder matching espeak_library."
    )
    premium_tts_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible speech server (no /v1)."
    )
    premium_tts_api_key: SecretStr | None = Field(
        default=None, description="Bearer key of the speech server (use the _FILE variant)."
    )
    premium_tts_model: str = "tts-1"
    premium_tts_voice: str = Field(default="alloy", description="Default premium voice.")
    premium_tts_voices: str = Field(
        default="alloy,ash,ballad,coral,echo,fable,nova,onyx,sage,shimmer,verse",
        description="Comma-separated voices the server offers; '*' accepts any name.",
    )
    premium_tts_timeout_sec: float = Field(default=30.0, gt=0, le=600)
    premium_tts_preflight_timeout_sec: float = Field(default=2.0, gt=0, le=30)

    @property
    def fonts_dir(self) -> Path:
        return self.assets_dir / "fonts"

    def temp_root(self) -> Path | None:
        if self.work_dir is None:
            return None
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment once (at start-up); overrides win."""
    return Settings(**overrides)
