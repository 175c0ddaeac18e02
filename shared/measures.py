"""Rules of a measure's values that every service applies alike, by the measure's unit: its kind (count, level,
ratio), whether it may be negative, and the range its unit declares.

A unit of the partnership (its definition's ``units``) counts or measures something that cannot fall below zero
(jobs, people, hectares, a percentage), except money, which can (a deficit, a loss).
"""

from __future__ import annotations

from collections.abc import Iterable
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
    ``ratio``: a numerator and a denominator reported separately (residents in employment of residents of working
    age): its value is their ratio in its unit, and a roll-up sums the numerators and the denominators and divides at
    the end, never averaging ratios; like a level, a county ratio target is cascaded as each district's own ratio.
    """

    COUNT = "count"
    LEVEL = "level"
    RATIO = "ratio"


LEVEL_UNITS = frozenset({"percent", "%", "rate per 1000", "rate per 1,000", "per 1000", "per 1,000"})
RATIO_UNITS: dict[str, Decimal] = {"ratio": Decimal(1), "percent (ratio)": Decimal(100),
                                   "per 1,000 (ratio)": Decimal(1000), "per 1000 (ratio)": Decimal(1000)}
"""The units of a ratio, each with its scale: the value is numerator / denominator x scale (a percentage: x 100)."""

UNIT_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "percent": (Decimal(0), Decimal(100)), "%": (Decimal(0), Decimal(100)),
    "rate per 1000": (Decimal(0), Decimal(1000)), "rate per 1,000": (Decimal(0), Decimal(1000)),
    "per 1000": (Decimal(0), Decimal(1000)), "per 1,000": (Decimal(0), Decimal(1000)),
    "percent (ratio)": (Decimal(0), Decimal(100)),
    "per 1,000 (ratio)": (Decimal(0), Decimal(1000)), "per 1000 (ratio)": (Decimal(0), Decimal(1000)),
}
"""The range a level's or a ratio's unit declares: a percentage is 0-100, a rate per 1,000 is 0-1,000."""


def kind_of(unit: str) -> MeasureKind:
    """The kind a unit implies: a percentage or a rate is a level, ``ratio`` a ratio, anything else a count."""
    name = unit.strip().lower()
    if name in RATIO_UNITS:
        return MeasureKind.RATIO
    if name in LEVEL_UNITS or name.startswith("rate"):
        return MeasureKind.LEVEL
    return MeasureKind.COUNT


def summed(unit: str) -> bool:
    """Whether values in ``unit`` add up across districts: a count's do; a level's and a ratio's never."""
    return kind_of(unit) is MeasureKind.COUNT


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


def ratio_value(unit: str, numerator: Decimal, denominator: Decimal) -> Decimal:
    """A ratio's value in its unit: numerator / denominator x the unit's scale (a percentage: x 100)."""
    return numerator / denominator * RATIO_UNITS[unit.strip().lower()]


def summed_parts(parts: Iterable[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    """The numerators summed and the denominators summed: what a ratio's roll-up divides."""
    numerators = denominators = Decimal(0)
    for numerator, denominator in parts:
        numerators += numerator
        denominators += denominator
    return numerators, denominators


def rolled_up_ratio(unit: str, parts: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """A ratio rolled up from its parts: the sum of the numerators over the sum of the denominators, in its unit
    (never the mean of the ratios); None with no parts (nothing reported)."""
    numerators, denominators = summed_parts(parts)
    return None if denominators == 0 else ratio_value(unit, numerators, denominators)


def parts_problems(field: str, unit: str, numerator: Decimal, denominator: Decimal,
                   what: str) -> list[dict[str, str]]:
    """Every problem of a ratio's reported parts, naming ``field``: a numerator below zero, a denominator not above
    zero, or a ratio outside the range its unit declares (a percentage above 100: more in employment than of
    working age)."""
    problems = []
    if numerator < 0:
        problems.append({"field": f"{field}.numerator",
                         "message": f"The numerator of {what} cannot be negative ({numerator})."})
    if denominator <= 0:
        problems.append({"field": f"{field}.denominator",
                         "message": f"The denominator of {what} must be more than zero ({denominator}): "
                                    "a ratio of nothing is no figure."})
    if not problems:
        problems += value_problems(field, unit, ratio_value(unit, numerator, denominator), what)
    return problems
