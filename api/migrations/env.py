"""Alembic environment: runs on the connection ``api.db.migrate`` hands over, or on the URL
of the ``alembic`` command line (``-x url=...`` or the API's settings)."""

from __future__ import annotations

from alembic import context

from api.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from api.db.engine import Database
        from api.settings import load_settings

        url = context.get_x_argument(as_dictionary=True).get("url")
        database = Database(url or load_settings().resolved_database_url)
        with database.engine.begin() as connection:
            _run(connection)
        database.dispose()
        return
    _run(connection)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables when needed.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
