"""The composition root: builds each service's parts from settings and runs them (all in one process, or one part).

Embedded default: every service, every worker and the gateway in one process on SQLite and the embedded log.
Distributed: ``partnership serve|worker <service>`` runs one part against PostgreSQL and Kafka.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from services.audit.auditor import Auditor
from services.reporting.api import create_app as reporting_api
from services.reporting.api import reporting_router
from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from shared import metrics, tracing
from shared.audit.people import hold_vault
from shared.audit.publish import CheckpointPublisher
from shared.auth import ClientRegistry, OidcVerifier, TokenService, oauth_router
from shared.consumer import ConsumerRunner, polled_together
from shared.contracts import contract_type, is_released
from shared.contracts.audit import CHECKPOINTS_TOPIC, CheckpointSigned
from shared.cors import install_cors
from shared.devtools import install_api_docs
from shared.eventstore import ServiceApplication
from shared.health import Readiness
from shared.meeting_copy import meetings_consumer
from shared.readstore import ReadStore
from shared.relay import AdvisoryLockLeadership, Relay, StoredSignal
from shared.service import ServiceSpec
from shared.settings import Settings, TransportKind
from shared.transport import Transport
from shared.transport.embedded import EmbeddedTransport
from shared.transport.kafka import GroupTimeouts, KafkaTransport
from shared.web import install_problem_handlers

log = logging.getLogger(__name__)

TOPIC_PARTITIONS = 3


def service_specs() -> dict[str, ServiceSpec]:
    """The event-sourced services, upstream first (the order the paper's chain runs in)."""
    from services import priorities, projects, tasking

    specs = [priorities.SPEC, tasking.SPEC, projects.SPEC]
    return {spec.name: spec for spec in specs}


def partner_topics() -> frozenset[str]:
    """The topics a partner organisation's system may be granted: each event-sourced service's events topic (the
    channels of the published AsyncAPI contract), and the audit checkpoints a witness follows. Dead-letter topics
    hold other services' failures: internal."""
    return frozenset({*(spec.topic for spec in service_specs().values()), CHECKPOINTS_TOPIC})


SERVICES = ("priorities", "tasking", "projects", "reporting")


def make_transport(settings: Settings) -> Transport:
    if settings.transport is TransportKind.KAFKA:
        assert settings.kafka_bootstrap_servers
        return KafkaTransport(settings.kafka_bootstrap_servers, consumer_groups=settings.consumer_groups,
                              group_timeouts=GroupTimeouts(settings.consumer_max_poll_interval,
                                                           settings.consumer_session_timeout),
                              **settings.kafka_client_config())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return EmbeddedTransport(settings.data_dir / "log.sqlite3")


def relay_leadership(settings: Settings, topic: str) -> AdvisoryLockLeadership | None:
    """On PostgreSQL, a worker's replicas elect one relay per topic (an advisory lock); embedded: one process."""
    if not settings.database_url:
        return None
    return AdvisoryLockLeadership(settings.database_url, f"partnership-relay:{settings.schema_prefix}{topic}")


def stored_signal(settings: Settings, app: ServiceApplication) -> StoredSignal | None:
    """On PostgreSQL the relay waits for the store's commit announcements; embedded, it polls its log."""
    if not settings.database_url:
        return None
    return StoredSignal(settings.database_url, app.stored_channel)


def make_tokens(settings: Settings, clients: ClientRegistry | None = None) -> TokenService:
    """The process's token verifier: the configured identity providers and, in the embedded mode (or with
    ``PARTNERSHIP_DEV_TOKENS``), its own HS256 tokens. A distributed process with neither refuses to start."""
    oidc = OidcVerifier.from_settings(settings, clients)
    if not settings.own_tokens:
        if oidc is None:
            raise RuntimeError(
                "Outside the embedded mode the APIs accept only an identity provider's tokens: set "
                "PARTNERSHIP_OIDC_ISSUERS (or PARTNERSHIP_OIDC_ISSUERS_FILE), see the README's 'Signing in'. "
                "PARTNERSHIP_DEV_TOKENS=true allows HS256 development tokens instead (tests, a demo host only).")
        if settings.jwt_secret is not None:
            log.warning("PARTNERSHIP_JWT_SECRET is ignored: HS256 tokens are for the embedded mode only "
                        "(PARTNERSHIP_DEV_TOKENS=true allows them)")
        return TokenService(None, settings.jwt_issuer, settings.jwt_audience, oidc=oidc)
    return TokenService(settings.signing_key(), settings.jwt_issuer, settings.jwt_audience,
                        [secret.get_secret_value() for secret in settings.jwt_previous_secrets], oidc=oidc)


class System:
    """The parts of the services named in ``services`` (default all), built but not started."""

    def __init__(self, settings: Settings, services: tuple[str, ...] = SERVICES,
                 transport: Transport | None = None) -> None:
        self.settings = settings
        self.transport = transport or make_transport(settings)
        self.specs = service_specs()
        self.applications: dict[str, ServiceApplication] = {}
        self.demo_ids: dict[str, UUID] = {}
        self.read_model: ReportingReadModel | None = None
        self.relays: list[Relay] = []
        self.consumers: list[Any] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._closers: list[Callable[[], None]] = [hold_vault(settings)]  # the people vault's pool closes last
        self._auditor: Auditor | None = None
        self._auditor_lock = threading.Lock()
        for spec in self.specs.values():
            self.transport.ensure_topic(settings.topic(spec.topic), TOPIC_PARTITIONS)
        # One partition: every witness reads every service's checkpoints in the order they were published.
        self.transport.ensure_topic(settings.topic(CHECKPOINTS_TOPIC), 1)
        for name, spec in self.specs.items():
            if name not in services:
                continue
            app = spec.application(settings)
            self.applications[name] = app
            self.relays.append(Relay(app, self.transport, settings.topic(spec.topic),
                                     batch_size=settings.relay_batch_size, poll_interval=settings.relay_poll_interval,
                                     leadership=relay_leadership(settings, settings.topic(spec.topic)),
                                     signal=stored_signal(settings, app),
                                     publish_unreleased=settings.publishes_unreleased_events))
            if spec.consumers is not None:
                self.consumers.extend(spec.consumers(app, settings, self.transport))
        if "reporting" in services:
            store = ReadStore(settings, "reporting")
            self.read_model = ReportingReadModel(store, read_model_ddl())
            projection = ReportingProjection(changes=self.read_model.changes)
            for spec in self.specs.values():
                self.consumers.append(ConsumerRunner(
                    "reporting", store, self.transport, settings.topic(spec.topic), projection,
                    dead_letter_topic=settings.topic("reporting.dlq"), batch_size=settings.consumer_batch_size,
                ))
            # Its own copy of tasking's meetings and memberships: what it shows of decisions is what resolves.
            self.consumers.append(meetings_consumer("reporting", store, settings, self.transport))
        self._unregister_metrics = metrics.register(metrics.SystemCollector(lambda: self.relays,
                                                                            lambda: self.consumers))
        self._readiness: list[Readiness] = []

    def application(self, name: str) -> Any:
        return self.applications[name]

    @functools.cached_property
    def clients(self) -> ClientRegistry:
        """Partner systems' registrations (a clients file granting a topic that does not exist stops the start)."""
        return ClientRegistry.from_settings(self.settings, known_topics=partner_topics())

    @functools.cached_property
    def tokens(self) -> TokenService:
        """Built when a web surface is: a worker verifies no token, so it needs no identity provider."""
        return make_tokens(self.settings, self.clients)

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
        # Consumers of one topic into one store poll and commit together (one transaction per batch, not each).
        targets += [(f"consumer:{c.name}:{c.topic}", c.run) for c in polled_together(self.consumers)]
        targets += [(f"checkpoints:{name}", self._checkpoint_loop(app)) for name, app in self.applications.items()]
        return targets

    def _checkpoint_loop(self, app: ServiceApplication) -> Callable[[threading.Event], None]:
        """Signs the service's log within the checkpoint interval of every commit and publishes each checkpoint."""
        publisher = CheckpointPublisher(self.transport, self.settings.topic(CHECKPOINTS_TOPIC), app.service,
                                        app.checkpointer.log.origin)
        self._closers.append(publisher.close)
        if not (self.settings.publishes_unreleased_events or is_released(contract_type(CheckpointSigned))):
            # Like the relay: partners see the checkpoint event from its contract release on; signed meanwhile.
            log.warning("audit checkpoints are signed but not published until their contract is released",
                        extra={"service": app.service, "topic": self.settings.topic(CHECKPOINTS_TOPIC)})
            return lambda stop: app.checkpointer.run(stop, None)
        return lambda stop: app.checkpointer.run(stop, publisher)

    def stop_workers(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def close(self) -> None:
        self.stop_workers()
        self._unregister_metrics()
        for readiness in self._readiness:
            readiness.close()
        for app in self.applications.values():
            app.checkpointer.close()  # a clean shutdown leaves no event uncovered
            app.close()
        if self.read_model is not None:
            self.read_model.store.close()
        for closer in self._closers:
            closer()
        self.transport.close()

    # -- web -------------------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        relays = {r.topic: {"published": r.status.published, "degraded": r.status.degraded,
                            "leader": r.status.leader} for r in self.relays}
        consumers = {f"{c.name}:{c.topic}": {"applied": c.status.applied, "dead_lettered": c.status.dead_lettered,
                                              "passed_over": c.status.passed_over,
                                              "degraded": c.status.degraded} for c in self.consumers}
        degraded = any(r.status.degraded for r in self.relays) or any(c.status.degraded for c in self.consumers)
        return {"status": "degraded" if degraded else "ok", "relays": relays, "consumers": consumers}

    def asgi(self) -> FastAPI:
        """One app: each service's REST API under ``/<service>``, GraphQL at ``/graphql``."""
        names = ", ".join(f"/{n} (docs at /{n}/docs)" for n in self.applications)
        app = FastAPI(title="Partnership governance", version="1.0",
                      description=f"REST APIs under {names}; GraphQL at /graphql.", docs_url=None, redoc_url=None)
        app.state.tokens = self.tokens
        install_problem_handlers(app)
        install_api_docs(app)  # and the assets GraphiQL at /graphql loads
        self.install_operations(app, "web" if not self._threads else "embedded")
        if self.tokens.can_mint:  # the built-in token endpoint is the embedded mode's: elsewhere the IdP issues them
            app.include_router(oauth_router(self.settings, self.tokens, self.clients))
        if self.read_model is not None:
            app.include_router(reporting_router(self.read_model, self.tokens, self.settings, self.auditor))
        for name, application in self.applications.items():
            app.mount(f"/{name}", self.specs[name].create_api(application, self.tokens))
        if self.read_model is not None:
            self._mount_audit(app)
            from web.app import install_web  # the web pages, read from the same GraphQL schema (docs/architecture.md)

            install_web(app, self.read_model, self.tokens, self.settings, self.auditor)
        install_cors(app, self.settings)
        return app

    def reporting_asgi(self) -> FastAPI:
        assert self.read_model is not None
        app = reporting_api(self.read_model, self.tokens, self.settings, self.auditor)
        self.install_operations(app, "web")
        self._mount_audit(app)
        from web.app import install_web  # the gateway serves the web pages too: it holds the read models

        install_web(app, self.read_model, self.tokens, self.settings, self.auditor)
        install_cors(app, self.settings)
        return app

    def auditor(self) -> Auditor:
        """The process's auditor, made when first asked for: it reads every service's own store, read-only."""
        with self._auditor_lock:
            if self._auditor is None:
                self._auditor = Auditor(self.settings, self.specs)
                self._closers.append(self._auditor.close)
            return self._auditor

    def _mount_audit(self, app: FastAPI) -> None:
        """The auditor's REST surface at ``/audit``."""
        from services.audit.api import create_api as audit_api

        app.mount("/audit", audit_api(self.auditor(), self.tokens))

    def worker_asgi(self) -> FastAPI:
        """The worker's own small HTTP surface: liveness, readiness and metrics for its relays and consumers."""
        app = FastAPI(title="Partnership worker", docs_url=None, redoc_url=None, openapi_url=None)
        self.install_operations(app, "worker")
        return app

    # -- operations ------------------------------------------------------------------------------------------
    def _check_database(self) -> None:
        for application in self.applications.values():
            application.recorder.max_notification_id()
        if self.read_model is not None:
            self.read_model.store.query("SELECT 1 AS up")

    def _check_broker(self) -> None:
        # A topic this process may describe under ACLs: its own, or (reporting) the first it reads.
        spec = self.specs[next(iter(self.applications))] if self.applications else next(iter(self.specs.values()))
        self.transport.end_offsets(self.settings.topic(spec.topic))

    def install_operations(self, app: FastAPI, role: str) -> None:
        """``/healthz`` (liveness), ``/readyz`` (readiness on real checks), ``/metrics``, request metrics,
        correlation ids and tracing. A web process needs its database to be ready; the broker is reported but
        not required (commands are stored and published when it returns). A worker needs both."""
        required = {"database"} if role == "web" else {"database", "broker"}
        readiness = Readiness({"database": self._check_database, "broker": self._check_broker}, required)
        self._readiness.append(readiness)

        @app.get("/healthz", include_in_schema=False)
        def healthz() -> JSONResponse:
            dead = [t.name for t in self._threads if not t.is_alive()] if role != "web" else []
            if dead:  # a worker loop that ended on its own will not recover: let the orchestrator restart us
                return JSONResponse({"status": "failed", "stopped": dead}, status_code=500)
            return JSONResponse({"status": "ok"})

        @app.get("/readyz", include_in_schema=False)
        def readyz() -> JSONResponse:
            ready, checks = readiness.run()
            body = {**self.health(), "checks": checks}
            if not ready:
                body["status"] = "unavailable"
            return JSONResponse(body, status_code=200 if ready else 503)

        @app.get("/metrics", include_in_schema=False)
        def prometheus() -> Response:
            content, content_type = metrics.exposition()
            return Response(content, media_type=content_type)

        app.add_middleware(metrics.RequestMetrics, on_request=tracing.request_span)

    # -- demo data -------------------------------------------------------------------------------------------
    def load_demo_data(self, timeout: float = 30.0) -> bool:
        """The seed's worked example, loaded once into empty stores, service by service (workers must run)."""
        return load_demo(self.specs, self.applications, timeout, self.demo_ids)


def load_demo(specs: dict[str, ServiceSpec], applications: dict[str, ServiceApplication], timeout: float,
              ids: dict[str, UUID] | None = None) -> bool:
    """Load the worked example through the applications (upstream first) unless a store holds events already.
    Workers (here or in other processes) carry each service's facts downstream while this waits for them. ``ids``
    receives the ids of what it created, by name."""
    if any(app.holds_history() for app in applications.values()):
        return False
    ids = {} if ids is None else ids

    def wait_for(predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"demo data: waited {timeout:.0f}s for {what}")
            time.sleep(0.05)

    for name, spec in specs.items():
        if spec.load_demo_first is not None and name in applications:
            spec.load_demo_first(applications[name], ids, wait_for)
    for name, spec in specs.items():
        if spec.load_demo is not None and name in applications:
            spec.load_demo(applications[name], ids, wait_for)
    log.info("demo data loaded", extra={"ids": {k: str(v) for k, v in ids.items()}})
    return True
