"""The change feed: what the live reporting projection committed that a dashboard follows, in commit order.

Each applied event that records a decision, reports progress, changes a project's RAG or status, issues or
retasks a tasking (or changes its status) appends one row per change to ``change_feed``, in the projection's own
transaction: a row is there exactly when the read-model rows it announces are, once (the consumer's exactly-once
applies to it as to them). ``position`` rises in commit order: on PostgreSQL every append first takes one
transaction-level advisory lock, so a transaction that took a lower position has committed (and is visible) before a
higher one can be taken; SQLite has one writer at a time. A reader that has seen position *p* has therefore seen
every change up to *p*, and a cursor ``after: p`` resumes exactly after it, across gateway restarts.

After the commit the feed is announced: in the process through ``ChangeSignal`` (the embedded mode, or a worker and
its gateway in one process), across processes by PostgreSQL ``NOTIFY`` sent in the same transaction (delivered only
if it commits). ``services.reporting.subscriptions`` reads the feed once per announcement for all its subscribers.

The feed is the live consumer's: a rebuild (``services.reporting.rebuild``) does not write it, and a rebuilt store
starts a new feed, with a new ``epoch`` that every cursor carries, so a cursor of the old feed is refused rather
than misread.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from services.reporting.coordination.tables import TASKINGS
from services.reporting.delivery.tables import PROJECTS
from services.reporting.rows import Rows
from services.reporting.temporal import decision_json, timestamp
from shared.contracts import Fact
from shared.envelope import Envelope
from shared.readstore import ReadStore, Tx

FEED_TABLE = "change_feed"


class ChangeKind(Enum):
    DECISION_RECORDED = "decision_recorded"
    PROGRESS_REPORTED = "progress_reported"
    RAG_CHANGED = "rag_changed"
    STATUS_CHANGED = "status_changed"
    TASKING_ISSUED = "tasking_issued"
    TASKING_RETASKED = "tasking_retasked"


def feed_ddl(postgres: bool) -> list[str]:
    position = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    return [
        f"CREATE TABLE IF NOT EXISTS {FEED_TABLE} (position {position}, kind TEXT NOT NULL,"
        " subject TEXT NOT NULL, subject_type TEXT NOT NULL, version INTEGER NOT NULL, event_type TEXT NOT NULL,"
        " occurred_at TEXT NOT NULL, committed_at TEXT NOT NULL, district TEXT, theme_group TEXT,"
        " organisation TEXT, title TEXT, rag TEXT, previous_rag TEXT, status TEXT, previous_status TEXT,"
        " decision TEXT)",
        "CREATE TABLE IF NOT EXISTS change_feed_epoch (epoch TEXT PRIMARY KEY)",
    ]


def migrate_feed(store: ReadStore) -> None:
    """The feed's tables, and its epoch (made once, with the store's feed)."""
    store.migrate(feed_ddl(store.postgres))
    with store.transaction() as tx:
        if not tx.query("SELECT epoch FROM change_feed_epoch"):
            tx.execute("INSERT INTO change_feed_epoch (epoch) VALUES (?)", [uuid.uuid4().hex[:12]])


def feed_epoch(store: ReadStore) -> str:
    return str(store.query("SELECT epoch FROM change_feed_epoch")[0]["epoch"])


def notify_channel(store: ReadStore) -> str:
    """The PostgreSQL channel the projection announces its feed commits on (one per reporting schema)."""
    return f"{store.schema}_changes"[:63]


class ChangeSignal:
    """In-process announcement of feed commits: the projection calls ``notify`` after each commit that appended to
    the feed; listeners (a gateway's broadcaster) must not block (they wake an event loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return stop

    def notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


# -- what an event changed ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Before:
    """A project's RAG and status, or a tasking's status, before the event's handlers ran."""

    rag: str | None = None
    status: str | None = None


_PROJECTS_CONTRACTS = "shared.contracts.projects"
_TASKING_CONTRACTS = "shared.contracts.tasking"


def _subject_table(fact: Fact) -> str | None:
    module, name = type(fact).__module__, type(fact).__name__
    if module == _PROJECTS_CONTRACTS and not name.startswith(("Programme", "Meeting")):
        return PROJECTS.name
    if module == _TASKING_CONTRACTS and name.startswith("Tasking"):
        return TASKINGS.name
    return None


def before(into: Rows, fact: Fact, envelope: Envelope) -> Before | None:
    """What the feed compares the event's outcome with (None: the event changes no project or tasking)."""
    table = _subject_table(fact)
    if table is None:
        return None
    row = into.current(table, envelope.subject)
    return Before() if row is None else Before(rag=row.get("rag"), status=row.get("status"))


def append(tx: Tx, into: Rows, fact: Fact, envelope: Envelope, was: Before | None) -> int:
    """The feed rows of one applied event (after its handlers ran, in their transaction); how many."""
    table = _subject_table(fact)
    row: Mapping[str, Any] | None = into.current(table, envelope.subject) if table is not None else None
    kinds: list[ChangeKind] = []
    name = type(fact).__name__
    decision = decision_json(fact)
    if decision is not None:
        kinds.append(ChangeKind.DECISION_RECORDED)
    if name in ("ProgressReported", "ProgressReportCorrected"):
        kinds.append(ChangeKind.PROGRESS_REPORTED)
    if name == "TaskingIssued":
        kinds.append(ChangeKind.TASKING_ISSUED)
    elif name == "TaskingRetasked":
        kinds.append(ChangeKind.TASKING_RETASKED)
    if row is not None and was is not None:
        if table == PROJECTS.name and was.rag != row.get("rag") and row.get("rag") is not None:
            kinds.append(ChangeKind.RAG_CHANGED)
        if was.status is not None and was.status != row.get("status"):
            kinds.append(ChangeKind.STATUS_CHANGED)
    if not kinds:
        return 0
    subject_type = "project" if table == PROJECTS.name else "tasking" if table == TASKINGS.name else "other"
    scope = row or {}
    values = {
        "subject": envelope.subject, "subject_type": subject_type, "version": envelope.sequence,
        "event_type": envelope.type, "occurred_at": timestamp(envelope.time),
        "committed_at": timestamp(datetime.now(UTC)),
        "district": scope.get("district", getattr(fact, "district", None)),
        "theme_group": scope.get("theme_group", getattr(fact, "theme_group", None)),
        "organisation": scope.get("lead_partner", getattr(fact, "lead_partner", None)),
        "title": scope.get("title"), "rag": scope.get("rag"),
        "previous_rag": was.rag if was else None, "status": scope.get("status"),
        "previous_status": was.status if was else None, "decision": decision,
    }
    columns = ["kind", *values]
    if tx.postgres:
        # One statement: the lock keeps positions in commit order, held to the end of the transaction (see the
        # module doc); the notice is delivered when (and only if) the transaction commits, once per channel.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('partnership-change-feed:' || current_schema())),"
                   " pg_notify(left(current_schema() || '_changes', 63), '')")
    tx.executemany(f"INSERT INTO {FEED_TABLE} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                   [[kind.value, *values.values()] for kind in kinds])
    return len(kinds)


def read_after(store: ReadStore, position: int, limit: int = 500, upto: int | None = None) -> list[dict[str, Any]]:
    """The feed's rows after ``position`` (up to ``upto``), in order."""
    if upto is None:
        return store.query(f"SELECT * FROM {FEED_TABLE} WHERE position > ? ORDER BY position LIMIT ?",
                           [position, limit])
    return store.query(f"SELECT * FROM {FEED_TABLE} WHERE position > ? AND position <= ? ORDER BY position LIMIT ?",
                       [position, upto, limit])


def head(store: ReadStore) -> int:
    """The feed's last position (0 when empty)."""
    found = store.query(f"SELECT MAX(position) AS head FROM {FEED_TABLE}")
    return int(found[0]["head"] or 0)
