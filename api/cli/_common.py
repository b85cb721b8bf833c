"""What the subcommands share: settings read once, the database, the admin actions."""

from __future__ import annotations

import json
from typing import Any

from api.accounts.admin import Admin
from api.app import check_schema_of
from api.clock import SystemClock
from api.db.engine import Database
from api.settings import ApiSettings, load_settings


def settings() -> ApiSettings:
    return load_settings()


def database(config: ApiSettings) -> Database:
    return Database(config.resolved_database_url, pool_size=2)


def admin() -> tuple[Admin, Database]:
    """The admin actions on a migrated database (refuses an outdated schema)."""
    db = database(settings())
    check_schema_of(db)
    return Admin(db, SystemClock()), db


def emit(data: dict[str, Any], as_json: bool, text: str) -> None:
    print(json.dumps(data) if as_json else text)
