"""The worker's settings: every one from ``COMPOSITOR_<NAME>`` or ``COMPOSITOR_<NAME>_FILE``.

Read once at start-up (``load_worker_settings``) and passed down. The engine's own settings
(``compositor.settings.Settings``: FFmpeg, preset, threads...) are read beside these from the
same environment; the same image runs one machine or a farm by these settings alone.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from compositor.settings import FileVariantSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def default_render_slots() -> int:
    """One render per two cores: an x264 encode keeps about two cores busy on its own."""
    return max(1, (os.cpu_count() or 2) // 2)


def split_list(text: str) -> tuple[str, ...]:
    """Values separated by commas, spaces or newlines (a secret file may hold one per line)."""
    return tuple(part for part in re.split(r"[\s,]+", text) if part)


class WorkerSettings(FileVariantSettings):
    model_config = SettingsConfigDict(env_prefix="COMPOSITOR_", frozen=True, extra="ignore")

    # HTTP
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = Field(
        default=None,
        description="Base URL clients reach this service at (links, statusUrl, callbacks); "
        "default: the request's own base URL.",
    )
    secrets: str = Field(
        default="",
        description="Request-signing secrets, comma or newline separated. Signs with the "
        "first, accepts any (rotation).",
    )
    link_secrets: str = Field(
        default="", description="Secrets for /composites/ links (default: the request secrets)."
    )
    public_composites: bool = Field(default=False, description="Serve files without signatures.")
    link_ttl_sec: int = Field(default=3600, ge=1, le=7 * 86400)
    max_body_bytes: int = Field(default=1 << 20, ge=1024)

    # Jobs and queue
    data_dir: Path = Path("data")
    queue: Literal["inprocess", "redis"] = "inprocess"
    render_slots: int = Field(default_factory=default_render_slots, ge=0)
    max_queued: int = Field(default=20, ge=0, description="Waiting jobs before 429.")
    drain_grace_sec: float = Field(default=600, ge=0)
    retention_sec: int = Field(default=7 * 86400, ge=1)
    sweep_interval_sec: float = Field(default=60, gt=0)
    render_nice: int = Field(default=10, ge=0, le=19, description="Niceness of FFmpeg.")

    # Farm (queue=redis)
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = Field(
        default="compositor", pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="Prefix of job keys and the Dramatiq namespace.",
    )  # fmt: skip
    lease_sec: float = Field(default=60, gt=0, description="A claimed job's lease, renewed.")
    heartbeat_timeout_ms: int = Field(
        default=60_000, ge=1000, description="Dramatiq: a worker silent this long is dead."
    )
    maintenance_chance: int = Field(
        default=1000, ge=0, le=1_000_000,
        description="Dramatiq: per million broker calls, how many requeue dead workers' messages.",
    )  # fmt: skip
    max_retries: int = Field(default=20, ge=0)
    min_backoff_ms: int = Field(default=5000, ge=1)
    max_backoff_ms: int = Field(default=300_000, ge=1)

    # Storage
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    # Sources
    fetch_connect_timeout_sec: float = Field(default=5, gt=0)
    fetch_read_timeout_sec: float = Field(default=30, gt=0)
    fetch_total_timeout_sec: float = Field(default=600, gt=0)
    fetch_max_bytes: int = Field(default=2 << 30, ge=1)
    fetch_max_redirects: int = Field(default=3, ge=0, le=10)
    fetch_allow_networks: str = Field(
        default="",
        description="CIDRs sources and callbacks may reach although private, loopback or "
        "link-local (e.g. 127.0.0.0/8, 172.28.0.0/16).",
    )
    fetch_cache_ttl_sec: int = Field(default=86400, ge=0)

    # Callbacks
    callback_max_attempts: int = Field(default=8, ge=1)
    callback_base_ms: int = Field(default=1000, ge=1)
    callback_max_ms: int = Field(default=300_000, ge=1)
    callback_timeout_sec: float = Field(default=10, gt=0)

    @property
    def secret_list(self) -> tuple[str, ...]:
        return split_list(self.secrets)

    @property
    def link_secret_list(self) -> tuple[str, ...]:
        return split_list(self.link_secrets) or self.secret_list

    @property
    def allow_networks(self) -> tuple[Network, ...]:
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in
                     split_list(self.fetch_allow_networks))  # fmt: skip

    @property
    def composites_dir(self) -> Path:
        return self.data_dir / "composites"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"


def load_worker_settings(**overrides: Any) -> WorkerSettings:
    """Read the worker's settings from the environment once; overrides win."""
    return WorkerSettings(**overrides)
