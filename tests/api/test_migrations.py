"""The migrations build exactly the schema the models describe, on both databases (a model
change without its migration, or the reverse, fails here)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.db.models import Base


def test_the_migrated_schema_matches_the_models(database):
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
