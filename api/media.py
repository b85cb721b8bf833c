"""Media storage for the API (compositor.storage: local folder or S3) and its signing secret."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from api.settings import ApiSettings
from compositor.storage.local import LocalStorage
from compositor.storage.s3 import S3Storage

MEDIA_ROUTE = "/api/media"


def load_or_create_secret(data_dir: Path) -> str:
    """The embedded default's secret: made once, shared by every worker process on the host."""
    path = data_dir / "secret.key"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: link fails if another process won the race,
        # and nobody ever reads a half-written file.
        partial = data_dir / f".secret.{secrets.token_hex(8)}"
        partial.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        os.chmod(partial, 0o600)
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_text(encoding="utf-8").strip()


def resolve_secret(settings: ApiSettings) -> str:
    return settings.secret_key or load_or_create_secret(settings.data_dir)


def build_storage(settings: ApiSettings, secret: str) -> LocalStorage | S3Storage:
    if settings.storage == "s3":
        if not settings.s3_bucket:
            raise ValueError("NEARIQ_S3_BUCKET is required when NEARIQ_STORAGE=s3")
        return S3Storage.from_settings(settings.s3_bucket, settings)
    return LocalStorage(
        settings.media_dir,
        base_url=settings.public_url.rstrip("/") + MEDIA_ROUTE,
        secrets=[secret],
    )
