"""A scrutiny member signs in to the web pages through the real Keycloak (tests/keycloak.py) in a real headless
Chromium: authorization code with PKCE (S256) as the realm's public client ``partnership-web``, Keycloak's own
login form typed into, back to the scrutiny pages with a session cookie (HttpOnly, SameSite=Lax) holding the
access token the APIs verify; then the drill-down from the county target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import Browser
from tests.harness import Harness, chromium, free_port, running_system, serving, settings_for, wait_until
from tests.keycloak import REALM, KeycloakRealm

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "web-screenshots"
CLIENT = "partnership-web"


@pytest.fixture(scope="module")
def site(keycloak: KeycloakRealm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harness, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The realm's web client lets this run's loopback port be a redirect URI (the realm file's placeholder names
    # port 8000, make run's).
    [client] = keycloak.admin("GET", f"/{REALM}/clients", params={"clientId": CLIENT}).json()
    keycloak.admin("PUT", f"/{REALM}/clients/{client['id']}",
                   json={**client, "redirectUris": [*client["redirectUris"], f"{base}/*"]})
    patch = pytest.MonkeyPatch()
    patch.setenv("PARTNERSHIP_WEB_OIDC_CLIENT_ID", CLIENT)
    try:
        with running_system(settings_for(data_dir=tmp_path_factory.mktemp("web-oidc"),
                                         oidc_issuers=[keycloak.issuer_config()])) as h:
            assert h.system.load_demo_data()
            assert h.system.read_model is not None
            wait_until(lambda: h.system.read_model is not None and h.system.read_model.event_counts().get(
                "projects.ProgressReported.v3", 0) >= 4, 60, what="the demo in reporting")
            with serving(h.system.asgi(), port=port) as url:
                yield h, url
    finally:
        patch.undo()


def test_a_scrutiny_member_signs_in_through_keycloak_with_pkce_and_drills_down(
        site: tuple[Harness, str], keycloak: KeycloakRealm, tmp_path: Path) -> None:
    _, base = site
    browser = Browser(chromium(), tmp_path / "profile")
    try:
        browser.open(base + "/sign-in")
        assert "Sign in with your organisation" in browser.evaluate("document.body.innerText")
        browser.events.clear()
        browser.evaluate("document.querySelector('a[href=\"/sign-in/organisation\"]').click()")
        browser.wait_event("Page.loadEventFired")
        login = browser.evaluate("location.href")
        assert login.startswith(keycloak.issuer + "/protocol/openid-connect/auth?"), login
        assert "code_challenge_method=S256" in login and "code_challenge=" in login
        browser.screenshot(SCREENSHOTS / "keycloak-login.png")
        browser.evaluate(f"document.getElementById('username').value = 'scrutiny';"
                         f"document.getElementById('password').value = {keycloak.user_password!r};")
        browser.events.clear()
        browser.evaluate("document.getElementById('kc-login').click()")
        browser.wait_event("Page.loadEventFired")
        try:
            wait_until(lambda: browser.evaluate("location.pathname") == "/scrutiny", 20, what="back at /scrutiny")
        except AssertionError:
            browser.screenshot(SCREENSHOTS / "keycloak-failed.png")
            raise AssertionError(f"at {browser.evaluate('location.href')}: "
                                 f"{browser.evaluate('document.body.innerText')[:1500]}") from None
        page = browser.evaluate("document.body.innerText")
        assert "Signed in as" in page and "scrutiny member" in page, page[:2000]
        assert "6,000 jobs" in page and "340" in page
        cookie = next(c for c in browser.call("Network.getAllCookies")["cookies"]
                      if c["name"] == "partnership_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert cookie["value"].count(".") == 2  # the provider's access token (a JWT), verified by the APIs
        browser.events.clear()
        browser.evaluate("document.querySelector('a[href^=\"/scrutiny/targets/\"]').click()")
        browser.wait_event("Page.loadEventFired")
        browser.events.clear()
        browser.evaluate("document.querySelector('a[href$=\"/districts/worcester\"]').click()")
        browser.wait_event("Page.loadEventFired")
        assert "Inward investment to the Blackpole business park" in browser.evaluate("document.body.innerText")
        browser.screenshot(SCREENSHOTS / "keycloak-signed-in-district.png")
    finally:
        browser.close()
