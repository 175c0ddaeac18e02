"""PostgreSQL pool checks that cost a round trip only when a pooled connection looks broken.

The event stores and read stores check each connection they take from the pool, so that a connection broken by a
database restart is replaced instead of failing a command. The library's check runs an empty query every time: a
round trip per transaction, on the hot path of every command, relay batch and consumer batch. A connection at rest
in the pool has nothing to read unless the server spoke: after a restart or a terminated backend, its socket holds
the server's goodbye or EOF and polls readable. So a zero-timeout poll of the socket tells whether the round trip is
worth it. What a poll cannot see (a silent network partition) the library's retry of each recorder operation
(InterfaceError/OperationalError) still covers.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool


def check_when_suspect(conn: psycopg.Connection[Any]) -> None:
    """Raise if the connection is broken; a full check only when its socket has something to say."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        ConnectionPool.check_connection(conn)


def check_pool_cheaply(recorder: object) -> None:
    """Swap the pre-ping of the recorder's pool (when it has one: PostgreSQL with pre-ping on) for the cheap check."""
    pool = getattr(getattr(recorder, "datastore", None), "pool", None)
    if pool is not None and getattr(pool, "_check", None) is not None:
        pool._check = check_when_suspect
