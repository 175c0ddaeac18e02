"""The read models stand on public integration events alone: built from a history without the services' internal
events (the district chapter's and the programme's bookkeeping), they hold the same rows as built from every
event, and the chapters' counts are those the chapter aggregate's own events record."""

from __future__ import annotations

import json
from functools import singledispatch
from typing import Any

import pytest

from bench.reporting_history import History
from services.reporting.declaration import ReadModel
from services.reporting.projections import ReportingProjection
from services.reporting.rebuild import Replay
from services.reporting.registry import READ_MODELS
from services.reporting.rows import Rows
from shared.contracts import Fact, contract_type
from shared.contracts.priorities import DistrictChapterOpened
from shared.contracts.publication import SERVICES, internal_events, is_public
from shared.envelope import Envelope
from tests.reporting_histories import varied

INTERNAL_TYPES = {contract_type(c) for service in SERVICES for c in internal_events(service)}


def _replayed(history: History, *, public_only: bool) -> Replay:
    replay = Replay("reporting")
    for events in history.events.values():
        for _, value in events:
            if public_only and _type(value) in INTERNAL_TYPES:
                continue
            replay.apply(value)
    return replay


def _type(value: bytes) -> str | None:
    try:
        found: str = json.loads(value)["type"]
    except ValueError:
        return None  # the malformed message: both replays skip it
    return found


def _rows(replay: Replay, table: str) -> list[tuple[Any, ...]]:
    return sorted(map(tuple, replay.table_rows(table)), key=repr)


def test_every_read_model_built_from_public_events_alone_equals_the_one_built_from_all() -> None:
    history = varied(projects=2)
    everything, public = _replayed(history, public_only=False), _replayed(history, public_only=True)
    internal = sum(1 for events in history.events.values() for _, v in events if _type(v) in INTERNAL_TYPES)
    assert internal >= 3  # the chapter was opened, took a place and freed it
    assert everything.report.events == public.report.events + internal
    tables = [table.name for model in READ_MODELS for table in model.tables]
    for table in tables:
        assert _rows(public, table) == _rows(everything, table), table
    # What the chapter aggregate recorded: opened (v1), a priority agreed (v2, one place), retired (v3, none).
    chapters = sorted((r[1], r[3]) for r in public.table_rows("district_chapters"))
    assert chapters == [(2, 1), (3, 0)]


def test_a_read_model_that_follows_an_internal_event_is_refused_at_start() -> None:
    assert all(is_public(contract) for model in READ_MODELS for contract in model.contracts)

    @singledispatch
    def project(fact: Fact, rows: Rows, envelope: Envelope) -> None:
        """Nothing."""

    @project.register
    def _opened(fact: DistrictChapterOpened, rows: Rows, envelope: Envelope) -> None:
        """A handler of the chapter's bookkeeping."""

    with pytest.raises(RuntimeError, match="chapters: DistrictChapterOpened"):
        ReportingProjection([ReadModel("chapters", (), project, type("Query", (), {}))])
