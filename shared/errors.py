"""Typed domain errors. Each says, in words a partnership officer understands, why a command was refused."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command refused by a rule of the domain."""

    status = 409
    code = "rule-violated"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidCommand(DomainError):
    """The command's values are incoherent (e.g. a target that is not SMART)."""

    status = 422
    code = "invalid-command"

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.problems = problems or []


class RuleViolated(DomainError):
    """The command conflicts with the current state (e.g. a sixth agreed priority)."""


class NotFound(DomainError):
    status = 404
    code = "not-found"


class NotPermitted(DomainError):
    """The actor's role or organisation does not allow this command on this thing."""

    status = 403
    code = "forbidden"


class StaleVersion(DomainError):
    """The client's expected version is older than the stored one: reload and retry."""

    status = 409
    code = "stale-version"


class ConcurrentChange(DomainError):
    """Other commands kept changing the same record while this one was being saved: nothing of it was stored, and
    sending it again (unchanged) is safe."""

    status = 409
    code = "concurrent-change"


class NotYetKnown(DomainError):
    """An upstream fact this command needs has not arrived yet; retry shortly."""

    status = 503
    code = "upstream-not-yet-known"
