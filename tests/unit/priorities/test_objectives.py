"""Objectives form a tree; they are reworded and retired only by a decision with a reason, never deleted."""

from __future__ import annotations

import pytest

from services.priorities.domain import Objective
from shared.contracts.priorities import StrategyLevel
from shared.errors import InvalidCommand, RuleViolated
from tests.unit.priorities.builders import BOARD, OFFICER, jobs_objective, scs_objective


def test_a_county_strategy_objective_sits_under_an_scs_objective_or_one_of_its_own_strategy() -> None:
    scs = scs_objective()
    employability = Objective.add(OFFICER, title="Enhance employability levels", level=StrategyLevel.COUNTY_STRATEGY,
                                  strategy="County Economic Strategy", parent=scs)
    jobs = Objective.add(OFFICER, title="Create jobs in the private sector", level=StrategyLevel.COUNTY_STRATEGY,
                         strategy="County Economic Strategy", parent=employability)
    assert jobs.parent_id == employability.id
    with pytest.raises(InvalidCommand):
        Objective.add(OFFICER, title="Affordable homes", level=StrategyLevel.COUNTY_STRATEGY,
                      strategy="County Housing Strategy", parent=employability)


def test_an_scs_objective_has_no_parent_and_a_county_one_needs_one() -> None:
    with pytest.raises(InvalidCommand):
        Objective.add(OFFICER, title="x", level=StrategyLevel.SCS, strategy="SCS", parent=scs_objective())
    with pytest.raises(InvalidCommand):
        Objective.add(OFFICER, title="x", level=StrategyLevel.COUNTY_STRATEGY, strategy="County Economic Strategy")


def test_rewording_an_objective_is_a_decision_with_a_reason() -> None:
    objective = jobs_objective()
    with pytest.raises(InvalidCommand) as refused:
        objective.reword(OFFICER, title="Create 6,000 private-sector jobs", decision=None)
    assert refused.value.problems[0]["field"] == "decision"
    objective.reword(OFFICER, title="Create 6,000 private-sector jobs", decision=BOARD)
    reworded = objective.collect_events()[-1]
    assert reworded.previous_title == "Create jobs in the private sector"  # type: ignore[attr-defined]
    assert reworded.decision == BOARD  # type: ignore[attr-defined]
    assert objective.title == "Create 6,000 private-sector jobs"


def test_rewording_to_the_same_words_is_refused() -> None:
    objective = jobs_objective()
    with pytest.raises(InvalidCommand):
        objective.reword(OFFICER, title=objective.title, decision=BOARD)


def test_retiring_an_objective_is_a_decision_and_happens_once() -> None:
    objective = jobs_objective()
    with pytest.raises(InvalidCommand):
        objective.retire(OFFICER, decision=None)
    objective.retire(OFFICER, decision=BOARD)
    assert objective.retired
    with pytest.raises(RuleViolated):
        objective.retire(OFFICER, decision=BOARD)
    with pytest.raises(RuleViolated):
        objective.reword(OFFICER, title="Something else", decision=BOARD)


def test_nothing_may_be_added_under_a_retired_objective() -> None:
    scs = scs_objective()
    scs.retire(OFFICER, decision=BOARD)
    with pytest.raises(InvalidCommand):
        Objective.add(OFFICER, title="Create jobs", level=StrategyLevel.COUNTY_STRATEGY,
                      strategy="County Economic Strategy", parent=scs)
