"""``neariq db upgrade``: run the migrations (SQLite file or DATABASE_URL)."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli._common import database, settings
from api.db import migrate


def register(commands: Any) -> None:
    parser = commands.add_parser("db", help="database migrations")
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = sub.add_parser("upgrade", help="migrate the database to the latest schema")
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(handler=run_upgrade)
    current = sub.add_parser("current", help="print the schema's migration")
    current.set_defaults(handler=run_current)


def run_upgrade(args: argparse.Namespace) -> int:
    db = database(settings())
    try:
        migrate.upgrade(db, args.revision)
        print(f"database at {migrate.current_revision(db)}")
    finally:
        db.dispose()
    return 0


def run_current(args: argparse.Namespace) -> int:
    db = database(settings())
    try:
        print(f"current {migrate.current_revision(db)}, head {migrate.head_revision()}")
    finally:
        db.dispose()
    return 0
