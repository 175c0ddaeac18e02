"""The rebuild's in-memory replay and the delivery read models' asOf lookups, on a synthetic history (no servers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bench.reporting_history import LEAD, PSTG, History, generate
from services.reporting.delivery import queries, rollup
from services.reporting.readmodel import as_of_clause
from services.reporting.rebuild import Replay
from shared.contracts.tasking import TaskingAccepted


def _rows(replay: Replay, table: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in replay.table_rows(table))


def _replayed(history: History) -> Replay:
    replay = Replay("reporting")
    for events in history.events.values():
        for _, value in events:
            replay.apply(value)
    return replay


def test_an_event_the_live_consumer_would_reject_leaves_nothing_and_the_rest_of_its_batch_stays() -> None:
    history = generate(1500)
    clean = _replayed(history)
    # A tasking accepted that was never issued: the live consumer dead-letters it (coordination rejects it).
    history.add("tasking", uuid.uuid4(), 2, TaskingAccepted(actor=LEAD, correlation_id="c", decision=PSTG,
                                                                    counts_against_target=True))
    replay = _replayed(history)
    assert len(replay.report.skipped) == 1 and replay.report.skipped[0].startswith("rejected")
    assert replay.report.events == clean.report.events == history.count - 1
    for table in ("event_log", "event_counts", "delivery_projects", "delivery_outcomes", "taskings",
                  "delivery_taskings", "open_progress"):
        assert _rows(replay, table) == _rows(clean, table), table


def test_the_rows_as_of_a_moment_are_those_valid_then() -> None:
    history = generate(4000)
    database = _replayed(history).database()
    span = history.last - history.first
    for fraction in (0.0, 0.13, 0.5, 0.77, 1.0):
        at = history.first + span * fraction
        clause, params = as_of_clause(at)
        for table in ("delivery_projects", "delivery_outcomes", "delivery_taskings", "delivery_targets"):
            expected = database.execute(f"SELECT * FROM {table} WHERE {clause}", params).fetchall()
            query, values = queries.as_of_rows(table, at)
            found = database.execute(query, values).fetchall()
            assert sorted(map(tuple, found)) == sorted(map(tuple, expected)), (table, at)


def test_the_roll_up_without_projects_has_the_same_actuals() -> None:
    history = generate(4000)
    database = _replayed(history).database()

    class Store:
        postgres = False

        def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
            return [dict(r) for r in database.execute(statement, list(params)).fetchall()]

        @contextmanager
        def transaction(self, commit: bool = True) -> Iterator[Store]:
            yield self

    store: Any = Store()
    for at in (None, history.first + (history.last - history.first) / 3, datetime(2030, 1, 1, tzinfo=UTC)):
        full = rollup.rollups(store, at)
        bare = rollup.rollups(store, at, with_projects=False)
        assert [(t["actual"], [s["actual"] for s in t["shares"]]) for t in full] == \
            [(t["actual"], [s["actual"] for s in t["shares"]]) for t in bare]
        if at is None:
            assert any(t["actual"] > Decimal(0) for t in full)
