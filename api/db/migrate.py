"""Run the Alembic migrations programmatically (``neariq db upgrade``, tests, start-up checks)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from api.db.engine import Database


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "api:migrations")
    config.set_main_option("path_separator", "os")
    return config


MIGRATION_LOCK_ID = 0x4E454152  # "NEAR": PostgreSQL advisory lock held while migrating


def upgrade(database: Database, revision: str = "head") -> None:
    """Migrate; safe when several replicas start at once (the others wait, then find head)."""
    config = alembic_config()
    engine = database.engine.execution_options(sqlite_begin="IMMEDIATE")
    with engine.begin() as connection:
        if not database.is_sqlite:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_up_to_date(database: Database) -> bool:
    return current_revision(database) == head_revision()
