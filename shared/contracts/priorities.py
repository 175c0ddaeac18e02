"""Contracts of the priorities service (``priorities.events``): the strategy, targets, district priorities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from shared.contracts import Fact, contract

SERVICE = "priorities"


class StrategyLevel(StrEnum):
    """Where an objective sits: the Sustainable Community Strategy or a county strategy under it."""

    SCS = "scs"
    COUNTY_STRATEGY = "county_strategy"


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ObjectiveAdded(Fact):
    """An objective was added to the SCS or to a county strategy under an SCS objective."""

    title: str
    level: StrategyLevel
    strategy: str
    parent_id: UUID | None = None


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TargetSet(Fact):
    """A SMART target was set on an objective (the aggregate id is the target's id)."""

    objective_id: UUID
    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    deadline: date
    data_source: str
    owner_organisation: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TargetRevised(Fact):
    """A target was re-baselined or changed, by a decision with a reason; the old values stay in history."""

    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    deadline: date
    data_source: str
    owner_organisation: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TargetRetired(Fact):
    """A target was retired (never deleted); no new tasking may be issued against it."""

    reason: str
