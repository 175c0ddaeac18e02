"""GraphQL types every reporting module shares: actor, decision, the permission check, the read-model handle."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from services.reporting.readmodel import ReportingReadModel


class IsAuthenticated(BasePermission):
    message = "Authentication required: send a bearer token."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.get("principal") is not None


@strawberry.type
class Actor:
    user_id: str
    organisation: str
    role: str


@strawberry.type
class Decision:
    body: str
    decided_on: date
    reason: str
    meeting_id: str | None
    reference: str | None


def decision_from(raw: str | dict[str, Any] | None) -> Decision | None:
    if not raw:
        return None
    values = json.loads(raw) if isinstance(raw, str) else raw
    return Decision(body=values["body"], decided_on=date.fromisoformat(values["decided_on"]),
                    reason=values["reason"], meeting_id=values.get("meeting_id"), reference=values.get("reference"))


def moment(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def read_model(info: Info) -> ReportingReadModel:
    model: ReportingReadModel = info.context["model"]
    return model
