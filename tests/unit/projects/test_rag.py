"""RAG from actual against the straight-line trajectory, at and beside the partnership's thresholds, as projects
judges it: through ``shared.performance``, the one function every service judges figures by."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.projects.domain import RagThresholds, figures_of, trajectory_of
from shared.contracts.projects import DirectionOfTravel, Outcome, Rag
from shared.performance import Figure, Trajectory, performance
from tests.unit.projects.conftest import THRESHOLDS, jobs_outcome

HALFWAY = date(2012, 7, 2)  # 183 of 366 days: the trajectory stands at 500 of 1,000 jobs


def assess(outcomes: list[Outcome], actuals: dict[str, Decimal], on: date,
           thresholds: RagThresholds) -> tuple[Rag, Decimal]:
    judged = performance(figures_of(outcomes, [(on, actuals)] if actuals else []), on, thresholds)
    return judged.rag, judged.shortfall_percent


def trajectory_value(outcome: Outcome, on: date) -> Decimal:
    return trajectory_of(outcome).expected_at(on)


def outcome_shortfall_percent(outcome: Outcome, actual: Decimal, on: date) -> Decimal | None:
    return Figure(trajectory_of(outcome), ((on, actual),)).shortfall_at(on)


def test_the_trajectory_is_a_straight_line_from_baseline_to_target() -> None:
    outcome = jobs_outcome(uuid4())
    assert trajectory_value(outcome, date(2012, 1, 1)) == 0
    assert trajectory_value(outcome, HALFWAY) == 500
    assert trajectory_value(outcome, date(2013, 1, 1)) == 1000
    assert trajectory_value(outcome, date(2014, 1, 1)) == 1000  # after the deadline the target stands
    assert trajectory_value(outcome, date(2011, 1, 1)) == 0


@pytest.mark.parametrize(("actual", "rag"), [
    (Decimal(600), Rag.GREEN),  # ahead
    (Decimal(500), Rag.GREEN),  # on the line
    (Decimal(450), Rag.GREEN),  # exactly 10 % behind: still green
    (Decimal("449.99"), Rag.AMBER),  # just beyond 10 %
    (Decimal(375), Rag.AMBER),  # exactly 25 % behind: still amber
    (Decimal("374.99"), Rag.RED),  # just beyond 25 %
    (Decimal(0), Rag.RED),
])
def test_rag_is_green_within_ten_percent_amber_within_twenty_five_and_red_beyond(actual: Decimal, rag: Rag) -> None:
    outcome = jobs_outcome(uuid4())
    assert assess([outcome], {"jobs": actual}, HALFWAY, THRESHOLDS)[0] is rag


def test_thresholds_come_from_the_partnership_definition() -> None:
    strict = RagThresholds(Decimal(5), Decimal(10))
    outcome = jobs_outcome(uuid4())
    assert assess([outcome], {"jobs": Decimal(450)}, HALFWAY, strict)[0] is Rag.AMBER


def test_a_falling_target_uses_the_same_formula() -> None:
    # Crime down from 1,000 to 500: halfway the line stands at 750; 800 delivers 200 of 250 planned: 20 % short.
    outcome = jobs_outcome(uuid4(), baseline_value=Decimal(1000), target_value=Decimal(500))
    assert outcome_shortfall_percent(outcome, Decimal(800), HALFWAY) == 20
    assert assess([outcome], {"jobs": Decimal(800)}, HALFWAY, THRESHOLDS)[0] is Rag.AMBER
    assert assess([outcome], {"jobs": Decimal(700)}, HALFWAY, THRESHOLDS)[0] is Rag.GREEN


def test_nothing_due_yet_is_green() -> None:
    outcome = jobs_outcome(uuid4())
    assert outcome_shortfall_percent(outcome, Decimal(0), date(2012, 1, 1)) is None
    assert assess([outcome], {}, date(2012, 1, 1), THRESHOLDS) == (Rag.GREEN, Decimal(0))


def test_weights_weigh_outcomes_in_the_project_rag() -> None:
    tasking = uuid4()
    full = jobs_outcome(tasking, id="a")
    half = jobs_outcome(tasking, id="b", weight=Decimal("0.5"))
    # a: 0 % short, b: 30 % short, weighted (0 x 1 + 30 x 0.5) / 1.5 = 10 %: green at the threshold.
    rag, shortfall = assess([full, half], {"a": Decimal(500), "b": Decimal(350)}, HALFWAY, THRESHOLDS)
    assert shortfall == 10
    assert rag is Rag.GREEN


def test_an_outcome_never_reported_counts_at_its_baseline() -> None:
    outcome = jobs_outcome(uuid4())
    assert assess([outcome], {}, HALFWAY, THRESHOLDS)[0] is Rag.RED


@pytest.mark.parametrize(("previous", "now", "direction"), [
    (None, Decimal(20), None),
    (Decimal(20), Decimal(10), DirectionOfTravel.IMPROVING),
    (Decimal(20), Decimal(19), DirectionOfTravel.IMPROVING),
    (Decimal(20), Decimal("19.5"), DirectionOfTravel.STEADY),
    (Decimal(20), Decimal("20.5"), DirectionOfTravel.STEADY),
    (Decimal(20), Decimal(21), DirectionOfTravel.WORSENING),
])
def test_direction_of_travel_compares_the_gap_with_the_previous_report(
        previous: Decimal | None, now: Decimal, direction: DirectionOfTravel | None) -> None:
    # A level line at 1,000 from 2012 (the trajectory reaches it at once): a shortfall of s % is 1,000 - 10 s.
    line = Trajectory(date(2012, 1, 1), Decimal(0), date(2012, 1, 2), Decimal(1000))
    reports = [(date(2012, 6, 1), 1000 - 10 * previous)] if previous is not None else []
    figure = Figure(line, (*reports, (date(2012, 9, 1), 1000 - 10 * now)))
    assert performance([figure], date(2012, 9, 1), THRESHOLDS).direction is direction
