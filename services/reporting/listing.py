"""A list of read-model rows as SQL, so that a page of it is read in the database: the page's rows, and counts for
the rest, not every row of the list brought into Python to show ten (a list grows with the history, and so did
every page's cost)."""

from __future__ import annotations

from collections.abc import Sequence
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
    """Where a page lies in its list: the rows ``start`` to ``end`` (exclusive) of ``total``."""

    rows: list[dict[str, Any]]
    start: int
    end: int
    total: int


def page_bounds(total: int, after_at: int | None, before_at: int | None, first: int | None,
                last: int | None) -> tuple[int, int]:
    """Relay's ApplyCursorsToEdges then EdgesToReturn, on indices: the page is the rows ``start`` to ``end``
    (exclusive) of a list of ``total``, where ``after_at`` is the index of the first row after the `after` cursor
    and ``before_at`` of the first row at or after the `before` cursor. In memory (``paginate``) and in the
    database (``window``) alike."""
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
    rows after ``after`` and before ``before``, then the ``first`` of them, or the ``last``. One statement counts
    (the list, the rows up to ``after``, the rows before ``before``) and one reads the page, in one snapshot."""
    counts = ["COUNT(*)"]
    params: list[Any] = []
    if after is not None:  # the rows up to the cursor's: the index of the first row after it
        counts.append(f"COALESCE(SUM(CASE WHEN {_key_is(listing.key, '<=')} THEN 1 ELSE 0 END), 0)")
        params += after
    if before is not None:  # the rows before the cursor's: the index of the first row at or after it
        counts.append(f"COALESCE(SUM(CASE WHEN {_key_is(listing.key, '<')} THEN 1 ELSE 0 END), 0)")
        params += before
    with store.snapshot():
        found = store.query(f"SELECT {', '.join(f'{c} AS n{i}' for i, c in enumerate(counts))} "
                            f"FROM {listing.source} WHERE {listing.where}", [*params, *listing.params])[0]
        total = int(found["n0"])
        start, end = page_bounds(total, None if after is None else int(found["n1"]),
                                 None if before is None else int(found[f"n{len(counts) - 1}"]), first, last)
        rows: list[dict[str, Any]] = []
        if end > start:
            # By key, not by OFFSET: the page starts at its bound's index in the list, so the rows past the bound,
            # in order (backward: before it, from the end), are the page, and the index finds them.
            bounds, values = [listing.where], list(listing.params)
            if after is not None:
                bounds.append(_key_is(listing.key, ">"))
                values += after
            backward = last is not None
            if backward and before is not None:
                bounds.append(_key_is(listing.key, "<"))
                values += before
            order = ", ".join(f"{column} DESC" if backward else column for column in listing.key)
            statement = (f"SELECT * FROM {listing.source} WHERE {' AND '.join(f'({b})' for b in bounds)} "
                         f"ORDER BY {order} LIMIT {end - start}")
            rows = (store.query_sealed if sealed else store.query)(statement, values)
            if backward:
                rows.reverse()
    return Window(rows=rows, start=start, end=end, total=total)
