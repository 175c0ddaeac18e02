"""The reporting service's HTTP surface: the GraphQL gateway at ``/graphql`` and the scrutiny packs at ``/reports``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from services.reporting.graphql import graphql_router
from services.reporting.readmodel import ReportingReadModel
from shared.auth import TokenService
from shared.settings import Settings
from shared.web import install_problem_handlers


def reporting_router(model: ReportingReadModel, tokens: TokenService, settings: Settings) -> APIRouter:
    """Everything the reporting service serves, for the embedded app and the gateway process alike."""
    router = APIRouter()
    router.include_router(graphql_router(model, tokens, settings.service_urls), prefix="/graphql")
    return router


def create_app(model: ReportingReadModel, tokens: TokenService, settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="Reporting service and GraphQL gateway", version="1.0")
    app.state.tokens = tokens
    install_problem_handlers(app)
    app.include_router(reporting_router(model, tokens, settings or Settings()))
    return app
