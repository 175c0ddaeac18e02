"""Rules of a measure's values that every service applies alike, by the measure's unit: its kind (count, level,
ratio), whether it may be negative, and the range its unit declares.

A unit of the partnership (its definition's ``units``) counts or measures something that cannot fall below zero
(jobs, people, hectares, a percentage), except money, which can (a deficit, a loss).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

SIGNED_UNITS = frozenset({"GBP"})
"""Units whose values may be negative."""


def negative_refused(field: str, unit: str, value: Decimal, what: str) -> dict[str, str] | None:
    """The problem, naming ``field``, when ``value`` is below zero in a unit that cannot be; else None."""
    if value >= 0 or unit in SIGNED_UNITS:
        return None
    return {"field": field, "message": f"The {what} cannot be negative ({value}): a count of {unit or 'things'} "
                                       "cannot fall below zero."}


class MeasureKind(StrEnum):
    """What a measure's values are, which says how they add up.

    ``count``: new things counted (jobs created, houses built): additive, so district shares of a county target add
    up to it, and a share is a part of the target's improvement (target minus baseline), not of its value.
    ``level``: a stock or a rate (an employment rate, a rate per 1,000): never summed across districts; a county
    level target is cascaded as each district's own target level.
    ``ratio``: a numerator and a denominator reported separately and rolled up by summing each (not yet enterable).
    """

    COUNT = "count"
    LEVEL = "level"
    RATIO = "ratio"


LEVEL_UNITS = frozenset({"percent", "%", "rate per 1000", "rate per 1,000", "per 1000", "per 1,000"})
RATIO_UNITS = frozenset({"ratio"})

UNIT_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "percent": (Decimal(0), Decimal(100)), "%": (Decimal(0), Decimal(100)),
    "rate per 1000": (Decimal(0), Decimal(1000)), "rate per 1,000": (Decimal(0), Decimal(1000)),
    "per 1000": (Decimal(0), Decimal(1000)), "per 1,000": (Decimal(0), Decimal(1000)),
}
"""The range a level's unit declares: a percentage is 0-100, a rate per 1,000 is 0-1,000."""


def kind_of(unit: str) -> MeasureKind:
    """The kind a unit implies: a percentage or a rate is a level, ``ratio`` a ratio, anything else a count."""
    name = unit.strip().lower()
    if name in LEVEL_UNITS or name.startswith("rate"):
        return MeasureKind.LEVEL
    if name in RATIO_UNITS:
        return MeasureKind.RATIO
    return MeasureKind.COUNT


def out_of_range(field: str, unit: str, value: Decimal, what: str) -> dict[str, str] | None:
    """The problem, naming ``field``, when ``value`` lies outside the range its unit declares; else None."""
    bounds = UNIT_RANGES.get(unit.strip().lower())
    if bounds is None or bounds[0] <= value <= bounds[1]:
        return None
    low, high = bounds
    return {"field": field, "message": f"The {what} ({value}) lies outside what a {unit} can be: "
                                       f"{low} to {high}."}


def value_problems(field: str, unit: str, value: Decimal, what: str) -> list[dict[str, str]]:
    """Every problem of one entered value in ``unit``: below zero where it cannot be, outside its unit's range."""
    return [p for p in (negative_refused(field, unit, value, what), out_of_range(field, unit, value, what))
            if p is not None]
