"""Pages from jinja2 templates (autoescaped), with the parts every page shares: navigation, who is signed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared.auth import Principal, TokenService
from web.graphql import Reader

TEMPLATES = Path(__file__).resolve().parent / "templates"

PUBLIC_NAVIGATION = [("/", "Targets and performance"), ("/taskings", "Taskings"), ("/decisions", "Decisions"),
                     ("/tables", "Who sits where"), ("/data", "Open data")]

# The pages' own scripts and styles only; forms post to the app itself.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
          "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


class Renderer:
    def __init__(self, reader: Reader, *, service_name: str, development: bool, filters: dict[str, Any],
                 tokens: TokenService | None = None) -> None:
        self.reader = reader
        self.tokens = tokens
        self.sign_in = development  # or an identity provider's sign-in (web.app)
        self.service_name = service_name
        self.development = development
        self.environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.environment.filters.update(filters)
        self.environment.globals["error_message"] = error_message

    async def read(self, request: Request, principal: Principal, document: str,
                   variables: dict[str, Any] | None = None) -> Any:
        return await self.reader.read(principal, document, variables)

    def page(self, request: Request, template: str, title: str, *, active: str = "", status_code: int = 200,
             **values: Any) -> HTMLResponse:
        if not hasattr(request.state, "web_user") and self.tokens is not None:
            from web.session import signed_in  # (the session module renders its pages with this)

            signed_in(request, self.tokens)  # the header says who is signed in on every page
        user = getattr(request.state, "web_user", None)
        navigation = list(PUBLIC_NAVIGATION) + list(getattr(request.state, "web_navigation", []))
        values.setdefault("development", self.development)
        values.setdefault("sign_in", self.sign_in)
        body = self.environment.get_template(template).render(
            title=title, service_name=self.service_name, navigation=navigation, active=active, user=user,
            errors=values.pop("errors", None), **values)
        return HTMLResponse(body, status_code=status_code, headers={"Content-Security-Policy": POLICY})


def error_message(errors: list[dict[str, Any]] | None, field: str) -> str | None:
    """The error summary's message for ``field``, shown again by its input (GOV.UK's error message)."""
    return next((str(e["message"]) for e in errors or [] if e.get("field") == field), None)
