"""A list of read-model rows as SQL, so that a page of it is read in the database: the page's rows and one past
them, not every row of the list brought into Python to show ten, nor counted to place the page (a list grows with
the history, and so did every page's cost)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.readstore import ReadStore


@dataclass(frozen=True)
class Listing:
    """The rows of ``source`` where ``where`` holds, in the order of the ``key`` columns (unique together, none of
    them NULL: what a cursor carries), whose values are of ``kinds`` (text unless said)."""

    source: str
    where: str
    params: tuple[Any, ...]
    key: tuple[str, ...]
    kinds: tuple[type, ...] = ()

    def of_kinds(self, parts: Sequence[Any]) -> bool:
        """Whether a cursor's parts are values of this list's key (a cursor of another list is not)."""
        kinds = self.kinds or (str,) * len(self.key)
        return len(parts) == len(kinds) and all(
            isinstance(part, kind) and not isinstance(part, bool) for part, kind in zip(parts, kinds, strict=True))


@dataclass(frozen=True)
class Window:
    """A page of a list and whether rows of the list lie before and after it; ``count()`` reads how many rows the
    whole list has, only when asked (a count reads every row of the list, and most pages are asked for without it)."""

    rows: list[dict[str, Any]]
    has_previous: bool
    has_next: bool
    count: Callable[[], int]


def page_bounds(total: int, after_at: int | None, before_at: int | None, first: int | None,
                last: int | None) -> tuple[int, int]:
    """Relay's ApplyCursorsToEdges then EdgesToReturn, on indices: the page is the rows ``start`` to ``end``
    (exclusive) of a list of ``total``, where ``after_at`` is the index of the first row after the `after` cursor
    and ``before_at`` of the first row at or after the `before` cursor. In memory (``paginate``); ``window`` gives
    the same pages by key in the database."""
    start, end = 0, total
    if after_at is not None:
        start = after_at
    if before_at is not None:
        end = max(start, before_at)
    if last is not None:
        start = max(start, end - last)
    elif first is not None:
        end = min(end, start + first)
    return start, end


def _key_is(key: Sequence[str], operator: str) -> str:
    # Row values compare column by column, as ORDER BY sorts: PostgreSQL and SQLite (3.15 on) both have them.
    return f"({', '.join(key)}) {operator} ({', '.join('?' for _ in key)})"


def window(store: ReadStore, listing: Listing, *, after: Sequence[Any] | None, before: Sequence[Any] | None,
           first: int | None, last: int | None, sealed: bool = False) -> Window:
    """The page of ``listing`` that Relay's algorithm gives (``paginate`` over the whole list gives the same): the
    rows after ``after`` and before ``before``, then the ``first`` of them, or the ``last``.

    By key, not by position: one statement reads the page and one row past it (whether more of the range follow
    it, or precede it backward), and only with a cursor one more asks whether any row of the list lies at or before
    ``after`` (a previous page) or at or after ``before`` (a next page). So a page costs what its rows cost, however
    long the list has grown; the list's length is counted only when ``count()`` is called, in the snapshot of the
    caller (a GraphQL request reads all its fields from one: ``ReadStore.snapshot``)."""
    backward = last is not None
    size = last if backward else first
    bounds: list[str] = []
    values: list[Any] = []
    if after is not None:
        bounds.append(_key_is(listing.key, ">"))
        values += after
    if before is not None:
        bounds.append(_key_is(listing.key, "<"))
        values += before
    order = ", ".join(f"{column} DESC" if backward else column for column in listing.key)
    statement = (f"SELECT * FROM {listing.source} WHERE {_where(listing, bounds)} ORDER BY {order}"
                 + ("" if size is None else f" LIMIT {size + 1}"))
    # Rows outside the range: at or before ``after`` precede every page of it; at or after ``before`` (and past
    # ``after``: a ``before`` at or before ``after`` leaves the range empty) follow it.
    probes: dict[str, tuple[list[str], list[Any]]] = {}
    if after is not None:
        probes["preceded"] = ([_key_is(listing.key, "<=")], list(after))
    if before is not None:
        probes["followed"] = ([_key_is(listing.key, ">="), *([_key_is(listing.key, ">")] if after is not None else [])],
                              [*before, *(after or ())])
    with store.snapshot():
        rows = (store.query_sealed if sealed else store.query)(statement, [*listing.params, *values])
        found = store.query("SELECT " + ", ".join(
            f"EXISTS (SELECT 1 FROM {listing.source} WHERE {_where(listing, probe)}) AS {name}"
            for name, (probe, _) in probes.items()),
            [v for _, given in probes.values() for v in [*listing.params, *given]])[0] if probes else {}
    more = size is not None and len(rows) > size
    rows = rows[:size] if size is not None else rows
    if backward:
        rows.reverse()

    def count() -> int:
        with store.snapshot():
            return int(store.query(f"SELECT COUNT(*) AS n FROM {listing.source} WHERE {_where(listing, [])}",
                                   list(listing.params))[0]["n"])

    return Window(rows=rows, has_previous=(backward and more) or bool(found.get("preceded")),
                  has_next=(not backward and more) or bool(found.get("followed")), count=count)


def _where(listing: Listing, bounds: Sequence[str]) -> str:
    """The listing's condition and ``bounds`` (the listing's parameters come first, then the bounds')."""
    return " AND ".join(f"({b})" for b in [listing.where, *bounds])
