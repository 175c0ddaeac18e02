"""The reporting projection: every upstream event into the event log, then into its context's read models."""

from __future__ import annotations

from collections.abc import Callable

from services.reporting import changes
from services.reporting.modules import READ_MODELS
from services.reporting.readmodel import log_event
from shared.contracts import Fact
from shared.envelope import Envelope
from shared.readstore import Tx


class ReportingProjection:
    """Applied by the consumer runner inside its transaction, once per (aggregate id, version)."""

    # The runner may send our statements pipelined: handlers read with queries, never with row counts.
    pipelined = True

    def __init__(self) -> None:
        # Several modules may read one event type (e.g. delivery's roll-up keeps its own shares of targets).
        self._handlers: dict[str, list[Callable[[Tx, Envelope, Fact], None]]] = {}
        for module in READ_MODELS:
            for type_name, handler in module.HANDLERS.items():
                self._handlers.setdefault(type_name, []).append(handler)

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        fact = envelope.fact()
        log_event(tx, envelope, fact)
        for handler in self._handlers.get(envelope.type, ()):
            handler(tx, envelope, fact)


def read_model_ddl() -> list[str]:
    return [*(statement for module in READ_MODELS for statement in module.DDL), *changes.DDL]
