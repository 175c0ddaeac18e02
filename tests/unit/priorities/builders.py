"""Builders for the strategy's aggregates, in the words of the worked example."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.priorities.domain import Objective, TargetRules, TargetTerms
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.partnership import load

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "c-officer")
WORCESTER = CommandContext(Actor("coordinator-1", "worcester-city-council", "district_coordinator"), "c-worcester")
BOARD = Decision(body="worcester", decided_on=date(2011, 6, 1), reason="Agreed by the Worcester Alliance")


def rules() -> TargetRules:
    definition = load()
    return TargetRules(units=frozenset(definition.units),
                       organisations=frozenset(o.id for o in definition.organisations))


def jobs_terms(**changes: object) -> TargetTerms:
    values: dict[str, object] = dict(
        metric="new private-sector jobs", unit="jobs", baseline_value=Decimal(0), baseline_date=date(2011, 4, 1),
        target_value=Decimal(6000), deadline=date(2016, 3, 31),
        data_source="ONS Business Register and Employment Survey", owner_organisation="worcestershire-cc",
    )
    values.update(changes)
    return TargetTerms(**values)  # type: ignore[arg-type]


def scs_objective() -> Objective:
    return Objective.add(OFFICER, title="A skilled and prosperous economy", level=StrategyLevel.SCS,
                         strategy="Sustainable Community Strategy")


def jobs_objective() -> Objective:
    scs = scs_objective()
    return Objective.add(OFFICER, title="Create jobs in the private sector", level=StrategyLevel.COUNTY_STRATEGY,
                         strategy="County Economic Strategy", parent=scs)
