"""Rules of a measure's values that every service applies alike, by the measure's unit.

A unit of the partnership (its definition's ``units``) counts or measures something that cannot fall below zero
(jobs, people, hectares, a percentage), except money, which can (a deficit, a loss).
"""

from __future__ import annotations

from decimal import Decimal

SIGNED_UNITS = frozenset({"GBP"})
"""Units whose values may be negative."""


def negative_refused(field: str, unit: str, value: Decimal, what: str) -> dict[str, str] | None:
    """The problem, naming ``field``, when ``value`` is below zero in a unit that cannot be; else None."""
    if value >= 0 or unit in SIGNED_UNITS:
        return None
    return {"field": field, "message": f"The {what} cannot be negative ({value}): a count of {unit or 'things'} "
                                       "cannot fall below zero."}
