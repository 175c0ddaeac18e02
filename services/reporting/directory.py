"""The partnership itself (from its definition file): districts, theme groups, the other bodies and the partners."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import IsAuthenticated, read_model
from shared.partnership import PartnershipDefinition


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


def _districts(definition: PartnershipDefinition) -> list[District]:
    return [District(id=strawberry.ID(d.id), name=d.name, partnership=d.partnership, quorum=d.quorum)
            for d in definition.districts]


def _bodies(definition: PartnershipDefinition, kind: str | None = None) -> list[Body]:
    return [Body(id=strawberry.ID(b.id), kind=b.kind, name=b.name, quorum=b.quorum)
            for b in definition.bodies if kind is None or b.kind == kind]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def partnership(self, info: Info) -> Partnership:
        definition = read_model(info).partnership
        return Partnership(
            id=strawberry.ID(definition.id), name=definition.name,
            max_agreed_priorities_per_district=definition.max_agreed_priorities_per_district,
            units=list(definition.units), districts=_districts(definition),
            theme_groups=_bodies(definition, "theme_group"), bodies=_bodies(definition),
            organisations=[Organisation(id=strawberry.ID(o.id), name=o.name, kind=o.kind, county_wide=o.county_wide)
                           for o in definition.organisations])

    @strawberry.field(permission_classes=[IsAuthenticated], description="The districts and their partnerships.")
    def districts(self, info: Info) -> list[District]:
        return _districts(read_model(info).partnership)

    @strawberry.field(permission_classes=[IsAuthenticated], description="The county's theme groups.")
    def theme_groups(self, info: Info) -> list[Body]:
        return _bodies(read_model(info).partnership, "theme_group")
