"""Who is signed in to the pages: a session cookie holding the caller's bearer token (HttpOnly, SameSite=Lax).

In the embedded mode the development sign-in page (``/sign-in``, clearly marked development only) lets anyone pick
a demo user and role; the cookie then holds an HS256 token minted with the process's own key (the settings'
``PARTNERSHIP_JWT_SECRET``, or the embedded data directory's generated key), the same token the APIs verify. The
scrutiny and officer pages read GraphQL and post commands as that token's principal.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.auth import AuthenticationError, Principal, Role, TokenService
from web.forms import form
from web.render import Renderer

COOKIE = "partnership_session"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class DemoUser:
    """A person of the demo partnership (the Keycloak realm's users, deploy/keycloak/partnership-realm.json)."""

    key: str
    name: str
    organisation: str
    role: Role
    district: str | None = None
    theme_group: str | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


ROLE_LABELS = {
    Role.SCRUTINY_MEMBER: "scrutiny member", Role.PARTNERSHIP_OFFICER: "partnership officer",
    Role.THEME_GROUP_LEAD: "theme group lead", Role.DISTRICT_COORDINATOR: "district coordinator",
    Role.PROGRAMME_MANAGER: "programme manager", Role.PARTNER_OFFICER: "partner officer", Role.AUDITOR: "auditor",
    Role.WITNESS: "witness", Role.PUBLIC: "the public",
}

DEMO_USERS = [
    DemoUser("scrutiny", "Sam Scrutiny, county councillor", "worcestershire-cc", Role.SCRUTINY_MEMBER),
    DemoUser("officer", "Pat Officer, partnership team", "worcestershire-cc", Role.PARTNERSHIP_OFFICER),
    DemoUser("pstg-lead", "Lee Lead, Place Shaping Theme Group", "worcestershire-cc", Role.THEME_GROUP_LEAD,
             theme_group="pstg"),
    DemoUser("worcester-coordinator", "Wren Coordinator, Worcester Alliance", "worcester-city-council",
             Role.DISTRICT_COORDINATOR, district="worcester"),
    DemoUser("worcester-manager", "Morgan Manager, Worcester programme", "worcester-city-council",
             Role.PROGRAMME_MANAGER, district="worcester"),
    DemoUser("wychavon-coordinator", "Vic Coordinator, Wychavon partnership", "wychavon-dc",
             Role.DISTRICT_COORDINATOR, district="wychavon"),
    DemoUser("college-officer", "Casey Officer, Worcester College", "worcester-college", Role.PARTNER_OFFICER),
    DemoUser("auditor", "Ari Auditor, internal audit", "worcestershire-cc", Role.AUDITOR),
]
_BY_KEY = {user.key: user for user in DEMO_USERS}


@dataclass(frozen=True)
class SignedIn:
    """The page's caller: their principal, the token the commands are sent with, and how the page names them."""

    principal: Principal
    token: str
    name: str
    role_label: str


def signed_in(request: Request, tokens: TokenService) -> SignedIn | None:
    """The caller of this request from its session cookie, or None (not signed in, or the session ended)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        principal = tokens.verify(token)
    except AuthenticationError:
        return None
    demo = _BY_KEY.get(principal.user_id)
    labels = sorted(ROLE_LABELS[grant.role] + (f" in {grant.scope}" if grant.scope else "")
                    for grant in principal.grants)
    # A person by the name their provider gives, never their subject id (personal data the vault keeps erasable).
    shown = demo.name if demo else (principal.name or ", ".join(labels) or "Signed in")
    found = SignedIn(principal, token, shown, ", ".join(labels))
    request.state.web_user = found
    navigation = []
    if principal.has(Role.SCRUTINY_MEMBER) or principal.has(Role.AUDITOR) or principal.has(Role.PARTNERSHIP_OFFICER):
        navigation.append(("/scrutiny", "Scrutiny"))
    if any(principal.has(role) for role in WORKSPACE_ROLES):
        navigation.append(("/workspace", "Officer workspace"))
    request.state.web_navigation = navigation
    return found


WORKSPACE_ROLES = (Role.PARTNERSHIP_OFFICER, Role.THEME_GROUP_LEAD, Role.DISTRICT_COORDINATOR, Role.PROGRAMME_MANAGER,
                   Role.PARTNER_OFFICER)


def development_sign_in_router(renderer: Renderer, tokens: TokenService, secure_cookie: bool,
                               organisation: bool = False) -> APIRouter:
    """``/sign-in`` of the embedded mode (development only): pick a demo user (or, when ``organisation``, go to
    the identity provider)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/sign-in", response_class=HTMLResponse)
    def sign_in_page(request: Request) -> HTMLResponse:
        signed_in(request, tokens)
        return renderer.page(request, "sign_in.html", "Sign in (development only)", users=DEMO_USERS,
                             organisation=organisation)

    @router.post("/sign-in", response_class=HTMLResponse)
    async def sign_in(request: Request) -> Response:
        demo = _BY_KEY.get((await form(request)).get("user", ""))
        if demo is None:
            first = f"user-{DEMO_USERS[0].key}"
            return renderer.page(request, "sign_in.html", "Sign in (development only)", users=DEMO_USERS,
                                 organisation=organisation, status_code=422,
                                 errors=[{"field": first, "message": "Select who you want to sign in as"}])
        token = tokens.mint(demo.key, demo.organisation, [demo.role.value], district=demo.district,
                            theme_group=demo.theme_group, ttl_seconds=SESSION_SECONDS)
        landing = "/scrutiny" if demo.role in (Role.SCRUTINY_MEMBER, Role.AUDITOR) else "/workspace"
        response = RedirectResponse(landing, status_code=303)
        response.set_cookie(COOKIE, token, max_age=SESSION_SECONDS, httponly=True, samesite="lax", path="/",
                            secure=secure_cookie)
        return response

    return router


def sign_out_router() -> APIRouter:
    """``/sign-out``: the session cookie goes (a POST: a link or an image elsewhere cannot sign anyone out)."""
    router = APIRouter(include_in_schema=False)

    @router.post("/sign-out")
    def sign_out() -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        return response

    return router
