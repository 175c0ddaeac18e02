"""Contracts of the priorities service (``priorities.events``): the strategy, targets, district priorities."""

from __future__ import annotations

from dataclasses import dataclass
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
