"""Contracts of the tasking service (``tasking.events``): taskings of district partnerships and their changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from shared.contracts import Fact, contract

SERVICE = "tasking"


class CommissioningLevel(StrEnum):
    COUNTY = "county"
    DISTRICT = "district"


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TaskingIssued(Fact):
    """A theme group tasked a district partnership with a share of a county target, one lead partner responsible.

    ``retasked_from`` names the tasking whose share this one took over, when it was issued by a retasking.
    """

    target_id: UUID
    theme_group: str
    district: str
    share: Decimal
    unit: str
    deadline: date
    lead_partner: str
    commissioning_level: CommissioningLevel
    retasked_from: UUID | None = None


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TaskingAccepted(Fact):
    """The district partnership accepted the tasking: delivery can be planned against it."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TaskingDeclined(Fact):
    """The district partnership declined the tasking, with its reason."""

    reason: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TaskingRetasked(Fact):
    """A decision changed the tasking's district, lead partner, share or deadline; the previous values stay in
    history and are repeated here so that a reader needs no earlier event to show the change."""

    district: str
    lead_partner: str
    share: Decimal
    deadline: date
    previous_district: str
    previous_lead_partner: str
    previous_share: Decimal
    previous_deadline: date
    reason: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TaskingWithdrawn(Fact):
    """The tasking was withdrawn by a decision; projects delivering it must be re-pointed or closed."""

    reason: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TaskingCompleted(Fact):
    """The tasking's share was delivered (or its delivery period ended) and it was closed."""

    achieved: Decimal
