"""A measure's kind is implied by its unit, and its unit declares the range of its values (``shared.measures``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.measures import MeasureKind, kind_of, value_problems


@pytest.mark.parametrize(("unit", "kind"), [
    ("jobs", MeasureKind.COUNT), ("people", MeasureKind.COUNT), ("GBP", MeasureKind.COUNT),
    ("percent", MeasureKind.LEVEL), ("rate per 1000", MeasureKind.LEVEL), ("ratio", MeasureKind.RATIO),
])
def test_the_kind_of_a_measure_is_implied_by_its_unit(unit: str, kind: MeasureKind) -> None:
    assert kind_of(unit) is kind


@pytest.mark.parametrize(("unit", "value", "refused"), [
    ("percent", Decimal(0), False), ("percent", Decimal(100), False), ("percent", Decimal("100.1"), True),
    ("rate per 1000", Decimal(1000), False), ("rate per 1000", Decimal(1001), True),
    ("jobs", Decimal(10**9), False), ("jobs", Decimal(-1), True), ("GBP", Decimal(-1), False),
])
def test_a_level_outside_the_range_its_unit_declares_is_refused(unit: str, value: Decimal, refused: bool) -> None:
    problems = value_problems("values.rate", unit, value, "value")
    assert bool(problems) is refused
    assert all(p["field"] == "values.rate" for p in problems)
