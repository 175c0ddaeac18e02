"""Mounts the web pages on the system's app: GOV.UK Frontend's assets and the pages, reading GraphQL in process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from services.reporting.readmodel import ReportingReadModel
from shared.auth import TokenService
from shared.settings import Settings
from web.assets import install_assets
from web.graphql import Reader
from web.public import FILTERS, public_router
from web.render import Renderer
from web.scrutiny import scrutiny_router
from web.session import development_sign_in_router
from web.workspace import workspace_router


def install_web(app: FastAPI, model: ReportingReadModel, tokens: TokenService, settings: Settings,
                auditor: Callable[[], Any] | None = None) -> None:
    """The pages at ``/`` and below, and their assets at ``/assets``."""
    install_assets(app)
    reader = Reader(model, settings.service_urls, auditor)
    renderer = Renderer(reader, service_name=model.partnership.name, development=tokens.can_mint, filters=FILTERS,
                        tokens=tokens)
    app.include_router(public_router(renderer))
    app.include_router(scrutiny_router(renderer, tokens, renderer.development))
    app.include_router(workspace_router(renderer, tokens))
    if tokens.can_mint:  # the embedded mode's own tokens: a development sign-in; elsewhere the identity provider
        app.include_router(development_sign_in_router(renderer, tokens, secure_cookie=False))
