"""A level's value outside the range its unit declares is refused at entry, naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.errors import InvalidCommand
from tests.unit.projects.conftest import LEAD, THRESHOLDS, TODAY, jobs_outcome, open_project, tasking


def test_a_percentage_above_a_hundred_is_refused_in_a_report_and_an_outcome() -> None:
    known = tasking(unit="percent")
    rate = jobs_outcome(known.id, id="rate", unit="percent", baseline_value=Decimal(70), target_value=Decimal(75))
    project = open_project(known, outcomes=[rate])
    with pytest.raises(InvalidCommand) as refused:
        project.report_progress(LEAD, reported_on=date(2012, 6, 1), values={"rate": Decimal(120)}, narrative="n",
                                thresholds=THRESHOLDS, today=TODAY)
    assert [p["field"] for p in refused.value.problems] == ["values.rate"]
    assert "0 to 100" in refused.value.problems[0]["message"]
    with pytest.raises(InvalidCommand) as opening:
        open_project(known, outcomes=[jobs_outcome(known.id, id="rate", unit="percent", target_value=Decimal(140))])
    assert [p["field"] for p in opening.value.problems] == ["outcomes.0.target_value"]
