"""What a service declares so the composition root can run it: its store, API, topic, consumers and demo data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fastapi import FastAPI

from shared.auth import TokenService
from shared.eventstore import ServiceApplication
from shared.settings import Settings
from shared.transport import Transport

WaitFor = Callable[[Callable[[], bool], str], None]
"""Blocks until the predicate holds (upstream facts arrive asynchronously), or fails naming what it waited for."""


@dataclass(frozen=True)
class ServiceSpec:
    """One bounded context: an event-sourced application with a REST API, publishing to ``<name>.events``."""

    name: str
    application: Callable[[Settings], ServiceApplication]
    create_api: Callable[[Any, TokenService], FastAPI]
    consumes: tuple[str, ...] = ()
    consumers: Callable[[Any, Settings, Transport], list[Any]] | None = None
    load_demo: Callable[[Any, dict[str, UUID], WaitFor], None] | None = None
    load_demo_first: Callable[[Any, dict[str, UUID], WaitFor], None] | None = None
    """Demo data every other service's demo stands on (tasking: the tables and meetings decisions cite)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return f"{self.name}.events"
