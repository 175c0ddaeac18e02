"""The open-data read model in GraphQL: the periods released for public display."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import IsAuthenticated, read_model
from services.reporting.opendata.queries import releases


@strawberry.type
class PerformanceRelease:
    starts_on: date
    ends_on: date
    released_at: datetime
    body: str
    decided_on: date
    reason: str
    reference: str | None


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Periods whose performance figures were released for public display (open data).")
    def performance_releases(self, info: Info) -> list[PerformanceRelease]:
        return [PerformanceRelease(starts_on=date.fromisoformat(r["starts_on"]),
                                   ends_on=date.fromisoformat(r["ends_on"]),
                                   released_at=datetime.fromisoformat(r["released_at"]), body=r["body"],
                                   decided_on=date.fromisoformat(r["decided_on"]), reason=r["reason"],
                                   reference=r["reference"])
                for r in releases(read_model(info))]
