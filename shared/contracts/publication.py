"""Which events are public integration events: what partners consume and the read models are built from. The rest
is bookkeeping inside an aggregate's life, so a refactor of it is not a partner-facing change.

Each service's contract module declares its ``INTERNAL`` events (none: every event is public). The relay stopped
publishing internal events in contract release 2 (release 1 published them; consumers that follow only public
events, ``is_public``, did not notice). An event a service no longer records (its ``RETIRED``) is never published,
in any release: only old stores hold it."""

from __future__ import annotations

from types import ModuleType

from shared.contracts import Fact, priorities, projects, tasking

SERVICES: dict[str, ModuleType] = {"priorities": priorities, "tasking": tasking, "projects": projects}


def internal_events(service: str) -> frozenset[type[Fact]]:
    """The service's events that are not integration events."""
    found: frozenset[type[Fact]] = getattr(SERVICES[service], "INTERNAL", frozenset())
    return found


def is_retired(contract: type[Fact]) -> bool:
    """Whether the event is one its service no longer records (``RETIRED``): kept to read old stores, never
    published again."""
    service: str | None = getattr(contract, "__contract_service__", None)
    retired: frozenset[type[Fact]] = getattr(SERVICES.get(service or ""), "RETIRED", frozenset())
    return any(issubclass(contract, old) for old in retired)


def is_public(contract: type[Fact]) -> bool:
    """Whether the event is one of its service's public integration events."""
    service: str | None = getattr(contract, "__contract_service__", None)
    if service is None or service not in SERVICES:
        return True
    return not any(issubclass(contract, internal) for internal in internal_events(service))
