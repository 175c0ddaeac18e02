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


def install_web(app: FastAPI, model: ReportingReadModel, tokens: TokenService, settings: Settings,
                auditor: Callable[[], Any] | None = None) -> None:
    """The pages at ``/`` and below, and their assets at ``/assets``."""
    install_assets(app)
    reader = Reader(model, settings.service_urls, auditor)
    renderer = Renderer(reader, service_name=model.partnership.name, development=tokens.can_mint, filters=FILTERS)
    app.include_router(public_router(renderer))
