"""Cross-origin access for browser apps on other sites (officers' dashboards, councils' transparency pages).

Starlette's ``CORSMiddleware``, configured from the settings (``PARTNERSHIP_CORS_*``), wraps a whole web process:
the gateway and every REST API mounted in it. It is the outermost layer, so a refusal (401, 413, a problem) reaches
the page with its CORS headers and the page can read why, and a preflight is answered before anything else runs.
No origin is allowed by default: a browser then refuses every cross-origin call.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from shared.settings import Settings

EXPOSED_HEADERS = ("ETag", "Location", "Retry-After", "Link", "X-Correlation-ID", "WWW-Authenticate")
"""Response headers a page's script may read beyond the CORS-safelisted ones: a version to send back in
If-Match, where a created resource is, when to retry, the next page, the id to quote to support, why refused."""


def install_cors(app: FastAPI, settings: Settings) -> None:
    """Answer preflights and mark answers for the configured origins; nothing when none is configured. Call it
    last: the middleware added last runs first."""
    if not settings.cors_origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=settings.cors_methods,
        allow_headers=settings.cors_headers,
        allow_credentials=settings.cors_allow_credentials,
        expose_headers=list(EXPOSED_HEADERS),
        max_age=settings.cors_max_age,
    )
