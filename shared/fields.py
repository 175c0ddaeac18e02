"""The field types of every command's body: text that is safe to store and show, dates that are dates, numbers that
fit. Declared once here; every request model uses them, so a rule about input lives in one place.

- ``Line`` (a title, a name, an id) and ``Text`` (a reason, a narrative: tab and newline allowed) refuse control
  characters (C0, DEL, C1), the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069,
  which can make a title read differently from what it says; the marks LRM and RLM stay) and unpaired surrogates,
  and are normalised to NFC, so one title has one spelling.
- ``Day`` is a calendar date written ``YYYY-MM-DD``: a number is not read as a Unix timestamp.
- ``Moment`` is a date and time written in ISO 8601, never a number.
- ``Figure`` is a finite decimal that the arithmetic of the roll-ups can hold (smaller than 10^15, at most 15
  significant digits and 10 places), ``Whole`` an integer that fits every store and every partner's JSON parser.
  Both publish their bounds in every command's JSON Schema. These are the outer envelope: the figures' own ranges
  (by unit and kind, ``shared.measures``) are rules of the domain.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

SEALED_PREFIX = "sealed:v1:"
"""How text sealed by the people vault (``shared.audit.people``) begins: defined here, below the contracts, so that
entry can refuse it without importing the vault."""

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MULTI_LINE = frozenset("\t\n")


def _unsafe(char: str, allowed: frozenset[str]) -> str | None:
    """Why ``char`` may not be stored in text, or None."""
    if char in allowed:
        return None
    point = ord(char)
    if point < 0x20 or 0x7F <= point <= 0x9F:
        return "a control character"
    if char in _BIDI_CONTROLS:
        return "a bidirectional override"
    if 0xD800 <= point <= 0xDFFF:
        return "half of a surrogate pair (not a character)"
    return None


def clean_text(value: str, *, multi_line: bool = False) -> str:
    """``value`` in NFC, or ValueError naming the first character refused (see the module doc)."""
    if multi_line:
        value = value.replace("\r\n", "\n")  # a newline typed on Windows is still a newline
    allowed = _MULTI_LINE if multi_line else frozenset()
    if SEALED_PREFIX in value:
        # Readers open every sealed value they meet, so a ciphertext copied from a topic into a title would be
        # shown opened where its own field is not shown: no one types the vault's marker.
        raise ValueError(f"it holds '{SEALED_PREFIX}', the mark of text sealed by the people vault: remove it")
    for position, char in enumerate(value, start=1):
        why = _unsafe(char, allowed)
        if why is not None:
            hint = "" if multi_line or char not in _MULTI_LINE else " (this field is one line)"
            raise ValueError(f"character {position} is {why}, U+{ord(char):04X}{hint}: remove it")
    return unicodedata.normalize("NFC", value)


def _line(value: str) -> str:
    try:
        return clean_text(value)
    except ValueError as error:
        raise PydanticCustomError("text_character", "The text may not contain it: {reason}",
                                  {"reason": str(error)}) from None


def _text(value: str) -> str:
    try:
        return clean_text(value, multi_line=True)
    except ValueError as error:
        raise PydanticCustomError("text_character", "The text may not contain it: {reason}",
                                  {"reason": str(error)}) from None


Line = Annotated[str, AfterValidator(_line)]
"""One line of text: a title, a name, a code."""
Text = Annotated[str, AfterValidator(_text)]
"""Text that may run over several lines (tab and newline allowed): a reason, a narrative, a description."""

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?")


def parse_day(text: str) -> date:
    """A date written ``YYYY-MM-DD`` (for input read without pydantic, such as CSV cells), or ValueError."""
    if not _DAY.fullmatch(text.strip()):
        raise ValueError("a date is written YYYY-MM-DD")
    return date.fromisoformat(text.strip())


def _day(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value.strip()):
        return value.strip()
    raise PydanticCustomError("date_format", "A date is written YYYY-MM-DD, e.g. 2011-04-01")


def _moment(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _MOMENT.fullmatch(value.strip()):
        return value.strip()
    raise PydanticCustomError("datetime_format",
                              "A moment is written in ISO 8601, e.g. 2013-03-01T09:00:00Z or 2013-03-01")


Day = Annotated[date, BeforeValidator(_day)]
"""A calendar date, ``YYYY-MM-DD``."""
Moment = Annotated[datetime, BeforeValidator(_moment)]
"""A date and time in ISO 8601 (a date alone is its midnight)."""

FIGURE_LIMIT = Decimal(10) ** 18
"""The bound of a decimal on the wire (events): wider than an entered figure's, as events also carry figures derived
from entered ones (a shortfall in percent, a sum across districts)."""
FIGURE_PLACES = 10
ENTRY_LIMIT = Decimal(10) ** 15
"""An entered figure is smaller than this in size: every sum and ratio the roll-ups and packs form of entered
figures stays exact within the decimal context (28 digits)."""
ENTRY_DIGITS = 15
"""An entered figure has at most this many significant digits (what a double holds exactly, so a partner's JSON
parser reads back what it sent)."""
WHOLE_LIMIT = 2**53  # the largest integers a JavaScript (or any IEEE double) JSON parser reads exactly

ENTRY_PATTERN = rf"^-?[0-9]{{1,{ENTRY_DIGITS}}}(\.[0-9]{{1,{FIGURE_PLACES}}})?$"
"""An entered figure written as text (its bounds, but for the count of significant digits, which a pattern cannot
say together with the places)."""
_ENTRY_BOUNDS = (f"A finite decimal smaller than 10^{ENTRY_DIGITS} in size, with at most {ENTRY_DIGITS} significant "
                 f"digits and {FIGURE_PLACES} decimal places; send it as a string to keep it exact.")


def _figure(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise PydanticCustomError("figure_range", "A figure is a finite number")
    if abs(value) >= ENTRY_LIMIT:
        raise PydanticCustomError("figure_range", "A figure is smaller than 10^{digits} in size",
                                  {"digits": ENTRY_DIGITS})
    _, digits, exponent = value.normalize().as_tuple()
    if isinstance(exponent, int) and -exponent > FIGURE_PLACES:
        raise PydanticCustomError("figure_range", "A figure has at most {places} decimal places",
                                  {"places": FIGURE_PLACES})
    significant = len(digits) if value else 0
    if significant > ENTRY_DIGITS:
        raise PydanticCustomError("figure_range", "A figure has at most {digits} significant digits",
                                  {"digits": ENTRY_DIGITS})
    return value


def _figure_schema(schema: dict[str, Any]) -> None:
    """Publish the bounds in the JSON Schema of every command (OpenAPI): on the number branch as exclusive bounds
    (a further ``gt``/``ge`` of the field stays, as pydantic wrote it), on the string branch as the pattern."""
    branches = schema.get("anyOf", [schema])
    for branch in branches:
        if branch.get("type") == "number":
            # One bound a side: a field's own ge/le (``minimum``) is already tighter, and a schema carrying both
            # kinds is ambiguous to its readers (Redocly's no-mixed-number-range-constraints).
            if "minimum" not in branch:
                branch.setdefault("exclusiveMinimum", -float(ENTRY_LIMIT))
            if "maximum" not in branch:
                branch.setdefault("exclusiveMaximum", float(ENTRY_LIMIT))
        elif branch.get("type") == "string":
            branch["pattern"] = ENTRY_PATTERN
    schema.setdefault("description", _ENTRY_BOUNDS)


Figure = Annotated[Decimal, AfterValidator(_figure), Field(json_schema_extra=_figure_schema)]
"""A finite decimal smaller than 10^15 in size, with at most 15 significant digits and 10 decimal places: every
numeric field of every command that is not a whole number."""
def parse_figure(text: str) -> Decimal:
    """A figure written as text, within Figure's bounds (for input read without pydantic, such as CSV cells), or
    ValueError: "not a number", or "out of range: " and the bound it breaks."""
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        raise ValueError("not a number") from None
    try:
        return _figure(value)
    except PydanticCustomError as error:
        raise ValueError(f"out of range: {error.message()}") from None


figure_in_range = AfterValidator(_figure)
"""Figure's check, for an optional figure with constraints of its own: ``Annotated[Decimal, Field(gt=0),
figure_in_range, figure_published] | None`` (constraints placed after the check would leak into the JSON Schema as
unknown keys)."""
figure_published = Field(json_schema_extra=_figure_schema)
"""Figure's bounds in the JSON Schema, for such an optional figure."""
Whole = Annotated[int, Field(ge=1 - WHOLE_LIMIT, le=WHOLE_LIMIT - 1)]  # inclusive: a further ge=1 replaces one bound
"""An integer smaller than 2^53 in size."""

# -- the same rules as the JSON Schema patterns of the published event contracts (shared.contracts) ------------------
_INTEGER_DIGITS = len(str(FIGURE_LIMIT)) - 1  # a figure smaller than 10^18 has at most 18 digits before the point

DAY_PATTERN = f"^{_DAY.pattern}$"
"""A Day as text (the published schemas' ``pattern`` of a date)."""
MOMENT_PATTERN = f"^{_MOMENT.pattern}$"
"""A Moment as text."""
FIGURE_PATTERN = rf"^-?[0-9]{{1,{_INTEGER_DIGITS}}}(\.[0-9]{{1,{FIGURE_PLACES}}})?$"
"""A Figure written out in full (no exponent): its bounds, 10^18 and FIGURE_PLACES decimal places, as text."""
DECIMAL_TEXT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?(E[+-][0-9]+)?$"
"""Any finite decimal as Python writes it (``str(Decimal)``: an exponent below 10^-6 or for a trailing-zero
integer such as 1E+2): what release 1 published, so the pattern its schemas could promise."""


def figure_text(value: Decimal) -> str:
    """A decimal written out in full, never with an exponent (``1E-7`` -> ``0.0000001``): what FIGURE_PATTERN reads."""
    return format(value, "f")
