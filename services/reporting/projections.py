"""The reporting projection: every upstream event into the event log, then into its context's read models."""

from __future__ import annotations

from services.reporting.modules import READ_MODELS
from services.reporting.readmodel import Handlers, log_event
from shared.envelope import Envelope
from shared.readstore import Tx


class ReportingProjection:
    """Applied by the consumer runner inside its transaction, once per (aggregate id, version)."""

    def __init__(self) -> None:
        self._handlers: Handlers = {}
        for module in READ_MODELS:
            self._handlers.update(module.HANDLERS)

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        fact = envelope.fact()
        log_event(tx, envelope, fact)
        handler = self._handlers.get(envelope.type)
        if handler is not None:
            handler(tx, envelope, fact)


def read_model_ddl() -> list[str]:
    return [statement for module in READ_MODELS for statement in module.DDL]
