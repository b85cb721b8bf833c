"""Settings of the API, read once from the environment into a frozen object.

Every setting ``x`` is read from ``NEARIQ_X`` (the database also from ``DATABASE_URL``), and
every one also accepts ``NEARIQ_X_FILE`` (a secret mount) through the compositor's shared
settings source. Modules get an ``ApiSettings`` passed down; tests build their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from compositor.settings import with_file_variants

Resolution = Literal["full", "preview"]


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEARIQ_", frozen=True, extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(
        default=Path("data"), description="SQLite file, local media and the generated secret."
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("database_url", "NEARIQ_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; default sqlite:///<data_dir>/neariq.db.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs media links. Unset: generated once into <data_dir>/secret.key.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Where clients reach this API (for links)."
    )
    media_url_ttl_sec: int = Field(default=900, ge=10, le=7 * 24 * 3600)

    storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    generation_provider: Literal["local", "http", "none"] = "local"
    generation_http_url: str | None = None
    generation_http_key: str | None = None
    generation_http_poll_sec: float = Field(default=2.0, gt=0)
    generation_http_timeout_sec: float = Field(default=10.0, gt=0)
    generation_http_max_bytes: int = Field(default=500 * 1024 * 1024, gt=0)
    generation_workers: int = Field(
        default=1, ge=0, le=16, description="Renders run at once in this process (0: none here)."
    )
    generation_deadline_sec: int = Field(default=900, ge=10)
    generation_lease_sec: int = Field(default=60, ge=5)
    generation_max_attempts: int = Field(default=2, ge=1, le=10)
    generation_poll_sec: float = Field(
        default=5.0, gt=0, description="How often idle workers look for unclaimed jobs."
    )
    render_resolution: Resolution = Field(
        default="full", description="full for the product; preview (half size) for drafts/tests."
    )

    db_pool_size: int = Field(default=10, ge=1)
    sqlite_busy_timeout_sec: float = Field(default=30.0, gt=0)
    key_touch_interval_sec: int = Field(
        default=60, ge=0, description="api_keys.last_used_at is written at most this often."
    )

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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'neariq.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


def load_settings(**overrides: Any) -> ApiSettings:
    """Read settings from the environment once (at start-up); overrides win."""
    return ApiSettings(**overrides)
