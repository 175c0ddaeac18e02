"""The pages' one way to read: the gateway's GraphQL schema, executed in process as the page's caller.

The same schema, permissions and field checks as ``/graphql`` (the public may select only what open data publishes),
read in one snapshot of the read models like an HTTP query; no token travels, so no service token exists to leak.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.reporting.graphql import schema
from services.reporting.readmodel import ReportingReadModel
from shared.auth import Principal


class PageDataError(Exception):
    """The schema refused or failed a page's query: a bug in the page, or a caller without the right."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e.get("message")) for e in errors))
        self.errors = errors

    @property
    def codes(self) -> set[str]:
        return {str((e.get("extensions") or {}).get("code")) for e in self.errors}


class Reader:
    """Runs a page's GraphQL document against the read models, as ``principal``."""

    def __init__(self, model: ReportingReadModel, service_urls: Mapping[str, str] | None = None,
                 auditor: Any = None) -> None:
        self.model = model
        self.service_urls = service_urls or {}
        self.auditor = auditor

    async def read(self, principal: Principal, document: str, variables: dict[str, Any] | None = None) -> Any:
        context = {"model": self.model, "principal": principal, "request": None, "service_urls": self.service_urls,
                   "auditor": self.auditor}
        with self.model.store.snapshot():
            result = await schema.execute(document, variable_values=variables, context_value=context)
        if result.errors:
            raise PageDataError([dict(error.formatted) for error in result.errors])
        return result.data
