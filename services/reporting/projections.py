"""The reporting projection: every upstream event into the event log, then each public one into the read models
that follow it (``shared.contracts.publication``)."""

from __future__ import annotations

from collections.abc import Sequence

from services.reporting import change_feed
from services.reporting.declaration import Handler, ReadModel
from services.reporting.readmodel import DDL as EVENT_LOG_DDL
from services.reporting.readmodel import log_event
from services.reporting.registry import READ_MODELS
from services.reporting.rows import Rows, rows
from shared.contracts.publication import is_public
from shared.envelope import Envelope
from shared.in_force import in_force_from
from shared.readstore import Tx


class ReportingProjection:
    """Applied by the consumer runner inside its transaction, once per (aggregate id, version)."""

    # The runner may send our statements pipelined: handlers read with queries, never with row counts.
    pipelined = True

    def __init__(self, models: Sequence[ReadModel] = READ_MODELS,
                 changes: change_feed.ChangeSignal | None = None) -> None:
        """With ``changes``, the live projection also appends to the change feed (its tables made by
        ``ReportingReadModel``) and announces each commit that did (``committed``)."""
        self._changes = changes
        internal = sorted(f"{model.name}: {contract.__name__}" for model in models for contract in model.contracts
                          if not is_public(contract))
        if internal:  # read models stand on integration events only: an internal one may stop travelling
            raise RuntimeError(f"read models follow internal events: {', '.join(internal)}")
        self._models = tuple(models)
        # Several read models may follow one contract (e.g. delivery's roll-up keeps its own copies of targets).
        self._handlers: dict[type, list[Handler]] = {}

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        into = rows(tx)
        if self._changes is None or getattr(tx, "rows", None) is not None:  # no feed (a rebuild keeps none)
            self.apply_to(into, envelope)
            return
        fact = envelope.fact()
        was = change_feed.before(into, fact, envelope)
        self.apply_to(into, envelope)
        change_feed.append(tx, into, fact, envelope, was)

    def committed(self) -> None:
        """Called by the consumer runner after a batch that applied events committed: wakes the gateway's
        subscriptions in this process (another process hears the transaction's NOTIFY)."""
        if self._changes is not None:
            self._changes.notify()

    def apply_to(self, into: Rows, envelope: Envelope) -> None:
        fact = envelope.fact()
        into.in_force = in_force_from(fact, envelope.time).isoformat()  # every row version this event opens
        log_event(into, envelope, fact)
        contract = type(fact)
        handlers = self._handlers.get(contract)
        if handlers is None:  # an internal event reaches the event log (history) and no read model
            handlers = self._handlers[contract] = [] if not is_public(contract) else [
                handler for model in self._models if (handler := model.handler(contract)) is not None]
        for handler in handlers:
            handler(fact, into, envelope)


def read_model_ddl(models: Sequence[ReadModel] = READ_MODELS) -> list[str]:
    """Every read model's tables and indexes (the event log's are ``readmodel.DDL``)."""
    return [statement for model in models for statement in model.ddl()]


def every_ddl() -> list[str]:
    """The event log's tables, then every read model's."""
    return [*EVENT_LOG_DDL, *read_model_ddl()]
