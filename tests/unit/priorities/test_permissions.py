"""Who may act for which district in priorities: a district coordinator only for a district their grants name, on
records of that district (``services.priorities.permissions``), with the priority loaded once for the use case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from services.priorities.application import PrioritiesApplication
from services.priorities.domain import DistrictPriority
from services.priorities.permissions import _coordinated_priority, coordinating
from shared.auth import Grant, Principal, Role
from shared.contracts.priorities import StrategyLevel
from shared.errors import NotPermitted
from tests.copies import board_meeting
from tests.harness import settings_for
from tests.unit.priorities.builders import OFFICER, WORCESTER


def coordinator(*districts: str) -> Principal:
    return Principal("coordinator-1", "worcester-city-council",
                     frozenset(Grant(Role.DISTRICT_COORDINATOR, d) for d in districts))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[PrioritiesApplication]:
    application = PrioritiesApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def _proposed(app: PrioritiesApplication) -> DistrictPriority:
    objective = app.add_objective(OFFICER, title="Economy", level=StrategyLevel.SCS, strategy="SCS",
                                  decision=board_meeting(app.local, date(2011, 3, 15), "Adopted by the board"))
    return app.propose_priority(WORCESTER, district="worcester", title="Jobs", rationale="Because",
                                objective_id=objective.id)


def test_a_coordinator_acts_only_for_a_district_their_grants_name() -> None:
    assert coordinating(coordinator("worcester"), "worcester") == Grant(Role.DISTRICT_COORDINATOR, "worcester")
    assert coordinating(coordinator("redditch", "worcester"), "worcester").scope == "worcester"
    with pytest.raises(NotPermitted, match="your token is for redditch"):
        coordinating(coordinator("redditch"), "worcester")
    with pytest.raises(NotPermitted, match="no district"):
        coordinating(coordinator(), "worcester")


def test_a_priority_is_loaded_for_a_coordinator_of_its_district_only(app: PrioritiesApplication) -> None:
    priority = _proposed(app)
    loaded, grant = _coordinated_priority(priority.id, coordinator("worcester"), app)
    assert (loaded.id, loaded.version, grant) == (priority.id, 1, Grant(Role.DISTRICT_COORDINATOR, "worcester"))
    with pytest.raises(NotPermitted):
        _coordinated_priority(priority.id, coordinator("redditch"), app)
