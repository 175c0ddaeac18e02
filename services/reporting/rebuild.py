"""Read-model rebuild: drop a read-model store, replay every topic from the start into it, and compare it with the
live store.

The per-event path (one transaction per batch, statements sent to the database per event) is what a live
consumer needs; a rebuild does not. Here the same projection handlers run against an in-memory SQLite database
(the read-model SQL is the dialect PostgreSQL and SQLite share), each event inside a savepoint so that an event
the live consumer would dead-letter leaves nothing behind, exactly as there; then every table is bulk-loaded into
the target store (``COPY`` on PostgreSQL) in one transaction, with ``seen_events`` and the tracking positions, so
the rebuilt store can take over from the live one.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from psycopg import sql
from tqdm import tqdm

from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import DDL as EVENT_LOG_DDL
from shared.consumer import SEEN_EVENTS_DDL, Rejected
from shared.envelope import MalformedMessage, decode
from shared.readstore import ReadStore, Tx
from shared.settings import Persistence, Settings
from shared.transport import Transport

log = logging.getLogger(__name__)

CONSUMER = "reporting"  # the live consumer's name: seen_events and tracking records are written under it
TOPICS = ("priorities.events", "tasking.events", "projects.events")
_NOT_COMPARED = {"sqlite_sequence"}


class _ScratchTx(Tx):
    """The handlers' transaction, on the in-memory database."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._scratch = connection.cursor()
        self._postgres = False

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        self._scratch.execute(statement, tuple(params))
        return self._scratch.rowcount

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
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
    for statement in (*EVENT_LOG_DDL, *read_model_ddl(), SEEN_EVENTS_DDL):
        # Of the indexes, only those on open rows serve the handlers (they read and close an entity's open row);
        # the others serve queries, and the target store builds them once after the load.
        if statement.startswith("CREATE INDEX") and "WHERE valid_to IS NULL" not in statement:
            continue
        connection.execute(statement)
    return connection


class Replay:
    """Events applied by the projection's own handlers to an in-memory database, then loaded into a store."""

    def __init__(self, store_name: str) -> None:
        self.report = RebuildReport(store=store_name)
        self._scratch = _scratch_database()
        self._tx = _ScratchTx(self._scratch)
        self._projection = ReportingProjection()
        self._seen: set[tuple[str, int]] = set()
        self.positions: dict[tuple[str, int], int] = {}
        self._scratch.execute("BEGIN")

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
        tx.execute("SAVEPOINT event")
        try:
            self._projection.apply(tx, envelope)
        except Rejected as error:
            tx.execute("ROLLBACK TO event")
            report.skipped.append(f"rejected: {error}")
        else:
            self._seen.add(key)
            report.events += 1
        tx.execute("RELEASE event")

    def load(self, settings: Settings, *, progress: bool = True) -> None:
        """Drop the target store and bulk-load every table, the seen events and the positions, in one transaction."""
        self._scratch.execute("COMMIT")
        drop_store(settings, self.report.store)
        target = ReadStore(settings, self.report.store)
        try:
            ddl = [*EVENT_LOG_DDL, *read_model_ddl(), SEEN_EVENTS_DDL]
            indexes = [statement for statement in ddl if statement.startswith("CREATE INDEX")]
            target.migrate([statement for statement in ddl if statement not in indexes])
            _load(self._scratch, target, self._seen, self.positions, self.report, progress)
            target.migrate(indexes)  # built once over the loaded rows, not row by row during the load
        finally:
            target.close()
            self._scratch.close()


def rebuild(settings: Settings, transport: Transport, into: str, *, progress: bool = True,
            poll_size: int = 5000) -> RebuildReport:
    """Drop the store ``into`` and replay every topic from its start into it; returns what was done."""
    started = time.perf_counter()
    replay = Replay(into)
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
                messages = reader.poll(poll_size, 1.0)
                for message in messages:
                    partition, offset = message.position.partition, message.position.offset
                    if offset >= ends.get(partition, 0):
                        continue  # arrived after the rebuild started: the live consumer's business
                    done[partition] = offset + 1
                    replay.positions[(topic, partition)] = offset
                    replay.apply(message.value)
                bar.update(len(messages))
        finally:
            reader.close()
            bar.close()
    replay.report.replay_seconds = time.perf_counter() - started
    replay.load(settings, progress=progress)
    report = replay.report
    report.seconds = time.perf_counter() - started
    log.info("read models rebuilt", extra={"store": into, "events": report.events, "seconds": report.seconds})
    return report


def _load(scratch: sqlite3.Connection, target: ReadStore, seen: set[tuple[str, int]],
          positions: dict[tuple[str, int], int], report: RebuildReport, progress: bool) -> None:
    tables = [r["name"] for r in scratch.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
        if r["name"] not in _NOT_COMPARED and r["name"] != "seen_events"]
    total = sum(scratch.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables) + len(seen)
    with target.transaction() as tx, tqdm(total=total, desc="load rows", unit="row", disable=not progress) as meter:
        for table in tables:
            cursor = scratch.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]
            report.rows[table] = tx.copy_rows(table, columns, _counted(cursor, meter))
        report.rows["seen_events"] = tx.copy_rows(
            "seen_events", ["consumer", "subject", "version"],
            _counted(((CONSUMER, subject, version) for subject, version in seen), meter))
        for (topic, partition), offset in sorted(positions.items()):
            tx.record_position(Tracking(f"{CONSUMER}:{topic}:{partition}", offset))


def _counted(rows: Any, meter: Any) -> Iterator[Sequence[Any]]:
    pending = 0
    for row in rows:
        yield tuple(row)
        pending += 1
        if pending == 10_000:
            meter.update(pending)
            pending = 0
    meter.update(pending)


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
