"""The rebuild's loader: rows copied into the target store while the replay runs, in one transaction."""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
from collections import defaultdict
from operator import itemgetter
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from psycopg import sql
from tqdm import tqdm

from services.reporting import schema
from services.reporting.projections import every_ddl
from shared.consumer import SEEN_EVENTS_DDL
from shared.readstore import ReadStore
from shared.settings import Persistence, Settings

log = logging.getLogger(__name__)

_DDL = [*every_ddl(), SEEN_EVENTS_DDL, schema.SCHEMA_DDL]


def drop_store(settings: Settings, name: str) -> None:
    """Remove a read-model store entirely (its PostgreSQL schema, or its SQLite file)."""
    if settings.persistence is Persistence.POSTGRES and settings.database_url:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(f"{settings.schema_prefix}{name}")))
        return
    for suffix in ("", "-wal", "-shm"):
        path = settings.data_dir / f"{name}.sqlite3{suffix}"
        if path.exists():
            path.unlink()


_TABLE_KEY = re.compile(r",\s*PRIMARY KEY \(([^)]*)\)\)$")
_COLUMN_KEY = re.compile(r"(\w+) (\w+) PRIMARY KEY")


def _keys_later(statement: str) -> tuple[str, str | None]:
    """A CREATE TABLE without its primary key, and the ALTER TABLE that adds it: a key built once over the loaded
    rows costs PostgreSQL a fraction of one kept up to date row by row (the table ends up the same)."""
    table = statement.split("(")[0].split()[-1]
    if found := _TABLE_KEY.search(statement):
        return statement[:found.start()] + ")", f"ALTER TABLE {table} ADD PRIMARY KEY ({found.group(1)})"
    if found := _COLUMN_KEY.search(statement):
        return (statement[:found.start()] + f"{found.group(1)} {found.group(2)}" + statement[found.end():],
                f"ALTER TABLE {table} ADD PRIMARY KEY ({found.group(1)})")
    return statement, None


class _Abandoned(Exception):
    """The replay stopped: the load rolls back."""


class Loader:
    """Fills the target store while the replay runs: a thread of its own drops it, creates its tables and copies
    rows in as the replay hands them over, all in one transaction, so the database stores rows (and the thread
    waits for it, without the GIL) while the replay goes on. ``finish`` adds the tracking positions, the keys and
    the indexes, and commits."""

    CHUNK = 20_000  # rows handed over at a time
    IDLE = 600
    """Seconds the load's transaction may wait for the replay's next rows. Its connection is a store's like any
    other, whose sessions end a transaction left idle for 5 s (``eventsourcing``'s guard against one a request
    forgot); this one waits on the replay by design, between every two chunks, and on a busy machine a chunk can
    take longer than that to make. A replay silent for this long is stuck: the load ends and rolls back."""

    def __init__(self, settings: Settings, store: str, progress: bool) -> None:
        self.rows: dict[str, int] = defaultdict(int)
        self._settings, self._store, self._progress = settings, store, progress
        self._queue: queue.Queue[tuple[str, list[str], list[Any]] | list[Tracking] | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"rebuild-load-{store}", daemon=True)
        self._thread.start()

    def put(self, table: str, columns: list[str], rows: list[Any]) -> None:
        """Rows of ``table`` as dicts (or tuples in the columns' order)."""
        while self._error is None and self._thread.is_alive():
            try:
                self._queue.put((table, columns, rows), timeout=0.5)
                return
            except queue.Full:
                continue
        raise RuntimeError(f"loading {self._store} failed") from self._error

    def finish(self, positions: list[Tracking]) -> None:
        self._queue.put(positions)
        self._thread.join()
        if self._error is not None:
            raise RuntimeError(f"loading {self._store} failed") from self._error

    def abandon(self) -> None:
        """The replay failed: roll back what was copied and end the thread (its transaction holds the tables)."""
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=5)
            self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            self._load()
        except _Abandoned:
            pass
        except BaseException as error:
            self._error = error
            log.exception("loading the rebuilt store failed", extra={"store": self._store})

    def _load(self) -> None:
        settings, postgres = self._settings, self._settings.persistence is Persistence.POSTGRES
        drop_store(settings, self._store)
        target = ReadStore(settings, self._store)
        try:
            indexes = [statement for statement in _DDL if statement.startswith("CREATE INDEX")]
            tables = [statement for statement in _DDL if statement not in indexes]
            keys: list[str] = []
            if postgres:
                split = [_keys_later(statement) for statement in tables]
                tables, keys = [table for table, _ in split], [key for _, key in split if key]
            target.migrate(tables)
            with target.transaction() as tx, tqdm(desc="load rows", unit="row", disable=not self._progress) as meter:
                if postgres:
                    tx.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{self.IDLE}s'")
                while not isinstance(item := self._queue.get(), list):
                    if item is None:
                        raise _Abandoned
                    table, columns, rows = item
                    if rows and isinstance(rows[0], dict):
                        rows = list(map(itemgetter(*columns), rows))
                    self.rows[table] += tx.copy_exact_rows(table, columns, rows)
                    meter.update(len(rows))
                for tracking in item:
                    tx.record_position(tracking)
                schema.record(tx, every_ddl())  # the rebuilt store is made by this code's DDL
                for statement in keys:
                    tx.execute(statement)
            target.migrate(indexes)  # built once over the loaded rows, not row by row during the load
        finally:
            target.close()
