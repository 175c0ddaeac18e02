"""The partnership itself: its districts, theme groups and other bodies, their quorums, the schemes of delegation,
the RAG thresholds and the limit on agreed priorities as the rules of record had them (tasking's ``Partnership``,
through reporting's copy of its events) in force on ``inForceOn`` (default: today) as recorded at ``asOf`` (default:
now); its name, units and partners from its definition file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import IN_FORCE_ON, IsAuthenticated, read_model
from services.reporting.graphql_node import Node, register, typed_id
from services.reporting.temporal import When, at, in_force_day, recorded_moment
from shared.partnership import rules
from shared.rules_history import DistrictOfRecord, RulesOfRecord, RulesState

_ID = ("Unique among all objects (opaque): names the {0} and the moment it was read at when that is not now "
       "(node(id:) answers as of it). Its key in the partnership definition, which other fields name it by, is {1}.")


def _day(as_of: datetime | None, in_force_on: date | None) -> date:
    return in_force_on or (as_of or datetime.now(UTC)).date()


def _of_record(info: Info, as_of: datetime | None) -> RulesOfRecord:
    model = read_model(info)
    return model.provenance.meetings.rules(rules(model.store.settings.partnership_file), as_of)


def _in_force(info: Info, as_of: datetime | None, in_force_on: date | None) -> RulesState:
    """The rules in force on ``in_force_on`` (default: the day of ``as_of``, or today) as the record at ``as_of``
    had them; before the founding, the founding rules (a reader still wants the districts' names)."""
    day = _day(as_of, in_force_on)
    asked: dict[tuple[datetime | None, date], RulesState] = info.context.setdefault("rules_in_force", {})
    if (as_of, day) not in asked:  # partnership, districts and themeGroups in one request read the rules once
        asked[(as_of, day)] = _of_record(info, as_of).as_of_or_founding(day)
    return asked[(as_of, day)]


def _retired(info: Info, as_of: datetime | None, in_force_on: date | None) -> list[DistrictOfRecord]:
    """The districts retired by the day, each by its last name (records of them keep naming them)."""
    found = _of_record(info, as_of).districts_of_record(_day(as_of, in_force_on)).values()
    return sorted((d for d in found if d.retired_on is not None), key=lambda d: d.name)


@strawberry.type(description="A district and the name of its district partnership.")
class District(Node):
    id: strawberry.ID = strawberry.field(description=_ID.format("district", "districtId"))
    district_id: strawberry.ID = strawberry.field(description="The district's key (as `district` fields name it).")
    name: str
    partnership: str
    quorum: int = strawberry.field(description="Members present that make its partnership's meeting quorate (0 "
                                               "once retired).")
    retired_on: date | None = strawberry.field(
        default=None, description="The date of the decision that retired it (null while it is a district).")


@strawberry.type(description="A body that takes decisions: the partnership board, a theme group, ...")
class Body(Node):
    id: strawberry.ID = strawberry.field(description=_ID.format("body", "bodyId"))
    body_id: strawberry.ID = strawberry.field(description="The body's key (as `body` fields name it).")
    kind: str
    name: str
    quorum: int


@strawberry.type(description="A partner organisation; county-wide ones commit to the districts where they are needed.")
class Organisation(Node):
    id: strawberry.ID = strawberry.field(description=_ID.format("organisation", "organisationId"))
    organisation_id: strawberry.ID = strawberry.field(
        description="The organisation's key (as `organisation` and `leadPartner` fields name it).")
    name: str
    kind: str
    county_wide: bool


@strawberry.type(description="The RAG thresholds: green while the shortfall is within greenWithinPercent of the "
                             "trajectory, amber within amberWithinPercent, red beyond.")
class RagThresholds:
    green_within_percent: float
    amber_within_percent: float


@strawberry.type(description="A scheme of delegation: the body lets an officer role take these kinds of decision "
                             "without a meeting.")
class SchemeOfDelegation(Node):
    id: strawberry.ID = strawberry.field(description=_ID.format("scheme", "schemeId"))
    scheme_id: strawberry.ID = strawberry.field(description="The scheme's key (as a decision's `delegation` names it).")
    body: str
    body_name: str
    role: str
    decisions: list[str]
    name: str


@strawberry.type(description="The county partnership: its districts, bodies, partners and rule parameters, as in "
                             "force on the day asked.")
class Partnership(Node):
    id: strawberry.ID = strawberry.field(description=_ID.format("partnership", "partnershipId"))
    partnership_id: strawberry.ID = strawberry.field(description="The partnership's key.")
    name: str
    max_agreed_priorities_per_district: int
    units: list[str]
    districts: list[District]
    former_districts: list[District] = strawberry.field(
        description="The districts retired by the day, each by its last name and with the date it was retired: "
                    "records of them (taskings, decisions, projects) still name them.")
    theme_groups: list[Body]
    bodies: list[Body]
    organisations: list[Organisation]
    rag_thresholds: RagThresholds
    schemes_of_delegation: list[SchemeOfDelegation]


def _districts(in_force: RulesState, when: When) -> list[District]:
    def quorum(district: str) -> int:
        body = in_force.body(district)
        return body.quorum if body is not None else 0

    return [District(id=typed_id("District", d.id, when), district_id=strawberry.ID(d.id), name=d.name,
                     partnership=d.partnership, quorum=quorum(d.id))
            for d in in_force.all_districts()]


def _former(retired: list[DistrictOfRecord], when: When) -> list[District]:
    return [District(id=typed_id("District", d.id, when), district_id=strawberry.ID(d.id), name=d.name,
                     partnership=d.partnership, quorum=0, retired_on=d.retired_on) for d in retired]


def _bodies(in_force: RulesState, when: When, kind: str | None = None) -> list[Body]:
    """The bodies other than district partnerships (those are ``districts``), of ``kind`` when given."""
    return [Body(id=typed_id("Body", b.id, when), body_id=strawberry.ID(b.id), kind=b.kind, name=b.name,
                 quorum=b.quorum) for b in in_force.all_bodies()
            if b.kind != "district_partnership" and (kind is None or b.kind == kind)]


def _schemes(in_force: RulesState, when: When) -> list[SchemeOfDelegation]:
    def named(body: str) -> str:
        found = in_force.body(body)
        return found.name if found is not None else body

    return [SchemeOfDelegation(id=typed_id("SchemeOfDelegation", s.id, when), scheme_id=strawberry.ID(s.id),
                               body=s.body, body_name=named(s.body), role=s.role, decisions=sorted(s.decisions),
                               name=s.name) for s in in_force.all_schemes()]


def _partnership(info: Info, as_of: datetime | None, in_force_on: date | None) -> Partnership:
    definition = read_model(info).partnership
    in_force, when = _in_force(info, as_of, in_force_on), at(as_of, in_force_on)
    return Partnership(
        id=typed_id("Partnership", definition.id, when), partnership_id=strawberry.ID(definition.id),
        name=definition.name, max_agreed_priorities_per_district=in_force.priority_limit,
        units=list(definition.units), districts=_districts(in_force, when),
        former_districts=_former(_retired(info, as_of, in_force_on), when),
        theme_groups=_bodies(in_force, when, "theme_group"), bodies=_bodies(in_force, when),
        organisations=[Organisation(id=typed_id("Organisation", o.id, when), organisation_id=strawberry.ID(o.id),
                                    name=o.name, kind=o.kind, county_wide=o.county_wide)
                       for o in definition.organisations],
        rag_thresholds=RagThresholds(green_within_percent=in_force.rag.green_within_percent,
                                     amber_within_percent=in_force.rag.amber_within_percent),
        schemes_of_delegation=_schemes(in_force, when))


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def partnership(self, info: Info, as_of: datetime | None = None,
                    in_force_on: IN_FORCE_ON = None) -> Partnership:
        return _partnership(info, as_of, in_force_on)

    @strawberry.field(permission_classes=[IsAuthenticated], description="The districts and their partnerships.")
    def districts(self, info: Info, as_of: datetime | None = None,
                  in_force_on: IN_FORCE_ON = None) -> list[District]:
        return _districts(_in_force(info, as_of, in_force_on), at(as_of, in_force_on))

    @strawberry.field(permission_classes=[IsAuthenticated], description="The county's theme groups.")
    def theme_groups(self, info: Info, as_of: datetime | None = None,
                     in_force_on: IN_FORCE_ON = None) -> list[Body]:
        return _bodies(_in_force(info, as_of, in_force_on), at(as_of, in_force_on), "theme_group")


def _directory_loader(pick: Callable[[Partnership], list[Any]]) -> Callable[[Info, str, When], Any]:
    """How ``node`` reads a district, body, organisation or scheme: the partnership as of the id's moment, and the
    one of that key."""

    def load(info: Info, key: str, when: When) -> Any:
        found = _partnership(info, recorded_moment(when), in_force_day(when))
        return next((item for item in pick(found) if item.id == typed_id(type(item).__name__, key, when)), None)

    return load


register("Partnership", "partnership", lambda info, key, when: (
    found if (found := _partnership(info, recorded_moment(when), in_force_day(when))).partnership_id == key
    else None), own_ids=False)
register("District", ("districts", "partnership"), _directory_loader(lambda p: [*p.districts, *p.former_districts]),
         own_ids=False)
register("Body", ("partnership", "themeGroups"), _directory_loader(lambda p: p.bodies), own_ids=False)
register("Organisation", "partnership", _directory_loader(lambda p: p.organisations), own_ids=False)
register("SchemeOfDelegation", "partnership", _directory_loader(lambda p: p.schemes_of_delegation), own_ids=False)
