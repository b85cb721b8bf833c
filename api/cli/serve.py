"""``neariq serve``: uvicorn with the app factory (settings read in each worker process)."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from api.cli._common import database, settings
from api.db import migrate


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the API under uvicorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--migrate", action="store_true", help="run `db upgrade` first (one replica only)"
    )
    parser.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-*")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.migrate:
        db = database(settings())
        try:
            migrate.upgrade(db)
        finally:
            db.dispose()
    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=args.proxy_headers,
        # Bounded request heads: huge header values are refused by the server itself.
        h11_max_incomplete_event_size=64 * 1024,
        timeout_graceful_shutdown=15,
    )
    return 0
