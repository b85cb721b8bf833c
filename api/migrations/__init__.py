"""Alembic migrations of the API's database (run with ``neariq db upgrade``)."""
