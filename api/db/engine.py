"""The engine and sessions, SQLite or PostgreSQL, with one way to serialize writes.

``Database.locked(business_id)`` opens the transaction in which credits are checked and moved:
PostgreSQL locks the business row (``SELECT ... FOR UPDATE``); SQLite starts with
``BEGIN IMMEDIATE``, which takes the database's write lock up front, so a second writer waits
(busy timeout) instead of reading a stale total and failing at commit. Either way two creates
for one business run one after the other, across threads and processes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.db.models import Business


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        sqlite_busy_timeout_sec: float = 30.0,
        echo: bool = False,
    ) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.engine = self._create_engine(parsed, pool_size, sqlite_busy_timeout_sec, echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite: writers of this process queue here (fair, no polling) and only one at a time
        # waits on the file lock, where the busy handler sleeps and retries. Without it, 20
        # concurrent creates in one process spin on SQLITE_BUSY and the unlucky ones starve.
        self._sqlite_writer = threading.Lock() if self.is_sqlite else None

    def _create_engine(self, url: Any, pool_size: int, busy_sec: float, echo: bool) -> Engine:
        if self.is_sqlite:
            if url.database and url.database != ":memory:":
                from pathlib import Path

                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                echo=echo,
                # check_same_thread: sessions move between the event loop's worker threads.
                connect_args={"timeout": busy_sec, "check_same_thread": False},
                pool_size=pool_size,
                max_overflow=pool_size * 2,
            )
            _configure_sqlite(engine)
            return engine
        # A schema other than public goes in the URL (``?options=-csearch_path%3Dname``) so
        # that every process given the URL uses it.
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        return create_engine(
            url,
            echo=echo,
            connect_args=connect_args,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            pool_pre_ping=True,
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read, or a transaction whose first statement writes: committed on success, rolled
        back on error. One that reads and then writes takes ``write()``: SQLite (WAL) refuses
        that write at once, without the busy wait, if another connection committed since."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that holds the write lock from its first statement (SQLite)."""
        bind = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        with contextlib.ExitStack() as stack:
            if self._sqlite_writer is not None:
                stack.enter_context(self._sqlite_writer)
            session = stack.enter_context(Session(bind=bind, expire_on_commit=False))
            stack.enter_context(session.begin())
            yield session

    @contextmanager
    def locked(self, business_id: str) -> Iterator[tuple[Session, Business | None]]:
        """A transaction serialized with every other ``locked`` one for ``business_id``."""
        with self.write() as session:
            business = session.scalars(
                select(Business).where(Business.id == business_id).with_for_update()
            ).one_or_none()
            yield session, business

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    """WAL (readers never wait for the writer), foreign keys, and our own BEGIN.

    pysqlite opens transactions lazily and only before DML, which is too late for a lock; the
    recipe from SQLAlchemy's docs hands BEGIN to us:
    https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
