"""Read-model rebuild: drop a read-model store, replay every topic from the start into it, and compare it with the
live store (``compare``).

The per-event path (one transaction per batch, statements sent to the database per event) is what a live
consumer needs; a rebuild does not. Here the same projection handlers run, but what they do through ``Rows``
happens to Python dicts (``rebuild_rows``: an entity's current row, and the rows that can no longer change). Each
event is journalled so that an event the live consumer would dead-letter leaves nothing behind, exactly as there.
Rows that can no longer change are copied into the target store while the replay runs (``rebuild_load``: ``COPY``
on PostgreSQL), in one transaction that ends with ``seen_events``, the tracking positions and the keys (then the
indexes are built), so the rebuilt store can take over from the live one.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from eventsourcing.persistence import Tracking
from tqdm import tqdm

from services.reporting.compare import CONSUMER, TableDifference, compare
from services.reporting.projections import ReportingProjection, every_ddl
from services.reporting.rebuild_load import Loader, drop_store
from services.reporting.rebuild_rows import MemoryRows
from shared.consumer import SEEN_EVENTS_DDL, Rejected
from shared.envelope import MalformedMessage, decode
from shared.meeting_copy import DDL as COPY_DDL
from shared.meeting_copy import meetings_consumer
from shared.readstore import ReadStore
from shared.settings import Settings
from shared.transport import Transport

__all__ = ["TOPICS", "RebuildReport", "Replay", "TableDifference", "compare", "drop_store", "rebuild"]

log = logging.getLogger(__name__)

TOPICS = ("priorities.events", "tasking.events", "projects.events")
_NOT_COMPARED = {"sqlite_sequence"}


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


def _scratch_database() -> sqlite3.Connection:
    """The store's tables in an in-memory SQLite database: their columns, and (``Replay.database``) a place to
    query a replay's rows without a server."""
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    for statement in [*every_ddl(), SEEN_EVENTS_DDL]:
        # Of the indexes, only those on open rows serve the asOf lookups (the others, the target store builds).
        if statement.startswith("CREATE INDEX") and "WHERE valid_to IS NULL" not in statement:
            continue
        connection.execute(statement)
    return connection


def _columns(connection: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
              if r[0] not in _NOT_COMPARED]
    return {t: [r[1] for r in connection.execute(f"PRAGMA table_info({t})").fetchall()] for t in tables}


class Replay:
    """Events applied by the projection's own handlers to Python dicts, and the rows loaded into a store: while
    the replay runs (``start_loading``), or after it."""

    def __init__(self, store_name: str) -> None:
        self.report = RebuildReport(store=store_name)
        self._scratch = _scratch_database()
        self._rows = MemoryRows(_columns(self._scratch))
        self._projection = ReportingProjection()
        self._seen: set[tuple[str, int]] = set()
        self._fresh: list[tuple[str, str, int]] = []  # seen events not handed to the loader yet
        self.positions: dict[tuple[str, int], int] = {}
        self._loader: Loader | None = None

    def abandon(self) -> None:
        """Give up: what was loaded is rolled back."""
        if self._loader is not None:
            self._loader.abandon()
            self._loader = None

    def start_loading(self, settings: Settings, *, progress: bool = True) -> None:
        """Drop the target store now and copy rows into it as soon as they can no longer change."""
        self._loader = Loader(settings, self.report.store, progress)

    def apply(self, value: bytes) -> None:
        """One message as the live consumer would apply it (a redelivered copy or a malformed one changes nothing)."""
        report, rows = self.report, self._rows
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
            self._projection.apply_to(rows, envelope)
        except Rejected as error:
            rows.roll_back()
            report.skipped.append(f"rejected: {error}")
            return
        except BaseException:
            rows.roll_back()
            raise
        rows.commit()
        self._seen.add(key)
        self._fresh.append((CONSUMER, *key))
        report.events += 1
        if self._loader is not None and rows.pending >= Loader.CHUNK:
            self._hand_over(self._loader, rows.take_final())

    def _hand_over(self, loader: Loader, rows: Mapping[str, list[Any]]) -> None:
        for table, taken in rows.items():
            if taken:
                loader.put(table, self._rows.columns[table], taken)
        if self._fresh:
            loader.put("seen_events", self._rows.columns["seen_events"], self._fresh)
            self._fresh = []

    def table_rows(self, table: str) -> list[tuple[Any, ...]]:
        """Every row the replay made in ``table``, in its columns' order (before ``load``; for tests)."""
        if table == "seen_events":
            return [(CONSUMER, subject, version) for subject, version in self._seen]
        rows = self._rows
        if table in rows.counters:
            return list(rows.counters[table].items())
        pick = itemgetter(*rows.columns[table])
        return [pick(row) for row in (*rows.final.get(table, ()),
                                      *(r for versions in rows.open.get(table, {}).values() for r in versions))]

    def database(self) -> sqlite3.Connection:
        """The replay's rows in one SQLite database, every table as the target store would hold it (to query the
        result without a server); call it once the replay is done, instead of ``load``."""
        for table in sorted(self._rows.touched):
            names = self._rows.columns[table]
            statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            self._scratch.executemany(statement, self.table_rows(table))
        self._rows = MemoryRows(self._rows.columns)  # the rows now live in the database
        return self._scratch

    def load(self, settings: Settings, *, progress: bool = True) -> None:
        """Every row not loaded yet, the seen events and the tracking positions into the target store (dropped
        first, unless ``start_loading`` did), committed in one transaction with what was loaded before."""
        if self._loader is None:
            self.start_loading(settings, progress=progress)
        assert self._loader is not None
        loader, self._loader = self._loader, None
        try:
            self._hand_over(loader, self._rows.take_rest())
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
    _copy_meetings(settings, transport, into)
    report = replay.report
    report.seconds = time.perf_counter() - started
    log.info("read models rebuilt", extra={"store": into, "events": report.events, "seconds": report.seconds})
    return report


def _copy_meetings(settings: Settings, transport: Transport, into: str, timeout: float = 120.0) -> None:
    """The rebuilt store's copy of tasking's meetings and memberships, by the live store's own consumer
    (``reporting-meetings``) caught up with the topic: without it no decision taken at a meeting resolves in the
    rebuilt store, and a pack or open data rebuilt from the history would leave those decisions out."""
    store = ReadStore(settings, into)
    try:
        store.migrate(COPY_DDL)
        runner = meetings_consumer("reporting", store, settings, transport)
        ends = {p: e for p, e in transport.end_offsets(settings.topic("tasking.events")).items() if e > 0}
        deadline = time.monotonic() + timeout
        try:
            while any(runner.status.next_offsets.get(p, 0) < end for p, end in ends.items()):
                if time.monotonic() > deadline:
                    raise TimeoutError("the meetings copy did not catch up with tasking.events")
                runner.process_batch(0.5)
        finally:
            runner.close()
    finally:
        store.close()


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
