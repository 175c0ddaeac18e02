"""The developer tools, served offline: Swagger UI and ReDoc at ``/docs`` and ``/redoc`` of every REST API, GraphiQL
at ``/graphql`` in a browser. Their scripts and styles are the npm packages of the root ``package.json``
(``swagger-ui-dist``, ``redoc``, ``graphiql`` 3 with React 18's UMD builds), installed by ``npm ci`` from ``make run``
and ``make test`` and served by the app itself under ``/_devtools/``: no page names a CDN, so they work on a machine
without the internet. Without ``node_modules`` the pages say how to install the assets instead of staying blank.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from shared.web import problem

ASSETS_PATH = "/_devtools"


@dataclass(frozen=True)
class Asset:
    package: str
    file: str
    media_type: str


# Only these files are served: a name in the URL, never a path into node_modules.
ASSETS: dict[str, Asset] = {
    "swagger-ui-bundle.js": Asset("swagger-ui-dist", "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": Asset("swagger-ui-dist", "swagger-ui.css", "text/css"),
    "swagger-favicon.png": Asset("swagger-ui-dist", "favicon-32x32.png", "image/png"),
    "redoc.standalone.js": Asset("redoc", "bundles/redoc.standalone.js", "text/javascript"),
    "react.production.min.js": Asset("react", "umd/react.production.min.js", "text/javascript"),
    "react-dom.production.min.js": Asset("react-dom", "umd/react-dom.production.min.js", "text/javascript"),
    "graphiql.umd.js": Asset("graphiql", "dist/index.umd.js", "text/javascript"),
    "graphiql.css": Asset("graphiql", "dist/style.css", "text/css"),
}


# The tool pages may reach only the app: ReDoc's sidebar, for one, asks a CDN for its logo, which this refuses in the
# browser (the logo then hides itself). Inline scripts and styles are the pages' own start-up code.
OFFLINE_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                  "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
                  "frame-ancestors 'self'; base-uri 'self'; form-action 'self'")


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = OFFLINE_POLICY
    return page


def node_modules() -> Path:
    """The root ``node_modules`` (``PARTNERSHIP_NODE_MODULES`` names another, e.g. a copy in an image)."""
    configured = os.environ.get("PARTNERSHIP_NODE_MODULES")
    return Path(configured) if configured else Path(__file__).resolve().parents[1] / "node_modules"


def _file(asset: Asset) -> Path:
    return node_modules() / asset.package / asset.file


def missing_assets() -> list[str]:
    return sorted({a.package for a in ASSETS.values() if not _file(a).is_file()})


def _url(request: Request, name: str) -> str:
    # Behind a mount (``/priorities``) the page's assets are the mounted app's own.
    return f"{request.scope.get('root_path', '').rstrip('/')}{ASSETS_PATH}/{name}"


def _not_installed(tool: str) -> HTMLResponse:
    missing = ", ".join(missing_assets())
    body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{tool} is not installed</title>"
            f"</head><body><main><h1>{tool} is not installed</h1><p>Its scripts come from the npm packages of the "
            f"project's <code>package.json</code> ({html.escape(missing)} missing from "
            f"<code>{html.escape(str(node_modules()))}</code>). Install Node.js with npm, then run "
            "<code>make run</code> (or <code>npm ci</code> in the repository) and reload this page.</p>"
            "<p>The API itself works without them.</p></main></body></html>")
    return HTMLResponse(body, status_code=503)


def assets_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get(ASSETS_PATH + "/{name}")
    def asset(name: str) -> Response:
        found = ASSETS.get(name)
        if found is None:
            return problem(404, "NOT_FOUND", "No such developer-tools asset", f"{name!r} is not one of ours.")
        path = _file(found)
        if not path.is_file():
            return problem(503, "DEVTOOLS_NOT_INSTALLED", "The developer tools are not installed",
                           f"npm package {found.package!r} is missing: run `make run` or `npm ci`.")
        return FileResponse(path, media_type=found.media_type, headers={"Cache-Control": "public, max-age=3600"})

    return router


def install_api_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` and ReDoc at ``/redoc`` from local assets; make the app with ``docs_url=None,
    redoc_url=None`` so FastAPI's own CDN pages are not there too."""
    assert app.docs_url is None and app.redoc_url is None, "FastAPI's CDN docs pages are still on"
    app.include_router(assets_router())

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        if missing_assets():
            return _not_installed("Swagger UI")
        root = request.scope.get("root_path", "").rstrip("/")
        return _offline(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
            swagger_js_url=_url(request, "swagger-ui-bundle.js"), swagger_css_url=_url(request, "swagger-ui.css"),
            swagger_favicon_url=_url(request, "swagger-favicon.png"),
            # no badge from the public online validator: nothing leaves the machine
            swagger_ui_parameters={"validatorUrl": None}))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        if missing_assets():
            return _not_installed("ReDoc")
        root = request.scope.get("root_path", "").rstrip("/")
        return _offline(get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
                                       redoc_js_url=_url(request, "redoc.standalone.js"),
                                       redoc_favicon_url=_url(request, "swagger-favicon.png"), with_google_fonts=False))


def graphiql_html(request: Request) -> HTMLResponse:
    """GraphiQL for the endpoint the browser is on, from local assets (with the app's ``/_devtools`` router)."""
    if missing_assets():
        return _not_installed("GraphiQL")
    endpoint = json.dumps(request.url.path)
    return _offline(HTMLResponse(f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>GraphiQL - Partnership governance</title>
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{_url(request, 'graphiql.css')}">
  <script src="{_url(request, 'react.production.min.js')}"></script>
  <script src="{_url(request, 'react-dom.production.min.js')}"></script>
  <script src="{_url(request, 'graphiql.umd.js')}"></script>
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script>
    // Sign in for a bearer token and put it in the Headers pane: {{"Authorization": "Bearer ..."}}
    const fetcher = GraphiQL.createFetcher({{ url: {endpoint} }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{ fetcher: fetcher, defaultEditorToolsVisibility: true }}));
  </script>
</body>
</html>"""))
