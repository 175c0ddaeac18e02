"""Relay cursor connections both ways, by the specification's own algorithm (ApplyCursorsToEdges, EdgesToReturn,
hasPreviousPage, hasNextPage): ``first``/``after`` forward, ``last``/``before`` backward, walked over a whole list
in each direction; and bad paging arguments are GraphQL errors with codes, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from services.reporting.graphql_common import GatewayError, encode_cursor, paginate

ROWS = [{"on": f"2024-01-{day:02d}", "id": f"r{day}"} for day in range(1, 12)]


def page(first: int | None = None, after: str | None = None, last: int | None = None,
         before: str | None = None) -> Any:
    return paginate(ROWS, lambda r: (r["on"], r["id"]), lambda r: r["id"], first, after, last, before)


def ids(connection: Any) -> list[str]:
    return [edge.node for edge in connection.edges]


def test_walking_forward_and_backward_meets_every_row_once_in_order() -> None:
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


def test_last_alone_is_the_end_of_the_list() -> None:
    got = page(last=2)
    assert ids(got) == ["r10", "r11"]
    assert got.page_info.has_previous_page and not got.page_info.has_next_page
    assert got.page_info.start_cursor == got.edges[0].cursor and got.page_info.end_cursor == got.edges[-1].cursor
    assert got.total_count == len(ROWS)


def test_after_and_before_bound_a_window_that_first_or_last_then_cut() -> None:
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
def test_bad_paging_is_a_bad_user_input_error_naming_its_argument(arguments: dict[str, Any], argument: str) -> None:
    with pytest.raises(GatewayError) as refused:
        page(**arguments)
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "argument": argument}
