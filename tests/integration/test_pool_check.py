"""A pooled connection is pinged only when it looks broken, and a broken one is replaced, not failed on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from shared.pgpool import check_when_suspect
from shared.readstore import ReadStore
from tests.harness import settings_for


@pytest.fixture
def store(tmp_path: Path, postgres_url: str) -> Iterator[ReadStore]:
    read_store = ReadStore(settings_for(data_dir=tmp_path, postgres_url=postgres_url), "pooled")
    yield read_store
    read_store.close()


def backend_pids(store: ReadStore) -> list[int]:
    return [row["pid"] for row in store.query("SELECT pg_backend_pid() AS pid")]


def traffic(conn: psycopg.Connection[Any], tmp_path: Path, action: Callable[[], None]) -> str:
    """What libpq sent and received while ``action`` ran (its protocol trace)."""
    trace = tmp_path / f"trace-{len(list(tmp_path.iterdir()))}.log"
    with trace.open("w") as out:
        conn.pgconn.trace(out.fileno())
        try:
            action()
        finally:
            conn.pgconn.untrace()
    return trace.read_text()


def test_a_healthy_idle_connection_passes_without_a_round_trip(postgres_url: str, tmp_path: Path) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert traffic(conn, tmp_path, lambda: check_when_suspect(conn)) == ""
        # The library's pre-ping, for contrast, is a round trip each time.
        assert "Query" in traffic(conn, tmp_path, lambda: ConnectionPool.check_connection(conn))


def test_a_terminated_connection_is_seen_as_broken(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as victim, psycopg.connect(postgres_url,
                                                                                   autocommit=True) as admin:
        pid = victim.info.backend_pid
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg.OperationalError):
            for _ in range(50):  # the goodbye reaches the socket within moments
                check_when_suspect(victim)
                time.sleep(0.05)


def test_after_every_backend_of_the_pool_is_terminated_the_next_query_just_works(store: ReadStore,
                                                                                   postgres_url: str) -> None:
    pids = set(backend_pids(store))
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    assert store.query("SELECT 1 AS one") == [{"one": 1}]
    assert not pids & set(backend_pids(store))
