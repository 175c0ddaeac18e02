"""The one CSV writer: every CSV the system writes (scrutiny packs, open data, bulk-upload reports) goes through
``write_csv``, so no cell a spreadsheet would read as a formula leaves the system.

Following OWASP's CSV injection guidance, a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (or their full-width forms U+FF1D, U+FF0B, U+FF0D, U+FF20), after any leading spaces, is prefixed with a
single quote, and every text cell is quoted (inner quotes doubled). Which cells are text comes from the column's
declared kind, not from the value: a number column keeps ``-12.5`` a number (a shortfall is negative), a date column
keeps ``2013-04-01``; a value that does not have its column's shape (a number column holding words) is treated as
text. The JSON forms
of the same data are not touched: they keep the text as entered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


class Kind(Enum):
    """What a column holds, as a spreadsheet should read it."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    MOMENT = "datetime"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT


FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
"""What a spreadsheet may read as the start of a formula (OWASP), with the full-width forms some read the same."""

_SHAPES = {
    Kind.NUMBER: re.compile(r"-?\d+(\.\d+)?"),
    Kind.DATE: re.compile(r"\d{4}-\d{2}-\d{2}"),
    Kind.MOMENT: re.compile(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?"),
    Kind.BOOLEAN: re.compile(r"true|false"),
}


def neutralise(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates: prefixed with ``'`` when it could start a formula."""
    return "'" + text if text.lstrip(" ")[:1] in FORMULA_STARTS else text


def _quoted(text: str) -> str:
    return '"' + neutralise(text).replace('"', '""') + '"'


def _plain(value: Any, kind: Kind) -> str | None:
    """The value written bare in a column of ``kind``, or None when it must be written as text."""
    if kind is Kind.NUMBER:
        if isinstance(value, bool):
            return None
        if isinstance(value, Decimal):
            text = format(value.normalize(), "f") if value.is_finite() else ""
        elif isinstance(value, int | float):
            text = format(Decimal(str(value)).normalize(), "f")
        else:
            text = str(value).strip()
    elif isinstance(value, date) and (kind is Kind.MOMENT) == isinstance(value, datetime) and kind in (
            Kind.DATE, Kind.MOMENT):
        text = value.isoformat()
    elif kind is Kind.BOOLEAN and isinstance(value, bool):
        text = "true" if value else "false"
    elif kind is Kind.TEXT:
        return None
    else:
        text = str(value).strip()
    return text if _SHAPES[kind].fullmatch(text) else None


def cell(value: Any, kind: Kind = Kind.TEXT) -> str:
    """One CSV cell of a column of ``kind`` (empty for None)."""
    if value is None:
        return ""
    plain = _plain(value, kind)
    return plain if plain is not None else _quoted(str(value))


def write_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> str:
    """A whole CSV document (RFC 4180, CRLF line ends): a header, then one line per row. A row is a sequence in
    column order or a mapping by column name (a missing name is an empty cell)."""
    lines = [",".join(_quoted(c.name) for c in columns)]
    for row in rows:
        values = [row.get(c.name) for c in columns] if isinstance(row, Mapping) else list(row)
        if len(values) != len(columns):
            raise ValueError(f"a row has {len(values)} cells for {len(columns)} columns")
        lines.append(",".join(cell(v, c.kind) for v, c in zip(values, columns, strict=True)))
    return "\r\n".join(lines) + "\r\n"
