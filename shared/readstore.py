"""Read-model storage: relational tables beside the ``eventsourcing`` library's tracking records, in one database.

Rows and the upstream position they reflect are written in one transaction, so a consumer that stops anywhere
resumes exactly after the last message whose effects were committed. The SQL is the subset PostgreSQL and SQLite
share (``?`` placeholders are translated for psycopg).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from contextvars import ContextVar
from typing import Any

import psycopg
from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder
from eventsourcing.utils import Environment
from psycopg import sql

from shared.pgpool import check_pool_cheaply
from shared.settings import Persistence, Settings


def ensure_schema(settings: Settings, name: str) -> None:
    """PostgreSQL schemas are not created by the library; each service owns one."""
    if settings.persistence is not Persistence.POSTGRES or not settings.database_url:
        return
    schema = f"{settings.schema_prefix}{name}"
    # IF NOT EXISTS is checked before the insert, not under a lock: a service's web process and its worker starting
    # together both passed the check, and the second failed on the catalogue's unique index. The schema exists,
    # which is all this asks.
    with psycopg.connect(settings.database_url, autocommit=True) as conn, \
            suppress(psycopg.errors.UniqueViolation, psycopg.errors.DuplicateSchema):
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


@contextmanager
def schema_setup(settings: Settings, name: str) -> Iterator[None]:
    """Serialise table creation in one schema: a service's web and worker processes start together, and the
    library's create-table step is not safe when two processes run it at once."""
    ensure_schema(settings, name)
    if settings.persistence is not Persistence.POSTGRES or not settings.database_url:
        yield
        return
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        key = f"partnership-setup:{settings.schema_prefix}{name}"
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))


class Tx:
    """One open transaction: execute SQL, read rows as dicts, record positions."""

    def __init__(self, cursor: Any, recorder: TrackingRecorder, postgres: bool,
                 opener: Callable[[str], str] | None = None) -> None:
        self._cursor = cursor
        self._recorder = recorder
        self._postgres = postgres
        self._opener = opener

    @property
    def postgres(self) -> bool:
        return self._postgres

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        if self._postgres:
            statement = statement.replace("?", "%s")
        self._cursor.execute(statement, tuple(params))
        return int(self._cursor.rowcount) if self._postgres else int(self._cursor.sqlite_cursor.rowcount)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._postgres:
            statement = statement.replace("?", "%s")
        self._cursor.executemany(statement, [tuple(r) for r in rows])

    def fetchall(self) -> list[dict[str, Any]]:
        return [self._row(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> dict[str, Any] | None:
        row = self._cursor.fetchone()
        return None if row is None else self._row(row)

    def _row(self, row: Any) -> dict[str, Any]:
        values = dict(row)
        if self._opener is not None:
            opener = self._opener
            for name, value in values.items():
                if isinstance(value, str):
                    values[name] = opener(value)
        return values

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.execute(statement, params)
        return self.fetchall()

    def query_sealed(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows with sealed text left sealed, for a caller that shows a few of many (``ReadStore.open_row``)."""
        self.execute(statement, params)
        return [dict(row) for row in self._cursor.fetchall()]

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-load rows (PostgreSQL ``COPY``, SQLite ``executemany``): the fast path of a read-model rebuild."""
        count = 0
        if self._postgres:
            with self._cursor.copy(self._copy_statement(table, columns)) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(tuple(row))
            if len(batch) >= 5000:
                self._cursor.executemany(statement, batch)
                count += len(batch)
                batch.clear()
        if batch:
            self._cursor.executemany(statement, batch)
            count += len(batch)
        return count

    def copy_exact_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        """``copy_rows`` of rows whose values are already of their columns' types (str for text, int for integer):
        PostgreSQL's binary ``COPY``, which costs both sides less than text. A row that is not (a number for a text
        column) sends the rows again as text, as ``copy_rows`` would."""
        if not self._postgres:
            return self.copy_rows(table, columns, rows)
        types = self._column_types(table)
        self._cursor.execute("SAVEPOINT copy_exact")
        try:
            with self._cursor.copy(self._copy_statement(table, columns, binary=True)) as copy:
                copy.set_types([types[c] for c in columns])
                for row in rows:
                    copy.write_row(row)
        except (TypeError, ValueError, OverflowError, psycopg.DataError):
            self._cursor.execute("ROLLBACK TO SAVEPOINT copy_exact")
            self._cursor.execute("RELEASE SAVEPOINT copy_exact")
            return self.copy_rows(table, columns, rows)
        self._cursor.execute("RELEASE SAVEPOINT copy_exact")
        return len(rows)

    def _copy_statement(self, table: str, columns: Sequence[str], *, binary: bool = False) -> sql.Composed:
        names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        return sql.SQL("COPY {} ({}) FROM STDIN{}").format(sql.Identifier(table), names,
                                                           sql.SQL(" (FORMAT BINARY)" if binary else ""))

    def _column_types(self, table: str) -> dict[str, int]:
        self._cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass"
                             " AND attnum > 0 AND NOT attisdropped", (table,))
        return {row["attname"]: int(row["atttypid"]) for row in self._cursor.fetchall()}

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        """Send the statements inside without waiting for each reply (PostgreSQL pipeline mode). Inside it,
        ``execute`` returns no row count; a fetch waits for the replies so far."""
        if not self._postgres:
            yield
            return
        with self._cursor.connection.pipeline():
            yield

    def record_position(self, tracking: Tracking) -> None:
        """The library's tracking record, in this transaction (refused unless it moves forward)."""
        self._recorder._insert_tracking(self._cursor, tracking)  # type: ignore[attr-defined]


class _Snapshot:
    """One read transaction, opened at the first read of the context that asked for it (so a request that reads
    nothing holds no connection) and rolled back at its end."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        self.stack = ExitStack()
        self.tx: Tx | None = None

    def read(self) -> Tx:
        if self.tx is None:
            self.tx = self.stack.enter_context(self.store._transaction(commit=False, snapshot=True))
        return self.tx


_SNAPSHOTS: ContextVar[dict[int, _Snapshot] | None] = ContextVar("read_snapshots", default=None)


class ReadStore:
    """A database (SQLite file or PostgreSQL schema) holding read models and their tracking positions."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.name = name
        self.postgres = settings.persistence is Persistence.POSTGRES
        self.schema = f"{settings.schema_prefix}{name}"
        self.settings = settings
        self._pathed: weakref.WeakSet[Any] = weakref.WeakSet()
        """The pool's connections whose search path is this store's schema."""
        self.opener: Callable[[str], str] | None = None
        """Applied to every text a read-only transaction reads (reporting opens sealed free text here: what it
        stores stays sealed, and a write never reads an opened text back into a row)."""
        with schema_setup(settings, name):
            factory = InfrastructureFactory.construct(Environment(name, settings.store_env(name)))
            self._factory = factory
            self.recorder: TrackingRecorder = factory.tracking_recorder()
        check_pool_cheaply(self.recorder)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read of this store in this context (the task that enters it, and the tasks it starts: a request's
        resolvers and dataloaders) comes from one consistent snapshot: one REPEATABLE READ, READ ONLY transaction
        on PostgreSQL, one read transaction on SQLite (WAL: its snapshot is taken at its first read). So one
        answer never straddles a commit of the projections. Writes (``transaction()``) are not affected."""
        bound = _SNAPSHOTS.get() or {}
        if id(self) in bound:  # already inside one: the outer snapshot serves
            yield
            return
        snapshot = _Snapshot(self)
        token = _SNAPSHOTS.set({**bound, id(self): snapshot})
        try:
            yield
        finally:
            _SNAPSHOTS.reset(token)
            snapshot.stack.close()

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Tx]:
        """A transaction of its own; a read-only one (``commit=False``) inside ``snapshot()`` is the snapshot's."""
        if not commit:
            snapshot = (_SNAPSHOTS.get() or {}).get(id(self))
            if snapshot is not None and snapshot.store is self:
                yield snapshot.read()
                return
        with self._transaction(commit=commit) as tx:
            yield tx

    @contextmanager
    def _transaction(self, *, commit: bool, snapshot: bool = False, opened: bool = True,
                     single: bool = False) -> Iterator[Tx]:
        """``single``: one read statement, run on its own (autocommit: it is its own transaction), without the
        BEGIN and ROLLBACK around it."""
        datastore: Any = self.recorder.datastore  # type: ignore[attr-defined]
        opener = None if commit or not opened else self.opener
        if not self.postgres:
            with datastore.transaction(commit=commit) as cursor:
                yield Tx(cursor, self.recorder, self.postgres, opener)
            return
        # The store's pool is its own, so each connection's search path is set once, outside any transaction
        # (a SET LOCAL in every transaction was a statement in five of a command's).
        with datastore.get_connection() as conn:
            if conn not in self._pathed:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
                self._pathed.add(conn)
            if single:
                yield Tx(conn.cursor(), self.recorder, self.postgres, opener)
                return
            if not snapshot:
                with conn.transaction(force_rollback=not commit):
                    yield Tx(conn.cursor(), self.recorder, self.postgres, opener)
                return
            # The snapshot's level in its BEGIN (psycopg says it there), not a SET TRANSACTION after: one statement
            # less in every GraphQL read. It ends with COMMIT, not ROLLBACK (READ ONLY: nothing to undo), because
            # psycopg answers a ROLLBACK by dropping the connection's prepared statements (DEALLOCATE ALL, one
            # more round trip, and every hot query parsed again). The pooled connection goes back as it came.
            was = conn.isolation_level, conn.read_only
            conn.isolation_level, conn.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
            try:
                with conn.transaction():
                    yield Tx(conn.cursor(), self.recorder, self.postgres, opener)
            finally:
                conn.isolation_level, conn.read_only = was

    @property
    def max_connections(self) -> int:
        """How many connections its pool may open at once (each open snapshot holds one)."""
        pool: Any = getattr(self.recorder.datastore, "pool", None)  # type: ignore[attr-defined]
        size = int(getattr(pool, "pool_size", 5) or 5)
        overflow = int(getattr(pool, "max_overflow", 0) or 0)
        return size + overflow

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        snapshot = (_SNAPSHOTS.get() or {}).get(id(self))
        if snapshot is not None and snapshot.store is self:
            return snapshot.read().query(statement, params)
        with self._transaction(commit=False, single=True) as tx:
            return tx.query(statement, params)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """One write statement, committed on its own (autocommit on PostgreSQL: no BEGIN and COMMIT around it);
        the rows it changed. For a write that stands alone: several that must commit together take ``transaction()``."""
        with self._transaction(commit=True, single=True) as tx:  # on SQLite ``single`` is a transaction still
            return tx.execute(statement, params)

    def query_sealed(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """``query`` (in the snapshot too) with sealed text left sealed: a page of a long list opens only the rows it
        shows (``open_row``), not every row it counts (opening was most of a paged GraphQL list's CPU)."""
        snapshot = (_SNAPSHOTS.get() or {}).get(id(self))
        if snapshot is not None and snapshot.store is self:
            return snapshot.read().query_sealed(statement, params)
        with self._transaction(commit=False, single=True) as tx:
            return tx.query_sealed(statement, params)

    def open_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row of ``query_sealed`` as ``query`` would have given it."""
        opener = self.opener
        if opener is None:
            return row
        return {name: opener(value) if isinstance(value, str) else value for name, value in row.items()}

    def query_stored(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows as stored, sealed text left sealed: what a rebuild must reproduce byte for byte (a store
        with an opener and one without would otherwise differ in every opened column)."""
        with self._transaction(commit=False, opened=False) as tx:
            return tx.query(statement, params)

    def migrate(self, statements: Sequence[str]) -> None:
        with schema_setup(self.settings, self.name), self.transaction() as tx:
            for statement in statements:
                tx.execute(statement)

    def position(self, tracking_name: str) -> int | None:
        return self.recorder.max_tracking_id(tracking_name)

    def close(self) -> None:
        self._factory.close()
