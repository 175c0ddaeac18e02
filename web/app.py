"""Mounts the web pages on the system's app: GOV.UK Frontend's assets and the pages, reading GraphQL in process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from services.reporting.readmodel import ReportingReadModel
from shared.auth import TokenService
from shared.settings import Settings
from web.assets import install_assets
from web.graphql import Reader
from web.oidc import oidc_sign_in_router
from web.public import FILTERS, public_router
from web.render import Renderer
from web.scrutiny import scrutiny_router
from web.session import development_sign_in_router, sign_out_router
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
    organisation = oidc_sign_in_router(renderer, tokens, settings)
    if organisation is not None:
        app.include_router(organisation)
    if tokens.can_mint:  # the embedded mode's own tokens: a development sign-in; elsewhere the identity provider
        app.include_router(development_sign_in_router(renderer, tokens, secure_cookie=False,
                                                      organisation=organisation is not None))
    elif organisation is not None:
        @app.get("/sign-in", include_in_schema=False)
        def sign_in() -> RedirectResponse:
            return RedirectResponse("/sign-in/organisation", status_code=303)
    renderer.sign_in = tokens.can_mint or organisation is not None
    app.include_router(sign_out_router())
