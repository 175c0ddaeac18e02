"""The partnership definition: its districts, organisations, bodies and rules' parameters, loaded from a file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.decisions import BodyRule, DistrictRule, RagRule, RulesInForce, SchemeOfDelegation
from shared.rules_history import FoundedRules

DEFAULT_FILE = Path(__file__).with_name("worcestershire.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class District(_Strict):
    id: str
    name: str
    partnership: str
    quorum: int = Field(3, ge=1)


class Organisation(_Strict):
    id: str
    name: str
    kind: str
    county_wide: bool = False


class Body(_Strict):
    id: str
    kind: str
    name: str
    quorum: int = Field(3, ge=1)


class Delegation(_Strict):
    """A scheme of delegation: the body lets an officer role take these kinds of decision without a meeting."""

    id: str
    body: str
    role: str
    decisions: list[str]
    name: str = ""


class RagThresholds(_Strict):
    green_within_percent: float = Field(10, gt=0)
    amber_within_percent: float = Field(25, gt=0)


class PartnershipDefinition(_Strict):
    """A county partnership, e.g. the Worcestershire Partnership."""

    id: str
    name: str
    founded_on: date | None = None
    """From when its bodies exist (no decision, meeting or membership before); None: no earliest date."""
    max_agreed_priorities_per_district: int = Field(5, ge=1)
    time_zone: str = "Europe/London"
    """The IANA time zone whose calendar the partnership's dates are in: "today" is today there."""
    units: list[str]
    rag: RagThresholds = RagThresholds()
    bodies: list[Body]
    districts: list[District]
    organisations: list[Organisation]
    schemes_of_delegation: list[Delegation] = []

    @model_validator(mode="after")
    def _time_zone_is_known(self) -> PartnershipDefinition:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone {self.time_zone!r} is not an IANA time zone") from None
        return self

    def today(self, now: datetime) -> date:
        """The partnership's calendar date at the instant ``now`` (a report dated after it is in the future)."""
        return now.astimezone(ZoneInfo(self.time_zone)).date()

    def calendar(self, clock: Callable[[], datetime] | None = None) -> Callable[[], date]:
        """Today in the partnership's time zone, read from ``clock`` (the system's UTC clock unless one is given):
        the one way a service asks the date, so a test sets the clock, not the date in every rule."""
        now = clock or (lambda: datetime.now(UTC))
        return lambda: self.today(now())

    @model_validator(mode="after")
    def _schemes_name_bodies_and_decisions(self) -> PartnershipDefinition:
        from shared.decisions import DecisionKind

        kinds = {kind.value for kind in DecisionKind}
        bodies = {b.id for b in self.bodies} | {d.id for d in self.districts}
        for scheme in self.schemes_of_delegation:
            if scheme.body not in bodies:
                raise ValueError(f"scheme of delegation {scheme.id}: no body {scheme.body!r}")
            unknown = sorted(set(scheme.decisions) - kinds)
            if unknown:
                raise ValueError(f"scheme of delegation {scheme.id}: unknown decisions {unknown}")
        return self

    def district(self, district_id: str) -> District | None:
        return next((d for d in self.districts if d.id == district_id), None)

    def organisation(self, organisation_id: str) -> Organisation | None:
        return next((o for o in self.organisations if o.id == organisation_id), None)

    def body(self, body_id: str) -> Body | None:
        return next((b for b in self.bodies if b.id == body_id), None)


class FoundingRules(FoundedRules):
    """The partnership's rules as its definition founds them, in force from ``founded_on`` (nothing exists before):
    what stands in for tasking's founding (``PartnershipFounded``) until a service's copy has it."""

    def __init__(self, definition: PartnershipDefinition) -> None:
        self.definition = definition
        bodies = [BodyRule(b.id, b.name, b.kind, b.quorum) for b in definition.bodies]
        bodies += [BodyRule(d.id, d.partnership, "district_partnership", d.quorum) for d in definition.districts]
        founded = FoundedRules.from_parts(
            definition.founded_on, bodies, [DistrictRule(d.id, d.name, d.partnership) for d in definition.districts],
            [SchemeOfDelegation(s.id, s.body, s.role, frozenset(s.decisions), s.name)
             for s in definition.schemes_of_delegation],
            RagRule(definition.rag.green_within_percent, definition.rag.amber_within_percent),
            definition.max_agreed_priorities_per_district)
        super().__init__(founded.founded_on, founded.state)

    def district_names(self) -> dict[str, str]:
        return {d.id: d.name for d in self.definition.districts}


@cache
def rules(path: Path | None = None) -> FoundingRules:
    return FoundingRules(load(path))


@cache
def load(path: Path | None = None) -> PartnershipDefinition:
    with (path or DEFAULT_FILE).open() as handle:
        return PartnershipDefinition.model_validate(yaml.safe_load(handle))


def definition_in_force(definition: PartnershipDefinition, in_force: RulesInForce | None) -> PartnershipDefinition:
    """The definition as the rules of record had it on one day: its districts, bodies' quorums, schemes of
    delegation, RAG thresholds and priority limit from ``in_force`` (None: before the founding, the definition's),
    its name, organisations and units its own. A rule check that takes a definition reads the day's rules so."""
    if in_force is None:
        return definition
    bodies = [Body(id=b.id, kind=b.kind, name=b.name, quorum=b.quorum) for b in in_force.all_bodies()
              if b.kind != "district_partnership"]
    districts = [District(id=d.id, name=d.name, partnership=d.partnership,
                          quorum=found.quorum if (found := in_force.body(d.id)) is not None else 1)
                 for d in in_force.all_districts()]
    schemes = [Delegation(id=s.id, body=s.body, role=s.role, decisions=sorted(s.decisions), name=s.name)
               for s in in_force.all_schemes()]
    return definition.model_copy(update={
        "bodies": bodies, "districts": districts, "schemes_of_delegation": schemes,
        "rag": RagThresholds(green_within_percent=in_force.rag.green_within_percent,
                             amber_within_percent=in_force.rag.amber_within_percent),
        "max_agreed_priorities_per_district": in_force.priority_limit})
