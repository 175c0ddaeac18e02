"""The delivery read models' ``asOf`` lookups on PostgreSQL (a lateral join, one index probe per entity) return
exactly the rows valid at each moment, as the plain validity clause does, including an entity changed twice in the
same instant; and the roll-up is the same whichever way it is read."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.reporting_history import generate
from services.reporting.delivery import queries, rollup
from services.reporting.readmodel import as_of_clause, timestamp
from services.reporting.rebuild import Replay
from shared.readstore import ReadStore
from tests.harness import settings_for

pytestmark = pytest.mark.integration

TABLES = ("delivery_projects", "delivery_outcomes", "delivery_taskings", "delivery_targets", "delivery_milestones")


def test_rows_as_of_a_moment_on_postgres_are_those_valid_then(tmp_path: Path, postgres_url: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url)
    history = generate(4000)
    replay = Replay("reporting")
    for events in history.events.values():
        for _, value in events:
            replay.apply(value)
    replay.load(settings, progress=False)
    store = ReadStore(settings, "reporting")
    try:
        # A tasking changed twice in one instant: its first new row is valid for no time at all.
        tasking = store.query("SELECT * FROM delivery_taskings WHERE valid_to IS NULL ORDER BY id LIMIT 1")[0]
        instant = history.last + (history.last - history.first) / 10
        at = timestamp(instant)
        with store.transaction() as tx:
            tx.execute("UPDATE delivery_taskings SET valid_to = ? WHERE id = ? AND valid_to IS NULL",
                       [at, tasking["id"]])
            for version, status, valid_to in ((900, "accepted", at), (901, "in_delivery", None)):
                row = {**tasking, "version": version, "status": status, "valid_from": at, "valid_to": valid_to}
                tx.execute(f"INSERT INTO delivery_taskings ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                           list(row.values()))
        span = instant - history.first
        moments = [history.first + span * f for f in (0.0, 0.13, 0.5, 0.77)] + [instant, instant + span / 100]
        for moment in moments:
            clause, params = as_of_clause(moment)
            for table in TABLES:
                expected = store.query(f"SELECT * FROM {table} WHERE {clause}", params)
                for postgres in (True, False):
                    query, values = queries.as_of_rows(table, moment, postgres=postgres)
                    found = store.query(query, values)
                    assert sorted(map(str, found)) == sorted(map(str, expected)), (table, moment, postgres)
        on_the_instant = queries.as_of_rows("delivery_taskings", instant, entities=" AND e.id = ?",
                                         entity_params=[tasking["id"]], postgres=True)
        assert [r["status"] for r in store.query(*on_the_instant)] == ["in_delivery"]
        for when in (None, moments[2], instant):
            assert rollup.rollups(store, when) == _rollups_on_sqlite_form(store, when)
    finally:
        store.close()


def _rollups_on_sqlite_form(store: ReadStore, when: datetime | None) -> list[dict[str, Any]]:
    """The roll-up read with the other (SQLite) form of the lookups, on the same PostgreSQL store."""
    with store.transaction(commit=False) as tx:
        return rollup._rollups(tx, when, None, True, postgres=False)
