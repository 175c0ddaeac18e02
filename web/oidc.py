"""Sign-in through the organisation's identity provider: OpenID Connect authorization code with PKCE (S256), the
pages being a public client of the provider (no client secret: ``PARTNERSHIP_WEB_OIDC_CLIENT_ID`` names it,
e.g. Keycloak's ``partnership-web``, an Entra ID app registration's SPA/public client).

The access token the provider returns is checked like any bearer token (``shared.auth.TokenService``: issuer,
audience, signature by ``kid``, expiry, claims mapped to grants) and becomes the session cookie (HttpOnly,
SameSite=Lax); the session ends when the token expires. The state, nonce and code verifier of a sign-in in flight
wait in a short-lived HttpOnly cookie scoped to ``/sign-in``, so any replica can finish it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth import AuthenticationError, Role, TokenService
from shared.settings import Settings
from web.render import Renderer
from web.session import COOKIE

FLIGHT = "partnership_sign_in"
FLIGHT_SECONDS = 600


class WebSignIn(BaseSettings):
    """Which identity provider the pages send people to, as which client."""

    model_config = SettingsConfigDict(env_prefix="PARTNERSHIP_WEB_OIDC_")

    client_id: str | None = None
    issuer: str | None = None  # one of PARTNERSHIP_OIDC_ISSUERS; default the first


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class Provider:
    """The provider's discovery document, fetched when first needed and kept an hour."""

    def __init__(self, discovery_url: str) -> None:
        self.discovery_url = discovery_url
        self._document: dict[str, Any] | None = None
        self._fetched = 0.0

    async def document(self) -> dict[str, Any]:
        if self._document is None or time.monotonic() - self._fetched > 3600:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.get(self.discovery_url)
            answer.raise_for_status()
            self._document, self._fetched = answer.json(), time.monotonic()
        return self._document


def oidc_sign_in_router(renderer: Renderer, tokens: TokenService, settings: Settings,
                        web: WebSignIn | None = None) -> APIRouter | None:
    """``/sign-in/organisation`` and its callback, or None when no provider and client are configured."""
    web = web or WebSignIn()
    issuers = settings.identity_providers()
    if web.client_id is None or not issuers:
        return None
    config = next((i for i in issuers if i.issuer == web.issuer), None) if web.issuer else issuers[0]
    if config is None:
        raise RuntimeError(f"PARTNERSHIP_WEB_OIDC_ISSUER names {web.issuer}, which is not among the trusted issuers")
    provider = Provider(config.discovery_url or f"{config.issuer.rstrip('/')}/.well-known/openid-configuration")
    client_id = web.client_id
    router = APIRouter(include_in_schema=False)

    def failed(request: Request, message: str, status_code: int = 400) -> HTMLResponse:
        return renderer.page(request, "problem.html", "Sign-in did not work", detail=message, status_code=status_code)

    @router.get("/sign-in/organisation")
    async def start(request: Request) -> Response:
        try:
            document = await provider.document()
        except (httpx.HTTPError, ValueError):
            return failed(request, "Your organisation's sign-in service cannot be reached. Try again later.", 503)
        flight = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24),
                  "verifier": secrets.token_urlsafe(64)}
        query = urlencode({"response_type": "code", "client_id": client_id, "scope": "openid",
                           "redirect_uri": str(request.url_for("oidc_callback")), "state": flight["state"],
                           "nonce": flight["nonce"], "code_challenge": _challenge(flight["verifier"]),
                           "code_challenge_method": "S256"})
        response = RedirectResponse(f"{document['authorization_endpoint']}?{query}", status_code=303)
        response.set_cookie(FLIGHT, base64.urlsafe_b64encode(json.dumps(flight).encode()).decode(),
                            max_age=FLIGHT_SECONDS, httponly=True, samesite="lax", path="/sign-in",
                            secure=request.url.scheme == "https")
        return response

    @router.get("/sign-in/callback", name="oidc_callback")
    async def callback(request: Request, code: str | None = None, state: str | None = None,
                       error: str | None = None, error_description: str | None = None, iss: str | None = None,
                       session_state: str | None = None) -> Response:
        try:
            flight = json.loads(base64.urlsafe_b64decode(request.cookies.get(FLIGHT, "")))
        except ValueError:
            flight = None
        if not isinstance(flight, dict) or not state or not secrets.compare_digest(str(flight.get("state")), state):
            return failed(request, "This sign-in was not started here, or took too long. Sign in again.")
        if iss is not None and iss != config.issuer:  # RFC 9207: the answer is from the provider asked, not a mix-up
            return failed(request, "The answer came from another sign-in service than the one asked. Sign in again.")
        if error or not code:
            refusal = error_description or error or "no code"
            return failed(request, f"Your organisation's sign-in service refused: {refusal}.", 401)
        document = await provider.document()
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(document["token_endpoint"], data={
                "grant_type": "authorization_code", "code": code, "client_id": client_id,
                "redirect_uri": str(request.url_for("oidc_callback")), "code_verifier": flight["verifier"]})
        if answer.status_code != 200:
            return failed(request, "Your organisation's sign-in service did not confirm the sign-in. Sign in again.",
                          401)
        granted = answer.json()
        token = str(granted.get("access_token", ""))
        try:
            principal = tokens.verify(token)
        except AuthenticationError as refused:
            return failed(request, f"The sign-in cannot be used here: {refused}", 401)
        landing = "/scrutiny" if principal.has(Role.SCRUTINY_MEMBER) or principal.has(Role.AUDITOR) else "/workspace"
        response = RedirectResponse(landing, status_code=303)
        response.set_cookie(COOKIE, token, max_age=int(granted.get("expires_in") or 300), httponly=True,
                            samesite="lax", path="/", secure=request.url.scheme == "https")
        response.delete_cookie(FLIGHT, path="/sign-in")
        return response

    return router
