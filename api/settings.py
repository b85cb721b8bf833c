"""Settings of the API, read once from the environment into a frozen object.

Every setting ``x`` is read from ``NEARIQ_X`` (the database also from ``DATABASE_URL``), and
every one also accepts ``NEARIQ_X_FILE`` (a secret mount) through the compositor's shared
settings source. Modules get an ``ApiSettings`` passed down; tests build their own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from compositor.settings import FileVariantSettings

Resolution = Literal["full", "preview"]
CALLBACK_PATH = "/api/compositor/callback"


def origin_of(url: str) -> str:
    """``scheme://host[:port]``, lower-cased, default ports dropped (as browsers send Origin)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not an origin a browser sends: keep it whole, it will match nothing
        return url.strip().lower()
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


class ApiSettings(FileVariantSettings):
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

    # The compositor worker (CONTRACT §6) behind the composite routes.
    compositor_url: str | None = Field(
        default=None,
        description="Base URL of the compositor worker (its root, e.g. http://127.0.0.1:8080); "
        "unset: composite routes answer 503 compositor_unavailable.",
    )
    compositor_secrets: str = Field(
        default="",
        description="Request-signing secrets shared with the worker, comma or newline "
        "separated: requests are signed with the first, callbacks accepted from any.",
    )
    compositor_callback_url: str | None = Field(
        default=None,
        description="Where the worker POSTs completion callbacks; default "
        "<public_url>/api/compositor/callback. 'none' turns callbacks off.",
    )
    compositor_media_url: str | None = Field(
        default=None,
        description="Base URL the worker fetches this API's media from (local storage); "
        "default public_url.",
    )
    compositor_source_ttl_sec: int = Field(default=900, ge=30, le=86400)
    compositor_timeout_sec: float = Field(default=10.0, gt=0, le=120)
    compositor_wait_sec: float = Field(
        default=0, ge=0, le=30, description="waitSec sent with each job (0: answer 202 at once)."
    )
    compositor_deadline_sec: int = Field(default=1800, ge=10)
    compositor_unreachable_grace_sec: float = Field(
        default=120, ge=0, description="A job whose worker stays unreachable this long fails."
    )
    compositor_poll_sec: float = Field(
        default=10.0, gt=0, description="How often the API reconciles processing composites."
    )
    compositor_tolerance_sec: float = Field(default=0.1, ge=0.02, le=5)
    compositor_max_output_bytes: int = Field(default=2 << 30, gt=0)

    # Dashboard sessions (CONTRACT §5).
    session_ttl_sec: int = Field(default=7 * 86400, ge=60, le=90 * 86400)
    session_cookie_name: str = Field(default="neariq_session", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    session_cookie_secure: bool = Field(
        default=False, description="Mark the session cookie Secure (set it behind HTTPS)."
    )
    dashboard_origins: str = Field(
        default="",
        description="Origins allowed to send cookie-authenticated POST/DELETE, comma "
        "separated; the public_url's origin is always allowed.",
    )

    db_pool_size: int = Field(default=10, ge=1)
    sqlite_busy_timeout_sec: float = Field(default=30.0, gt=0)
    key_touch_interval_sec: int = Field(
        default=60, ge=0, description="api_keys.last_used_at is written at most this often."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'neariq.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def compositor_secret_list(self) -> tuple[str, ...]:
        return tuple(part for part in re.split(r"[\s,]+", self.compositor_secrets) if part)

    @property
    def resolved_callback_url(self) -> str | None:
        if self.compositor_callback_url is None:
            return self.public_url.rstrip("/") + CALLBACK_PATH
        if self.compositor_callback_url.strip().lower() in ("", "none"):
            return None
        return self.compositor_callback_url

    @property
    def allowed_origins(self) -> frozenset[str]:
        listed = [part for part in re.split(r"[\s,]+", self.dashboard_origins) if part]
        return frozenset(origin_of(url) for url in (self.public_url, *listed))


def load_settings(**overrides: Any) -> ApiSettings:
    """Read settings from the environment once (at start-up); overrides win."""
    return ApiSettings(**overrides)
