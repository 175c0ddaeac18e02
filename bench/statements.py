"""Statements per command in PostgreSQL, from ``pg_stat_statements`` (loaded by ``bench.walking_skeleton``'s
server): reset at the start of a measured window, read at its end. The benchmark's own probes are left out."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

PROBES = ("FROM event_log WHERE subject IN", "FROM lean.read_reporting", "pg_stat_statements")
"""The benchmarks' own queries (the lag probes), not the system's."""


@dataclass
class Statements:
    total: int = 0
    """Every statement the server ran, those inside a function too (``pg_stat_statements.track = all``)."""
    sent: int = 0
    """The statements clients sent (top level): each a round trip, and the client's work to send it and read its
    answer. A function's inner statements are the server's work only."""
    top: list[tuple[int, str]] = field(default_factory=list)
    """The most called statements: (calls, text). Transaction control (BEGIN, COMMIT, ROLLBACK, SET LOCAL) counts:
    each is a round trip to the server."""
    slowest: list[tuple[float, int, str]] = field(default_factory=list)
    """The statements that took the server the most time in all: (ms in all, calls, text)."""
    sessions: int = 0
    """Sessions (backends) the server started in the window: each is a fork and a cold catalog cache, so a pool that
    opens and closes overflow connections under load pays for it here."""

    def per_command(self, commands: int) -> float:
        return self.total / max(commands, 1)

    def sent_per_command(self, commands: int) -> float:
        return self.sent / max(commands, 1)


class StatementCounter:
    """``with StatementCounter(url) as counted: ...``; ``counted.result`` afterwards (None without the extension)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.result: Statements | None = None
        self._on = False
        self._sessions = 0

    def __enter__(self) -> StatementCounter:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute("SELECT pg_stat_statements_reset()")
                self._sessions = _sessions(conn)
            self._on = True
        except psycopg.Error:
            self._on = False  # a server without the library preloaded: no count
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._on:
            return
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute("SELECT calls, query, total_exec_time, toplevel FROM pg_stat_statements"
                                " ORDER BY calls DESC").fetchall()
            sessions = _sessions(conn) - self._sessions - 1  # less this connection's own
        mine = [(int(calls), str(query), float(ms), bool(top)) for calls, query, ms, top in rows
                if not any(probe in query for probe in PROBES)]
        slowest = sorted(((ms, calls, query) for calls, query, ms, _ in mine), reverse=True)[:20]
        self.result = Statements(total=sum(calls for calls, _, _, _ in mine),
                                 sent=sum(calls for calls, _, _, top in mine if top),
                                 top=[(calls, query) for calls, query, _, _ in mine[:60]], slowest=slowest,
                                 sessions=sessions)


def _sessions(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """Sessions the server has started, all databases (``pg_stat_database.sessions``, PostgreSQL 14 and later)."""
    row = conn.execute("SELECT coalesce(sum(sessions), 0) FROM pg_stat_database").fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]
