"""deliveryProjectsConnection is paged in the database (``projects_listing``): on each axis (now, as recorded at a
moment, in force on a day) and with each filter (district, status, RAG), every page is the page of the whole list
that ``paginate`` gives in memory (how the connection read until it was paged in SQL), and a walk of pages meets
every project once. On SQLite here; on PostgreSQL in ``tests/integration/test_paging_in_postgres.py``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bench.reporting_history import History, generate
from services.reporting.delivery import queries
from services.reporting.graphql_common import paginate, paginate_listing
from services.reporting.rebuild import Replay
from services.reporting.temporal import At, When
from shared.readstore import ReadStore
from shared.settings import Settings
from tests.harness import settings_for

HISTORY: History = generate(2500, targets=2, projects_per_tasking=4)


def load(settings: Settings) -> ReadStore:
    """The history rebuilt into the reporting store (the rebuild swaps a new store in: open it after)."""
    replay = Replay("reporting")
    for events in HISTORY.events.values():
        for _, value in events:
            replay.apply(value)
    replay.load(settings, progress=False)
    return ReadStore(settings, "reporting")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ReadStore]:
    made = load(settings_for(data_dir=tmp_path))
    try:
        yield made
    finally:
        made.close()


def whens() -> list[When]:
    middle = HISTORY.first + (HISTORY.last - HISTORY.first) / 2
    return [None, middle, At(None, date(2012, 6, 1)), At(middle, date(2013, 1, 1))]


FILTERS: list[dict[str, Any]] = [{}, {"district": "worcester"}, {"status": "open"}, {"rag": "red"},
                                 {"rag": "green", "district": "wychavon"}, {"district": "nowhere"}]


def in_memory(store: ReadStore, when: When, filters: dict[str, Any], **page: Any) -> Any:
    rows = [r for r in queries.projects(store, when, filters.get("district"), filters.get("status"))
            if filters.get("rag") is None or r["rag"] == filters["rag"]]
    return paginate(rows, lambda r: (r["district"], r["opened_at"], r["id"]), lambda r: r["id"], **page)


def in_the_database(store: ReadStore, when: When, filters: dict[str, Any], **page: Any) -> Any:
    listing = queries.projects_listing(store.postgres, when, filters.get("district"), filters.get("status"),
                                       filters.get("rag"))
    return paginate_listing(store, listing, lambda r: r["id"], **page, sealed=True)


def shown(connection: Any) -> tuple[Any, ...]:
    return [e.cursor for e in connection.edges], [e.node for e in connection.edges], connection.page_info, \
        connection.total_count()


def test_every_page_on_every_axis_and_filter_is_the_page_of_the_whole_list(store: ReadStore) -> None:
    compared = 0
    for when in whens():
        for filters in FILTERS:
            whole = in_memory(store, when, filters, first=500, after=None)
            cursors = [None, *(e.cursor for e in whole.edges[::7])]
            for cursor in cursors:
                for page in ({"first": 5, "after": cursor}, {"last": 5, "before": cursor, "first": None,
                                                              "after": None}):
                    assert shown(in_the_database(store, when, filters, **page)) == shown(
                        in_memory(store, when, filters, **page)), (when, filters, page)
                    compared += 1
    assert compared > 100


def test_a_walk_of_pages_meets_every_project_once_in_order(store: ReadStore) -> None:
    every = in_memory(store, None, {}, first=500, after=None)
    assert every.total_count() > 40
    seen: list[str] = []
    after = None
    while True:
        page = in_the_database(store, None, {}, first=7, after=after)
        seen += [e.node for e in page.edges]
        if not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor
    assert seen == [e.node for e in every.edges]
