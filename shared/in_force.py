"""When a fact is in force: the second time axis (``inForceOn``), said once.

A fact is *recorded* when its event is stored (the ``asOf`` axis). It is *in force* from a date of the business:

1. a correction takes the date of what it corrects (a corrected progress report: ``corrected_report_on``);
2. a fact taken under a decision is in force from the decision's date (``decision.decided_on``), however long
   after it was entered;
3. a fact without a decision, from its own business date: a report's ``reported_on``, a meeting's ``held_on``,
   a membership's ``joined_on`` / ``left_on``, the partnership's founding ``founded_on``;
4. only a fact with neither is in force from the day it was recorded (UTC).

Back-filled history (a partnership moving onto the system enters years of decisions in a week) is the normal case:
its facts are recorded today and in force from their decisions' dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.contracts import Fact

CORRECTED_DATE_FIELDS = ("corrected_report_on",)
"""Fields naming the business date of the fact a correction corrects (rule 1)."""

BUSINESS_DATE_FIELDS = ("reported_on", "held_on", "joined_on", "left_on", "founded_on")
"""A fact's own business date, when it has one and no decision (rule 3)."""


def recorded_day(recorded_at: datetime) -> date:
    """The UTC day of a moment of recording (rule 4)."""
    aware = recorded_at if recorded_at.tzinfo is not None else recorded_at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def in_force_from(fact: Fact, recorded_at: datetime) -> date:
    """The first day ``fact`` is in force (the rules above, in their order)."""
    for name in CORRECTED_DATE_FIELDS:
        corrected = getattr(fact, name, None)
        if isinstance(corrected, date):
            return corrected
    if fact.decision is not None:
        return fact.decision.decided_on
    for name in BUSINESS_DATE_FIELDS:
        business = getattr(fact, name, None)
        if isinstance(business, date):
            return business
    return recorded_day(recorded_at)
