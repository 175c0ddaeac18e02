"""The open-data read model in GraphQL: the periods released for public display, and the figures within them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import IsAuthenticated, read_model
from services.reporting.graphql_node import Node, key_parts, register, typed_id
from services.reporting.opendata.queries import performance, releases, target_performance


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
    numerator: Decimal | None = strawberry.field(description=(
        "For a ratio outcome: the numerator reported (actual is its ratio to the denominator); null otherwise."))
    denominator: Decimal | None = strawberry.field(description="For a ratio outcome: the denominator reported.")
    status: str | None = strawberry.field(description=(
        "How the outcome stood at the period's end, as deliveryProject.performance(on) says it: green, amber, red, "
        "or stale when its latest report is older than the reporting interval; null before any report."))
    stale: bool | None
    direction: str | None
    forecast: Decimal | None = strawberry.field(description="The out-turn forecast at the outcome's target date.")
    forecast_at: date | None
    forecast_method: str | None = strawberry.field(description="How the forecast was made.")


@strawberry.type(description=("A county target or a district's share of it at the end of a released period, as "
                              "deliveryRollups' performance(on) and the scrutiny pack judge it."))
class ReleasedTargetFigure:
    period_start: date
    period_end: date
    metric: str
    unit: str
    kind: str
    district: str | None = strawberry.field(description="The district's name for a share; null for the county.")
    goal: Decimal
    deadline: date
    actual: Decimal
    expected: Decimal
    rag: str
    shortfall_percent: Decimal
    latest_reported_on: date | None
    status: str
    stale: bool
    direction: str | None
    forecast: Decimal | None
    forecast_at: date | None
    forecast_method: str | None


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _judged(r: dict[str, Any]) -> dict[str, Any]:
    return {"status": r["status"], "stale": r["stale"], "direction": r["direction"],
            "forecast": _decimal(r["forecast"]), "forecast_at": _day(r["forecast_at"]),
            "forecast_method": r["forecast_method"]}


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
                               rag=r["rag"], correction=r["correction"], numerator=_decimal(r["numerator"]),
                               denominator=_decimal(r["denominator"]), **_judged(r))
                for r in performance(read_model(info))]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Each county target and district share at the end of every released period, as "
                                  "open data publishes it (target-performance).")
    def released_target_performance(self, info: Info) -> list[ReleasedTargetFigure]:
        return [ReleasedTargetFigure(
            period_start=date.fromisoformat(r["period_start"]), period_end=date.fromisoformat(r["period_end"]),
            metric=r["metric"], unit=r["unit"], kind=r["kind"], district=r["district"], goal=Decimal(r["goal"]),
            deadline=date.fromisoformat(r["deadline"]), actual=Decimal(r["actual"]), expected=Decimal(r["expected"]),
            rag=r["rag"], shortfall_percent=Decimal(r["shortfall_percent"]),
            latest_reported_on=_day(r["latest_reported_on"]), status=r["status"], stale=r["stale"],
            direction=r["direction"], forecast=_decimal(r["forecast"]), forecast_at=_day(r["forecast_at"]),
            forecast_method=r["forecast_method"]) for r in target_performance(read_model(info))]


def _release_node(info: Info, key: str, when: object) -> PerformanceRelease | None:
    parts = key_parts(key, 2)
    found = [r for r in releases(read_model(info)) if parts is not None and [r["starts_on"], r["ends_on"]] == parts]
    return _release(found[0]) if found else None


register("PerformanceRelease", "performanceReleases", _release_node, own_ids=False)
