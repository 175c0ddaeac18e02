"""The embedded transport: an append-only log in one SQLite file, for the single-process default and fast tests."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from shared.transport import Headers, Message, Position, Publisher, Reader, Transport, partition_for

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS log (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    key TEXT, value BLOB NOT NULL, headers TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (topic, partition, "offset")
);
"""


def _encode_headers(headers: Headers) -> str:
    return "\n".join(f"{name}\t{value.hex()}" for name, value in headers)


def _decode_headers(text: str) -> Headers:
    if not text:
        return ()
    pairs = (line.split("\t", 1) for line in text.split("\n"))
    return tuple((name, bytes.fromhex(value)) for name, value in pairs)


class EmbeddedTransport(Transport):
    """Topics as rows in SQLite; a condition variable wakes readers in this process as soon as a write commits."""

    def __init__(self, path: Path | str, default_partitions: int = 1) -> None:
        self._path = str(path)
        self._default_partitions = default_partitions
        self._written = threading.Condition()
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def ensure_topic(self, topic: str, partitions: int | None = None) -> None:
        with self._lock, self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO topics (name, partitions) VALUES (?, ?)",
                (topic, partitions or self._default_partitions),
            )

    def partitions(self, topic: str) -> list[int]:
        with self._connect() as conn:
            row = conn.execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
        if row is None:
            self.ensure_topic(topic)
            return list(range(self._default_partitions))
        return list(range(int(row[0])))

    def end_offsets(self, topic: str) -> dict[int, int]:
        ends = dict.fromkeys(self.partitions(topic), 0)
        with self._connect() as conn:
            rows = conn.execute(
                'SELECT partition, MAX("offset") + 1 FROM log WHERE topic = ? GROUP BY partition', (topic,)
            ).fetchall()
        ends.update({int(p): int(o) for p, o in rows})
        return ends

    def publisher(self) -> Publisher:
        return _EmbeddedPublisher(self)

    def reader(self, topic: str, start: Mapping[int, int]) -> Reader:
        return _EmbeddedReader(self, topic, {p: start.get(p, 0) for p in self.partitions(topic)})

    def _append(self, batch: list[tuple[str, str | None, bytes, Headers]]) -> None:
        # One writer at a time keeps offsets dense per partition, like a broker's log.
        with self._lock:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                counts: dict[str, int] = {}
                for topic, key, value, headers in batch:
                    if topic not in counts:
                        row = conn.execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
                        if row is None:
                            conn.execute(
                                "INSERT INTO topics (name, partitions) VALUES (?, ?)",
                                (topic, self._default_partitions),
                            )
                            counts[topic] = self._default_partitions
                        else:
                            counts[topic] = int(row[0])
                    partition = partition_for(key, counts[topic])
                    conn.execute(
                        'INSERT INTO log (topic, partition, "offset", key, value, headers) '
                        'SELECT ?, ?, COALESCE(MAX("offset") + 1, 0), ?, ?, ? FROM log '
                        "WHERE topic = ? AND partition = ?",
                        (topic, partition, key, value, _encode_headers(headers), topic, partition),
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                conn.close()
        with self._written:
            self._written.notify_all()

    def _wait_for_write(self, timeout: float) -> None:
        with self._written:
            self._written.wait(timeout)


class _EmbeddedPublisher(Publisher):
    def __init__(self, transport: EmbeddedTransport) -> None:
        self._transport = transport
        self._pending: list[tuple[str, str | None, bytes, Headers]] = []

    def publish(self, topic: str, key: str | None, value: bytes, headers: Headers = ()) -> None:
        self._pending.append((topic, key, value, headers))

    def flush(self, timeout: float = 30.0) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._transport._append(batch)

    def close(self) -> None:
        self.flush()


class _EmbeddedReader(Reader):
    def __init__(self, transport: EmbeddedTransport, topic: str, next_offsets: dict[int, int]) -> None:
        self._transport = transport
        self._topic = topic
        self._next = next_offsets
        self._conn = transport._connect()

    def poll(self, max_messages: int, timeout: float) -> Sequence[Message]:
        deadline = time.monotonic() + timeout
        while True:
            messages = self._fetch(max_messages)
            remaining = deadline - time.monotonic()
            if messages or remaining <= 0:
                return messages
            self._transport._wait_for_write(min(remaining, 0.05))

    def _fetch(self, max_messages: int) -> list[Message]:
        messages: list[Message] = []
        for partition, offset in self._next.items():
            rows = self._conn.execute(
                'SELECT "offset", key, value, headers FROM log WHERE topic = ? AND partition = ? '
                'AND "offset" >= ? ORDER BY "offset" LIMIT ?',
                (self._topic, partition, offset, max_messages - len(messages)),
            ).fetchall()
            for row_offset, key, value, headers in rows:
                messages.append(
                    Message(Position(self._topic, partition, int(row_offset)), key, bytes(value),
                            _decode_headers(headers))
                )
                self._next[partition] = int(row_offset) + 1
            if len(messages) >= max_messages:
                break
        return messages

    def close(self) -> None:
        self._conn.close()
