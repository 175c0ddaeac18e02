"""Read-model rebuild: drop a read-model store, replay every topic from the start into it, and compare it with the
live store.

The per-event path (one transaction per batch, statements sent to the database per event) is what a live
consumer needs; a rebuild does not. Here the same projection handlers run, but what they do through
``readmodel.Rows`` happens to Python dicts (an entity's current row, and the rows that can no longer change), and
the SQL of handlers that write their own goes to an in-memory SQLite database (the dialect PostgreSQL and SQLite
share). Each event is journalled (and in a savepoint, for SQL) so that an event the live consumer would
dead-letter leaves nothing behind, exactly as there. Rows that can no longer change are copied into the target
store while the replay runs (``COPY`` on PostgreSQL), in one transaction that ends with ``seen_events``, the
tracking positions and the keys (then the indexes are built), so the rebuilt store can take over from the live one.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from psycopg import sql
from tqdm import tqdm

from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import DDL as EVENT_LOG_DDL
from services.reporting.readmodel import Rows
from shared.consumer import SEEN_EVENTS_DDL, Rejected
from shared.envelope import MalformedMessage, decode
from shared.readstore import ReadStore, Tx
from shared.settings import Persistence, Settings
from shared.transport import Transport

log = logging.getLogger(__name__)

CONSUMER = "reporting"  # the live consumer's name: seen_events and tracking records are written under it
TOPICS = ("priorities.events", "tasking.events", "projects.events")
_NOT_COMPARED = {"sqlite_sequence"}


class _MemoryRows(Rows):
    """The rebuild's ``Rows``: every table the handlers write through ``Rows`` kept as Python dicts.

    A row that can no longer change (any row of a log table, a closed version of a temporal one) goes to
    ``final``; an entity's current rows stay in ``open`` until a later version closes them. What one event did is
    journalled, so that an event the live consumer would dead-letter can be taken back."""

    def __init__(self, columns: dict[str, list[str]]) -> None:
        self.columns = columns
        self.final: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.open: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
        self.counters: dict[str, dict[str, int]] = defaultdict(dict)
        self.touched: set[str] = set()
        self.pending = 0  # rows in final
        self._temporal = {table for table, names in columns.items() if "valid_to" in names}
        self._journal: list[tuple[Any, ...]] = []
        # The ids of current rows by a column's value, for ``current_ids`` (built when first asked; an id whose row
        # was closed or changed since stays listed, so every match is checked against the row itself).
        self._indexes: dict[str, list[tuple[str, dict[Any, set[str]]]]] = {}

    def _complete(self, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """The row with every column of its table (as an INSERT leaves the others NULL)."""
        names = self.columns[table]
        unknown = set(row) - set(names)
        if unknown:
            raise ValueError(f"table {table} has no column(s) {', '.join(sorted(unknown))}")
        return {name: row.get(name) for name in names}

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        self.touched.add(table)
        if len(row) != len(self.columns[table]) or not isinstance(row, dict):
            row = self._complete(table, row)
        if row.get("valid_to", True) is None and table in self._temporal:
            self.open[table].setdefault(row["id"], []).append(row)
            for column, index in self._indexes.get(table, ()):
                index.setdefault(row[column], set()).add(row["id"])
            self._journal.append(("open", table, row["id"]))
        else:
            self.final[table].append(row)
            self.pending += 1
            self._journal.append(("final", table))

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        for row in rows:
            self.insert(table, row)

    def current(self, table: str, entity_id: str) -> Mapping[str, Any] | None:
        self.touched.add(table)
        found = self.open[table].get(entity_id)
        return found[0] if found else None

    def current_ids(self, table: str, **equal: Any) -> list[str]:
        self.touched.add(table)
        entities = self.open[table]
        if not equal:
            return [row["id"] for versions in entities.values() for row in versions]
        column, value = next(iter(equal.items()))
        index = next((index for indexed, index in self._indexes.get(table, ()) if indexed == column), None)
        if index is None:
            index = {}
            for entity_id, versions in entities.items():
                for row in versions:
                    index.setdefault(row[column], set()).add(entity_id)
            self._indexes.setdefault(table, []).append((column, index))
        return [row["id"] for entity_id in sorted(index.get(value, ())) for row in entities.get(entity_id, ())
                if all(row[c] == v for c, v in equal.items())]

    def close(self, table: str, entity_id: str, at: str) -> None:
        self._close(table, entity_id, at)

    def _close(self, table: str, entity_id: str, at: str) -> list[dict[str, Any]]:
        self.touched.add(table)
        versions = self.open[table].pop(entity_id, None)
        if not versions:
            return []
        closed = [{**row, "valid_to": at} for row in versions]
        self.final[table].extend(closed)
        self.pending += len(closed)
        self._journal.append(("close", table, entity_id, versions, len(closed)))
        return closed

    def carry(self, table: str, columns: Sequence[str], entity_id: str, at: str, changes: Mapping[str, Any]) -> None:
        closed = self._close(table, entity_id, at)
        if closed:
            latest = closed[0] if len(closed) == 1 else max(closed, key=lambda row: row["version"])
            self.insert(table, {**latest, **changes, "valid_to": None})

    def count(self, table: str, key: str) -> None:
        self.touched.add(table)
        counter = self.counters[table]
        counter[key] = counter.get(key, 0) + 1
        self._journal.append(("count", table, key))

    # -- one event at a time

    def commit(self) -> None:
        self._journal.clear()

    def roll_back(self) -> None:
        """Take back everything since the last commit, newest first."""
        for entry in reversed(self._journal):
            kind, table = entry[0], entry[1]
            if kind == "final":
                self.final[table].pop()
                self.pending -= 1
            elif kind == "open":
                versions = self.open[table][entry[2]]
                versions.pop()
                if not versions:
                    del self.open[table][entry[2]]
            elif kind == "close":
                del self.final[table][-entry[4]:]
                self.pending -= entry[4]
                self.open[table][entry[2]] = entry[3]
            else:
                counter = self.counters[table]
                counter[entry[2]] -= 1
                if not counter[entry[2]]:
                    del counter[entry[2]]
        self._journal.clear()

    def take_final(self) -> dict[str, list[dict[str, Any]]]:
        """The rows that can no longer change, handed over (between events: the journal is empty)."""
        taken, self.final = self.final, defaultdict(list)
        self.pending = 0
        return taken

    def take_rest(self) -> dict[str, list[Any]]:
        """Once the replay is done: every row not handed over yet (current rows, counters) by table."""
        rest: dict[str, list[Any]] = dict(self.take_final())
        for table, entities in self.open.items():
            rest.setdefault(table, []).extend(row for versions in entities.values() for row in versions)
        for table, counter in self.counters.items():
            rest[table] = [{"type": key, "n": n} for key, n in counter.items()]
        self.open, self.counters = defaultdict(dict), defaultdict(dict)
        return rest


_TABLE_NAME = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+(\w+)", re.IGNORECASE)


class _ScratchTx(Tx):
    """The handlers' transaction during a rebuild: ``Rows`` in memory, any other statement on an in-memory SQLite
    database (the tables of handlers that write SQL themselves). A table lives in one of the two, never both.

    Each event's SQL runs inside a savepoint, taken at its first statement (most events send none)."""

    def __init__(self, connection: sqlite3.Connection, columns: dict[str, list[str]]) -> None:
        self._connection = connection
        self._scratch = connection.cursor()
        self._postgres = False
        self.rows = _MemoryRows(columns)
        self.sql_tables: set[str] = set()
        self._tables_of: dict[str, list[str]] = {}
        self._savepoint = False

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        tables = self._tables_of.get(statement)
        if tables is None:
            tables = self._tables_of[statement] = _TABLE_NAME.findall(statement)
        self.sql_tables.update(tables)
        if not self._savepoint:
            self._scratch.execute("SAVEPOINT event")
            self._savepoint = True
        self._scratch.execute(statement, tuple(params))
        return self._scratch.rowcount

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.execute("SELECT 1")  # the savepoint
        self.sql_tables.update(_TABLE_NAME.findall(statement))
        self._scratch.executemany(statement, [tuple(r) for r in rows])

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._scratch.fetchall()]

    def fetchone(self) -> dict[str, Any] | None:
        row = self._scratch.fetchone()
        return None if row is None else dict(row)

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        yield

    def record_position(self, tracking: Tracking) -> None:
        raise RuntimeError("a rebuild writes positions to the target store after the replay, never mid-replay")

    def commit_event(self) -> None:
        self.rows.commit()
        if self._savepoint:
            self._scratch.execute("RELEASE event")
            self._savepoint = False

    def roll_back_event(self) -> None:
        self.rows.roll_back()
        if self._savepoint:
            self._scratch.execute("ROLLBACK TO event")
            self._scratch.execute("RELEASE event")
            self._savepoint = False

    def check_apart(self) -> None:
        """Fail when a table was reached both through ``Rows`` and through SQL: the rebuild would then differ from
        the live store (a handler reading with SQL what another wrote through ``Rows``, or the reverse)."""
        both = self.rows.touched & self.sql_tables
        if both:
            raise RuntimeError(f"table(s) {', '.join(sorted(both))} reached both through Rows and through SQL: "
                               "write every table of a module one way")


@dataclass
class RebuildReport:
    store: str
    events: int = 0
    duplicates: int = 0
    skipped: list[str] = field(default_factory=list)  # what the live consumer would have dead-lettered, and why
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    replay_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


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


def _scratch_database() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    for statement in _DDL:
        # Of the indexes, only those on open rows serve the handlers (they read and close an entity's open row);
        # the others serve queries, and the target store builds them once after the load.
        if statement.startswith("CREATE INDEX") and "WHERE valid_to IS NULL" not in statement:
            continue
        connection.execute(statement)
    return connection


def _columns(connection: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
              if r[0] not in _NOT_COMPARED]
    return {t: [r[1] for r in connection.execute(f"PRAGMA table_info({t})").fetchall()] for t in tables}


_DDL = [*EVENT_LOG_DDL, *read_model_ddl(), SEEN_EVENTS_DDL]
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


class _Loader:
    """Fills the target store while the replay runs: a thread of its own drops it, creates its tables and copies
    rows in as the replay hands them over, all in one transaction, so the database stores rows (and the thread
    waits for it, without the GIL) while the replay goes on. ``finish`` adds the tracking positions, the keys and
    the indexes, and commits."""

    CHUNK = 20_000  # rows handed over at a time

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
                for statement in keys:
                    tx.execute(statement)
            target.migrate(indexes)  # built once over the loaded rows, not row by row during the load
        finally:
            target.close()


class Replay:
    """Events applied by the projection's own handlers (to Python dicts, or an in-memory database for handlers that
    write SQL), and the rows loaded into a store: while the replay runs (``start_loading``), or after it."""

    def __init__(self, store_name: str) -> None:
        self.report = RebuildReport(store=store_name)
        self._scratch = _scratch_database()
        self._tx = _ScratchTx(self._scratch, _columns(self._scratch))
        self._projection = ReportingProjection()
        self._seen: set[tuple[str, int]] = set()
        self._fresh: list[tuple[str, str, int]] = []  # seen events not handed to the loader yet
        self.positions: dict[tuple[str, int], int] = {}
        self._loader: _Loader | None = None
        self._scratch.execute("BEGIN")

    def abandon(self) -> None:
        """Give up: what was loaded is rolled back."""
        if self._loader is not None:
            self._loader.abandon()
            self._loader = None

    def start_loading(self, settings: Settings, *, progress: bool = True) -> None:
        """Drop the target store now and copy rows into it as soon as they can no longer change."""
        self._loader = _Loader(settings, self.report.store, progress)

    def apply(self, value: bytes) -> None:
        """One message as the live consumer would apply it (a redelivered copy or a malformed one changes nothing)."""
        report, tx = self.report, self._tx
        try:
            envelope = decode(value)
        except MalformedMessage as error:
            report.skipped.append(f"malformed: {error}")
            return
        key = (envelope.subject, envelope.sequence)
        if key in self._seen:
            report.duplicates += 1
            return
        try:
            self._projection.apply(tx, envelope)
        except Rejected as error:
            tx.roll_back_event()
            report.skipped.append(f"rejected: {error}")
            return
        except BaseException:
            tx.roll_back_event()
            raise
        tx.commit_event()
        self._seen.add(key)
        self._fresh.append((CONSUMER, *key))
        report.events += 1
        if self._loader is not None and tx.rows.pending >= _Loader.CHUNK:
            self._hand_over(self._loader, tx.rows.take_final())

    def _hand_over(self, loader: _Loader, rows: Mapping[str, list[Any]]) -> None:
        for table, taken in rows.items():
            if taken:
                loader.put(table, self._tx.rows.columns[table], taken)
        if self._fresh:
            loader.put("seen_events", self._tx.rows.columns["seen_events"], self._fresh)
            self._fresh = []

    def table_rows(self, table: str) -> list[tuple[Any, ...]]:
        """Every row the replay made in ``table``, in its columns' order (before ``load``; for tests)."""
        if table == "seen_events":
            return [(CONSUMER, subject, version) for subject, version in self._seen]
        if table in self._tx.rows.touched:
            rows = self._tx.rows
            pick = itemgetter(*rows.columns[table])
            if table in rows.counters:
                return list(rows.counters[table].items())
            return [pick(row) for row in (*rows.final.get(table, ()),
                                          *(r for versions in rows.open.get(table, {}).values() for r in versions))]
        return [tuple(row) for row in self._scratch.execute(f"SELECT * FROM {table}")]

    def database(self) -> sqlite3.Connection:
        """The replay's rows in one SQLite database, every table as the target store would hold it (to query the
        result without a server); call it once the replay is done, instead of ``load``."""
        self._tx.check_apart()
        for table in sorted(self._tx.rows.touched):
            names = self._tx.rows.columns[table]
            statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            self._scratch.executemany(statement, self.table_rows(table))
        self._tx.rows = _MemoryRows(self._tx.rows.columns)  # the rows now live in the database
        return self._scratch

    def load(self, settings: Settings, *, progress: bool = True) -> None:
        """Every row not loaded yet, the seen events and the tracking positions into the target store (dropped
        first, unless ``start_loading`` did), committed in one transaction with what was loaded before."""
        self._tx.check_apart()
        self._scratch.execute("COMMIT")
        if self._loader is None:
            self.start_loading(settings, progress=progress)
        assert self._loader is not None
        loader, self._loader = self._loader, None
        try:
            self._hand_over(loader, self._tx.rows.take_rest())
            for table in self._tx.rows.columns:
                if table not in self._tx.rows.touched and table != "seen_events":
                    cursor = self._scratch.execute(f"SELECT * FROM {table}")
                    while chunk := cursor.fetchmany(_Loader.CHUNK):
                        loader.put(table, self._tx.rows.columns[table], [tuple(row) for row in chunk])
            loader.finish([Tracking(f"{CONSUMER}:{topic}:{partition}", offset)
                           for (topic, partition), offset in sorted(self.positions.items())])
        finally:
            self._scratch.close()
        self.report.rows = dict(loader.rows)


def rebuild(settings: Settings, transport: Transport, into: str, *, progress: bool = True,
            poll_size: int = 5000) -> RebuildReport:
    """Drop the store ``into`` and replay every topic from its start into it; returns what was done. The store is
    dropped when the replay starts and filled while it runs; it holds the rebuilt rows once this returns."""
    started = time.perf_counter()
    replay = Replay(into)
    replay.start_loading(settings, progress=progress)
    try:
        _replay_topics(settings, transport, replay, progress, poll_size)
    except BaseException:
        replay.abandon()
        raise
    replay.report.replay_seconds = time.perf_counter() - started
    replay.load(settings, progress=progress)
    report = replay.report
    report.seconds = time.perf_counter() - started
    log.info("read models rebuilt", extra={"store": into, "events": report.events, "seconds": report.seconds})
    return report


def _replay_topics(settings: Settings, transport: Transport, replay: Replay, progress: bool, poll_size: int) -> None:
    """Every message of every topic up to its end offset when the rebuild started, in each partition's order."""
    for name in TOPICS:
        topic = settings.topic(name)
        ends = {p: e for p, e in transport.end_offsets(topic).items() if e > 0}
        if not ends:
            continue
        reader = transport.reader(topic, dict.fromkeys(ends, 0))
        bar = tqdm(total=sum(ends.values()), desc=f"replay {name}", unit="ev", disable=not progress, leave=True)
        try:
            done: dict[int, int] = {}
            while any(done.get(p, 0) < end for p, end in ends.items()):
                messages = reader.poll_values(poll_size, 1.0)
                for partition, offset, value in messages:
                    if offset >= ends.get(partition, 0):
                        continue  # arrived after the rebuild started: the live consumer's business
                    done[partition] = offset + 1
                    replay.positions[(topic, partition)] = offset
                    replay.apply(value)
                bar.update(len(messages))
        finally:
            reader.close()
            bar.close()


# -- comparison ---------------------------------------------------------------------------------------------------


@dataclass
class TableDifference:
    table: str
    only_live: int
    only_rebuilt: int
    examples: list[str]


def compare(live: ReadStore, rebuilt: ReadStore, *, examples: int = 3) -> list[TableDifference]:
    """Every read-model table, row for row (as multisets): what only one of the two stores holds."""
    from collections import Counter

    tables = [*_table_names(EVENT_LOG_DDL), *_table_names(read_model_ddl()), "seen_events"]
    differences = []
    for table in tables:
        rows = {}
        for side, store in (("live", live), ("rebuilt", rebuilt)):
            found = store.query(f"SELECT * FROM {table}")
            if table == "seen_events":
                found = [r for r in found if r["consumer"] == CONSUMER]
            rows[side] = Counter(tuple(sorted(r.items())) for r in found)
        only_live, only_rebuilt = rows["live"] - rows["rebuilt"], rows["rebuilt"] - rows["live"]
        if only_live or only_rebuilt:
            shown = [f"only live: {dict(r)}" for r in list(only_live)[:examples]]
            shown += [f"only rebuilt: {dict(r)}" for r in list(only_rebuilt)[:examples]]
            differences.append(TableDifference(table, sum(only_live.values()), sum(only_rebuilt.values()), shown))
    return differences


def _table_names(ddl: Sequence[str]) -> list[str]:
    names = []
    for statement in ddl:
        words = statement.split()
        if words[:2] == ["CREATE", "TABLE"]:
            names.append(words[5] if words[2:5] == ["IF", "NOT", "EXISTS"] else words[2])
    return [n.split("(")[0] for n in names]
