"""The open-data read model in GraphQL: the periods released for public display, and the figures within them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import IsAuthenticated, read_model
from services.reporting.graphql_node import Node, key_parts, register, typed_id
from services.reporting.opendata.queries import performance, releases


@strawberry.type
class PerformanceRelease(Node):
    id: strawberry.ID = strawberry.field(description="Unique among all objects (opaque): its period names it.")
    starts_on: date
    ends_on: date
    released_at: datetime
    body: str
    decided_on: date
    reason: str
    reference: str | None


@strawberry.type(description="A project's figure reported within a released period: the open data's performance row.")
class ReleasedFigure:
    period_start: date
    period_end: date
    project_title: str
    district: str
    lead_partner: str
    reported_on: date
    metric: str | None
    unit: str | None
    actual: Decimal
    target_value: Decimal | None
    target_date: date | None
    rag: str | None
    correction: bool


def _release(r: dict[str, Any]) -> PerformanceRelease:
    return PerformanceRelease(id=typed_id("PerformanceRelease", (r["starts_on"], r["ends_on"])),
                              starts_on=date.fromisoformat(r["starts_on"]), ends_on=date.fromisoformat(r["ends_on"]),
                              released_at=datetime.fromisoformat(r["released_at"]), body=r["body"],
                              decided_on=date.fromisoformat(r["decided_on"]), reason=r["reason"],
                              reference=r["reference"])


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Periods whose performance figures were released for public display (open data).")
    def performance_releases(self, info: Info) -> list[PerformanceRelease]:
        return [_release(r) for r in releases(read_model(info))]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Every figure reported within a released period, as open data publishes it.")
    def released_performance(self, info: Info) -> list[ReleasedFigure]:
        return [ReleasedFigure(period_start=date.fromisoformat(r["period_start"]),
                               period_end=date.fromisoformat(r["period_end"]), project_title=r["title"],
                               district=r["district"], lead_partner=r["lead_partner"],
                               reported_on=date.fromisoformat(r["reported_on"]), metric=r["metric"], unit=r["unit"],
                               actual=Decimal(str(r["actual"])), target_value=_decimal(r["target_value"]),
                               target_date=date.fromisoformat(r["target_date"]) if r["target_date"] else None,
                               rag=r["rag"], correction=r["correction"])
                for r in performance(read_model(info))]


def _release_node(info: Info, key: str, when: object) -> PerformanceRelease | None:
    parts = key_parts(key, 2)
    found = [r for r in releases(read_model(info)) if parts is not None and [r["starts_on"], r["ends_on"]] == parts]
    return _release(found[0]) if found else None


register("PerformanceRelease", "performanceReleases", _release_node, own_ids=False)
