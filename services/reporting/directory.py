"""The partnership itself (from its definition file): districts, theme groups, the other bodies and the partners; the
quorums as the rules of record had them (tasking's ``Partnership``, through reporting's copy of its events) in force
on ``inForceOn`` (default: today) as recorded at ``asOf`` (default: now)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import IN_FORCE_ON, IsAuthenticated, read_model
from shared.partnership import PartnershipDefinition, rules

Quorum = Callable[[str, int], int]
"""A body's quorum in force (its id, the definition's quorum when the rules of record do not know it)."""


def _quorums(info: Info, as_of: datetime | None, in_force_on: date | None) -> Quorum:
    model = read_model(info)
    day = in_force_on or (as_of or datetime.now(UTC)).date()
    of_record = model.provenance.meetings.rules(rules(model.store.settings.partnership_file), as_of)
    in_force = of_record.as_of(day)

    def quorum(body: str, defined: int) -> int:
        found = None if in_force is None else in_force.body(body)
        return defined if found is None else found.quorum

    return quorum


@strawberry.type(description="A district and the name of its district partnership.")
class District:
    id: strawberry.ID
    name: str
    partnership: str
    quorum: int


@strawberry.type(description="A body that takes decisions: the partnership board, a theme group, ...")
class Body:
    id: strawberry.ID
    kind: str
    name: str
    quorum: int


@strawberry.type(description="A partner organisation; county-wide ones commit to the districts where they are needed.")
class Organisation:
    id: strawberry.ID
    name: str
    kind: str
    county_wide: bool


@strawberry.type(description="The county partnership: its districts, bodies, partners and rule parameters.")
class Partnership:
    id: strawberry.ID
    name: str
    max_agreed_priorities_per_district: int
    units: list[str]
    districts: list[District]
    theme_groups: list[Body]
    bodies: list[Body]
    organisations: list[Organisation]


def _districts(definition: PartnershipDefinition, quorum: Quorum) -> list[District]:
    return [District(id=strawberry.ID(d.id), name=d.name, partnership=d.partnership, quorum=quorum(d.id, d.quorum))
            for d in definition.districts]


def _bodies(definition: PartnershipDefinition, quorum: Quorum, kind: str | None = None) -> list[Body]:
    return [Body(id=strawberry.ID(b.id), kind=b.kind, name=b.name, quorum=quorum(b.id, b.quorum))
            for b in definition.bodies if kind is None or b.kind == kind]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def partnership(self, info: Info, as_of: datetime | None = None,
                    in_force_on: IN_FORCE_ON = None) -> Partnership:
        definition = read_model(info).partnership
        quorum = _quorums(info, as_of, in_force_on)
        return Partnership(
            id=strawberry.ID(definition.id), name=definition.name,
            max_agreed_priorities_per_district=definition.max_agreed_priorities_per_district,
            units=list(definition.units), districts=_districts(definition, quorum),
            theme_groups=_bodies(definition, quorum, "theme_group"), bodies=_bodies(definition, quorum),
            organisations=[Organisation(id=strawberry.ID(o.id), name=o.name, kind=o.kind, county_wide=o.county_wide)
                           for o in definition.organisations])

    @strawberry.field(permission_classes=[IsAuthenticated], description="The districts and their partnerships.")
    def districts(self, info: Info, as_of: datetime | None = None,
                  in_force_on: IN_FORCE_ON = None) -> list[District]:
        return _districts(read_model(info).partnership, _quorums(info, as_of, in_force_on))

    @strawberry.field(permission_classes=[IsAuthenticated], description="The county's theme groups.")
    def theme_groups(self, info: Info, as_of: datetime | None = None,
                     in_force_on: IN_FORCE_ON = None) -> list[Body]:
        return _bodies(read_model(info).partnership, _quorums(info, as_of, in_force_on), "theme_group")
