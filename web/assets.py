"""GOV.UK Frontend's compiled CSS, JavaScript, fonts and images, served by the app from the root ``node_modules``
(``govuk-frontend`` in the root ``package.json``): no CDN. Its stylesheet names its fonts and images under
``/assets/``, so they are served there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from shared.devtools import node_modules

HERE = Path(__file__).resolve().parent


def frontend_dist() -> Path:
    return node_modules() / "govuk-frontend" / "dist" / "govuk"


def installed() -> bool:
    return (frontend_dist() / "govuk-frontend.min.css").is_file()


# A name in the URL, never a path into node_modules (besides the assets folder, served by StaticFiles, which
# refuses a path that leaves it).
_FILES: dict[str, tuple[str, Callable[[], Path]]] = {
    "govuk-frontend.min.css": ("text/css", lambda: frontend_dist() / "govuk-frontend.min.css"),
    "govuk-frontend.min.js": ("text/javascript", lambda: frontend_dist() / "govuk-frontend.min.js"),
    "web.css": ("text/css", lambda: HERE / "static" / "web.css"),
    "init.mjs": ("text/javascript", lambda: HERE / "static" / "init.mjs"),
}


def install_assets(app: FastAPI) -> None:
    router = APIRouter(include_in_schema=False)

    @router.get("/assets/{name}")
    def asset(name: str) -> Response:
        if name not in _FILES or not _FILES[name][1]().is_file():
            return Response("Not found", status_code=404, media_type="text/plain")
        media, path = _FILES[name]
        return FileResponse(path(), media_type=media, headers={"Cache-Control": "public, max-age=3600"})

    app.include_router(router)
    assets = frontend_dist() / "assets"
    if assets.is_dir():  # fonts and images; without npm the pages still render, unstyled
        app.mount("/assets", StaticFiles(directory=assets), name="govuk-assets")
