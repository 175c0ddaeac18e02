"""A real Keycloak for the tests (session fixture ``keycloak``), started once per session and only when a test asks.

It imports ``deploy/keycloak/partnership-realm.json``; the realm's ``${...}`` placeholders (user password, the partner
client's secret) are filled with values generated here, per run. ``KeycloakRealm`` signs people in (direct grant),
partner systems (client credentials) and drives the admin REST API (key rotation, throwaway clients and realms).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shared.settings import IssuerConfig
from tools.realservers import KeycloakServer

ROOT = Path(__file__).resolve().parent.parent
REALM_FILE = ROOT / "deploy" / "keycloak" / "partnership-realm.json"
ISSUER_FILE = ROOT / "deploy" / "keycloak" / "issuer.yaml"
REALM = "partnership"


class KeycloakRealm:
    """The partnership realm of a running Keycloak: tokens for its users and clients, and its admin API."""

    def __init__(self, server: KeycloakServer, user_password: str, college_secret: str) -> None:
        self.server = server
        self.user_password = user_password
        self.college_secret = college_secret
        self.http = httpx.Client(timeout=30)

    @property
    def issuer(self) -> str:
        return self.server.issuer(REALM)

    def issuer_config(self, **overrides: Any) -> IssuerConfig:
        """The claim mapping of ``deploy/keycloak/issuer.yaml``, for this Keycloak's issuer."""
        [entry] = yaml.safe_load(ISSUER_FILE.read_text())["issuers"]
        return IssuerConfig.model_validate({**entry, "issuer": self.issuer, **overrides})

    def _token(self, data: dict[str, str], realm: str = REALM) -> str:
        response = self.http.post(f"{self.server.issuer(realm)}/protocol/openid-connect/token", data=data)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def sign_in(self, username: str, client_id: str = "partnership-web", realm: str = REALM) -> str:
        """An officer's access token through the resource-owner password (direct) grant."""
        return self._token({"grant_type": "password", "client_id": client_id, "username": username,
                            "password": self.user_password, "scope": "openid"}, realm)

    def client_credentials(self, client_id: str, secret: str) -> str:
        """A partner system's access token (OAuth2 client credentials)."""
        return self._token({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})

    # -- admin REST API

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``/admin/realms/<path>`` as the bootstrap admin (a fresh admin token each time: they live a minute)."""
        token = self._token({"grant_type": "password", "client_id": "admin-cli", "username": self.server.admin_username,
                             "password": self.server.admin_password}, realm="master")
        response = self.http.request(method, f"{self.server.url}/admin/realms{path}",
                                     headers={"authorization": f"Bearer {token}"}, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response

    def add_client(self, client: dict[str, Any], realm: str = REALM) -> None:
        self.admin("POST", f"/{realm}/clients", json=client)

    def add_key(self, provider: str, priority: int, **config: str) -> str:
        """A new signing key (``rsa-generated``, ``ecdsa-generated``) whose priority makes it the active one; its
        kid."""
        realm_id = self.admin("GET", f"/{REALM}").json()["id"]
        name = f"{provider}-{secrets.token_hex(4)}"
        self.admin("POST", f"/{REALM}/components", json={
            "name": name, "providerId": provider, "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": realm_id, "config": {"priority": [str(priority)], **{k: [v] for k, v in config.items()}}})
        keys = self.admin("GET", f"/{REALM}/keys").json()["keys"]
        return str(next(k["kid"] for k in keys if k.get("providerPriority") == priority))


def _start() -> tuple[KeycloakServer, str, str]:
    password, secret = secrets.token_urlsafe(18), secrets.token_urlsafe(24)
    server = KeycloakServer([REALM_FILE], env={"PARTNERSHIP_KEYCLOAK_USER_PASSWORD": password,
                                              "PARTNERSHIP_KEYCLOAK_COLLEGE_MIS_SECRET": secret})
    return server, password, secret


@pytest.fixture(scope="session")
def keycloak() -> Iterator[KeycloakRealm]:
    """A real Keycloak with the partnership realm, for the whole session."""
    server, password, secret = _start()
    started = time.monotonic()
    with server:
        print(f"\n# Keycloak ready in {time.monotonic() - started:.1f}s at {server.url}", flush=True)
        realm = KeycloakRealm(server, password, secret)
        try:
            yield realm
        finally:
            realm.http.close()
