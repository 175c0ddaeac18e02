"""The composition root: builds each service's parts from settings and runs them (all in one process, or one part).

Embedded default: every service, every worker and the gateway in one process on SQLite and the embedded log.
Distributed: ``partnership serve|worker <service>`` runs one part against PostgreSQL and Kafka.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.priorities.api import create_app as priorities_api
from services.priorities.application import PrioritiesApplication
from services.reporting.api import create_app as reporting_api
from services.reporting.graphql import graphql_router
from services.reporting.projections import ReportingProjection
from services.reporting.readmodel import ReportingReadModel
from shared.auth import TokenService
from shared.consumer import ConsumerRunner
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.readstore import ReadStore, ensure_schema
from shared.relay import Relay
from shared.settings import Settings, TransportKind
from shared.transport import Transport
from shared.transport.embedded import EmbeddedTransport
from shared.transport.kafka import KafkaTransport
from shared.web import install_problem_handlers

log = logging.getLogger(__name__)

SERVICES = ("priorities", "tasking", "projects", "reporting")
EVENT_TOPICS = {"priorities": "priorities.events"}
TOPIC_PARTITIONS = 3


def make_transport(settings: Settings) -> Transport:
    if settings.transport is TransportKind.KAFKA:
        assert settings.kafka_bootstrap_servers
        return KafkaTransport(settings.kafka_bootstrap_servers)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return EmbeddedTransport(settings.data_dir / "log.sqlite3")


def make_tokens(settings: Settings) -> TokenService:
    return TokenService(settings.signing_key(), settings.jwt_issuer, settings.jwt_audience)


class System:
    """The parts of the services named in ``services`` (default all), built but not started."""

    def __init__(self, settings: Settings, services: tuple[str, ...] = SERVICES,
                 transport: Transport | None = None) -> None:
        self.settings = settings
        self.transport = transport or make_transport(settings)
        self.tokens = make_tokens(settings)
        self.priorities: PrioritiesApplication | None = None
        self.read_model: ReportingReadModel | None = None
        self.relays: list[Relay] = []
        self.consumers: list[ConsumerRunner] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        for topic in EVENT_TOPICS.values():
            self.transport.ensure_topic(settings.topic(topic), TOPIC_PARTITIONS)
        if "priorities" in services:
            ensure_schema(settings, "priorities")
            self.priorities = PrioritiesApplication(settings)
            self.relays.append(Relay(self.priorities, self.transport, settings.topic(EVENT_TOPICS["priorities"]),
                                     batch_size=settings.relay_batch_size,
                                     poll_interval=settings.relay_poll_interval))
        if "reporting" in services:
            store = ReadStore(settings, "reporting")
            self.read_model = ReportingReadModel(store)
            projection = ReportingProjection()
            for topic in EVENT_TOPICS.values():
                self.consumers.append(ConsumerRunner(
                    "reporting", store, self.transport, settings.topic(topic), projection,
                    dead_letter_topic=settings.topic("reporting.dlq"), batch_size=settings.consumer_batch_size,
                ))

    # -- workers ---------------------------------------------------------------------------------------------
    def start_workers(self) -> None:
        self._stop.clear()
        for name, target in self._worker_targets():
            thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _worker_targets(self) -> list[tuple[str, Callable[[threading.Event], None]]]:
        targets: list[tuple[str, Callable[[threading.Event], None]]] = []
        targets += [(f"relay:{r.topic}", r.run) for r in self.relays]
        targets += [(f"consumer:{c.name}:{c.topic}", c.run) for c in self.consumers]
        return targets

    def stop_workers(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def close(self) -> None:
        self.stop_workers()
        if self.priorities is not None:
            self.priorities.close()
        if self.read_model is not None:
            self.read_model.store.close()
        self.transport.close()

    # -- web -------------------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        relays = {r.topic: {"published": r.status.published, "degraded": r.status.degraded} for r in self.relays}
        consumers = {f"{c.name}:{c.topic}": {"applied": c.status.applied, "dead_lettered": c.status.dead_lettered,
                                              "degraded": c.status.degraded} for c in self.consumers}
        degraded = any(r.status.degraded for r in self.relays) or any(c.status.degraded for c in self.consumers)
        return {"status": "degraded" if degraded else "ok", "relays": relays, "consumers": consumers}

    def asgi(self) -> FastAPI:
        """One app: each service's REST API under ``/<service>``, GraphQL at ``/graphql``."""
        app = FastAPI(title="Partnership governance", version="1.0",
                      description="REST APIs under /priorities (docs at /priorities/docs); GraphQL at /graphql.")
        app.state.tokens = self.tokens
        install_problem_handlers(app)

        @app.get("/healthz", include_in_schema=False)
        def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/readyz", include_in_schema=False)
        def readyz() -> JSONResponse:
            body = self.health()
            return JSONResponse(body, status_code=200)

        if self.read_model is not None:
            app.include_router(graphql_router(self.read_model, self.tokens), prefix="/graphql")
        if self.priorities is not None:
            app.mount("/priorities", priorities_api(self.priorities, self.tokens))
        return app

    def reporting_asgi(self) -> FastAPI:
        assert self.read_model is not None
        return reporting_api(self.read_model, self.tokens)


DEMO_ACTOR = Actor(user_id="demo-loader", organisation="worcestershire-cc", role="partnership_officer")


def load_demo_data(system: System) -> bool:
    """The seed's worked example (Appendix 4B), loaded once into an empty store. Returns whether it loaded."""
    app = system.priorities
    if app is None or app.recorder.max_notification_id() is not None:
        return False
    context = CommandContext(DEMO_ACTOR, "demo-data")
    board = Decision(body="worcestershire-partnership", decided_on=date(2011, 3, 1),
                     reason="Sustainable Community Strategy agreed by the partnership board")
    scs = app.add_objective(context, title="A skilled and prosperous economy", level=StrategyLevel.SCS,
                            strategy="Sustainable Community Strategy", decision=board)
    economic = Decision(body="pstg", decided_on=date(2011, 4, 12),
                        reason="County Economic Strategy refines the SCS economic objective")
    app.add_objective(context, title="Enhance employability levels, removing barriers to employment and "
                      "improving skills", level=StrategyLevel.COUNTY_STRATEGY, strategy="County Economic Strategy",
                      parent_id=scs.id, decision=economic)
    log.info("demo data loaded", extra={"objectives": 2})
    return True
