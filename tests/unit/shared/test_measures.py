"""A measure's kind is implied by its unit, and its unit declares the range of its values (``shared.measures``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.measures import (
    MeasureKind,
    kind_of,
    parts_problems,
    ratio_value,
    rolled_up_ratio,
    summed,
    value_problems,
)


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


@pytest.mark.parametrize("unit", ["percent (ratio)", "per 1,000 (ratio)", "ratio"])
def test_a_ratio_unit_makes_a_ratio_never_summed(unit: str) -> None:
    assert kind_of(unit) is MeasureKind.RATIO and not summed(unit)
    assert summed("jobs") and not summed("percent")


def test_a_ratio_is_rolled_up_from_its_parts() -> None:
    # 90 of 100 in one district (90 %), 10 of 900 in another (1.1 %): the county is 100 of 1,000, 10 %, not the
    # 45.6 % the mean of the two ratios would say.
    parts = [(Decimal(90), Decimal(100)), (Decimal(10), Decimal(900))]
    assert rolled_up_ratio("percent (ratio)", parts) == Decimal(10)
    assert rolled_up_ratio("per 1,000 (ratio)", parts) == Decimal(100)
    assert rolled_up_ratio("percent (ratio)", []) is None
    assert ratio_value("ratio", Decimal(3), Decimal(2)) == Decimal("1.5")


@pytest.mark.parametrize(("numerator", "denominator", "fields"), [
    (Decimal(65), Decimal(100), []), (Decimal(100), Decimal(100), []),
    (Decimal(101), Decimal(100), ["values.rate"]), (Decimal(-1), Decimal(100), ["values.rate.numerator"]),
    (Decimal(1), Decimal(0), ["values.rate.denominator"]),
])
def test_a_ratios_parts_are_bounded_by_its_unit(numerator: Decimal, denominator: Decimal, fields: list[str]) -> None:
    problems = parts_problems("values.rate", "percent (ratio)", numerator, denominator, "the employment rate")
    assert [p["field"] for p in problems] == fields
