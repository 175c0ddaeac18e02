"""The reporting service's HTTP surface: the GraphQL gateway at ``/graphql`` and health."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting.graphql import graphql_router
from services.reporting.readmodel import ReportingReadModel
from shared.auth import TokenService
from shared.web import install_problem_handlers


def create_app(model: ReportingReadModel, tokens: TokenService) -> FastAPI:
    app = FastAPI(title="Reporting service and GraphQL gateway", version="1.0")
    app.state.tokens = tokens
    install_problem_handlers(app)
    app.include_router(graphql_router(model, tokens), prefix="/graphql")
    return app
