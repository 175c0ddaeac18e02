"""Relay cursor connections both ways, by the specification's own algorithm (ApplyCursorsToEdges, EdgesToReturn,
hasPreviousPage, hasNextPage): ``first``/``after`` forward, ``last``/``before`` backward, walked over a whole list
in each direction; and bad paging arguments are GraphQL errors with codes, never a crash. Each test runs on a list
in memory (``paginate``) and on the same rows paged in the database (``paginate_listing``: SQLite here, PostgreSQL
in ``tests/integration/test_paging_in_postgres.py``), which must give the same pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.reporting.graphql_common import GatewayError, encode_cursor, paginate, paginate_listing
from services.reporting.listing import Listing
from shared.readstore import ReadStore
from tests.harness import settings_for

ROWS = [{"on": f"2024-01-{day:02d}", "id": f"r{day}"} for day in range(1, 12)]

Pager = Callable[..., Any]


def in_memory(first: int | None = None, after: str | None = None, last: int | None = None,
              before: str | None = None) -> Any:
    return paginate(ROWS, lambda r: (r["on"], r["id"]), lambda r: r["id"], first, after, last, before)


def stored_rows(store: ReadStore) -> Pager:
    """ROWS in a table of ``store`` (shuffled in: the order is the listing's), with a row outside the listing."""
    store.migrate(["CREATE TABLE IF NOT EXISTS listed (id TEXT PRIMARY KEY, added_at TEXT NOT NULL, kept TEXT)"])
    with store.transaction() as tx:
        for row in [*ROWS[5:], {"on": "2024-01-00", "id": "gone"}, *ROWS[:5]]:
            tx.execute("INSERT INTO listed (id, added_at, kept) VALUES (?, ?, ?)",
                       [row["id"], row["on"], "no" if row["id"] == "gone" else "yes"])
    listing = Listing("listed", "kept = ?", ("yes",), ("added_at", "id"))

    def page(first: int | None = None, after: str | None = None, last: int | None = None,
             before: str | None = None) -> Any:
        return paginate_listing(store, listing, lambda r: r["id"], first, after, last, before)
    return page


@pytest.fixture(params=["in memory", "in the database"])
def page(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pager]:
    if request.param == "in memory":
        yield in_memory
        return
    store = ReadStore(settings_for(data_dir=tmp_path), "paging")
    try:
        yield stored_rows(store)
    finally:
        store.close()


def ids(connection: Any) -> list[str]:
    return [edge.node for edge in connection.edges]


def test_walking_forward_and_backward_meets_every_row_once_in_order(page: Pager) -> None:
    forward: list[str] = []
    after = None
    while True:
        got = page(first=3, after=after)
        forward += ids(got)
        assert got.page_info.has_previous_page == (after is not None)
        if not got.page_info.has_next_page:
            break
        after = got.page_info.end_cursor
    backward: list[str] = []
    before = None
    while True:
        got = page(last=3, before=before)
        backward = ids(got) + backward
        assert got.page_info.has_next_page == (before is not None)
        if not got.page_info.has_previous_page:
            break
        before = got.page_info.start_cursor
    assert forward == backward == [r["id"] for r in ROWS]


def test_last_alone_is_the_end_of_the_list(page: Pager) -> None:
    got = page(last=2)
    assert ids(got) == ["r10", "r11"]
    assert got.page_info.has_previous_page and not got.page_info.has_next_page
    assert got.page_info.start_cursor == got.edges[0].cursor and got.page_info.end_cursor == got.edges[-1].cursor
    assert got.total_count() == len(ROWS)


def test_after_and_before_bound_a_window_that_first_or_last_then_cut(page: Pager) -> None:
    after, before = encode_cursor(("2024-01-03", "r3")), encode_cursor(("2024-01-08", "r8"))
    assert ids(page(after=after, before=before)) == ["r4", "r5", "r6", "r7"]
    assert ids(page(first=2, after=after, before=before)) == ["r4", "r5"]
    window = page(last=2, after=after, before=before)
    assert ids(window) == ["r6", "r7"]
    assert window.page_info.has_previous_page and window.page_info.has_next_page
    assert ids(page(after=before, before=after)) == []  # an empty window, not an error


@pytest.mark.parametrize(("arguments", "argument"), [
    ({"first": 2, "last": 2}, "last"),
    ({"last": -1}, "last"),
    ({"last": 100_000}, "last"),
    ({"before": "nonsense!"}, "before"),
    ({"after": "nonsense!"}, "after"),
    ({"before": encode_cursor(["only-one-part"])}, "before"),
    ({"after": encode_cursor([3, 4])}, "after"),
])
def test_bad_paging_is_a_bad_user_input_error_naming_its_argument(page: Pager, arguments: dict[str, Any],
                                                                  argument: str) -> None:
    with pytest.raises(GatewayError) as refused:
        page(**arguments)
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "argument": argument}


def test_every_window_is_the_same_in_the_database_as_in_memory(page: Pager) -> None:
    """Every first/after/last/before of the list, cursor by cursor, against the in-memory pages."""
    cursors = [None, *(encode_cursor((r["on"], r["id"])) for r in ROWS), encode_cursor(("2023-12-31", "r0")),
               encode_cursor(("2024-02-01", "r99"))]
    for after in cursors:
        for before in cursors:
            for size in (0, 1, 3, 20):
                for forward in (True, False):
                    arguments = {"after": after, "before": before, "first" if forward else "last": size}
                    got, want = page(**arguments), in_memory(**arguments)
                    assert (ids(got), got.page_info, got.total_count()) == (ids(want), want.page_info,
                                                                            want.total_count()), arguments


def test_a_page_in_the_database_reads_only_its_own_rows_and_counts_the_list_only_when_asked(tmp_path: Path) -> None:
    store = ReadStore(settings_for(data_dir=tmp_path), "paging")
    read: list[tuple[str, int]] = []
    query = store.query

    def counted(statement: str, params: Any = ()) -> list[dict[str, Any]]:
        rows = query(statement, params)
        read.append((statement, len(rows)))
        return rows

    try:
        page = stored_rows(store)
        store.query = counted  # type: ignore[method-assign]
        got = page(first=3, after=encode_cursor((ROWS[4]["on"], ROWS[4]["id"])))
        paged = list(read)
        total = got.total_count()
    finally:
        store.close()
    assert ids(got) == ["r6", "r7", "r8"] and got.page_info.has_next_page and got.page_info.has_previous_page
    # The page and the row past it, then whether any row precedes the cursor: not the eleven rows of the list, and
    # no count of them (the code before counted first: a count reads every row, however long the list has grown).
    assert [rows for _, rows in paged] == [4, 1] and not any("COUNT" in statement for statement, _ in paged)
    assert total == len(ROWS) and "COUNT" in read[-1][0] and len(read) == 3
