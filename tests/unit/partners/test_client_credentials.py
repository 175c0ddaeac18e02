"""Partner systems authenticate with OAuth2 client credentials; secrets are kept hashed; a client token names the
client as its subject, so every write records it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.auth import (
    AuthenticationError,
    ClientRegistry,
    PartnerClient,
    Role,
    TokenService,
    hash_secret,
    oauth_router,
    secret_matches,
)
from shared.settings import Settings

KEY = "unit-test-signing-key-0123456789-abcdefghij"
SECRET = "s3cret-of-the-college-mis"
COLLEGE = PartnerClient(client_id="college-mis", organisation="worcester-college",
                        roles=frozenset({Role.PARTNER_OFFICER}), secret_hash=hash_secret(SECRET),
                        queries=frozenset({"deliveryProjects"}))


def _client(tmp_path: Path) -> tuple[TestClient, TokenService]:
    tokens = TokenService(KEY, "partnership", "partnership-api")
    app = FastAPI()
    app.include_router(oauth_router(Settings(data_dir=tmp_path), tokens, ClientRegistry([COLLEGE])))
    return TestClient(app), tokens


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_a_secret_is_kept_only_as_a_salted_hash() -> None:
    hashed = hash_secret(SECRET)
    assert SECRET not in hashed and hashed.startswith("scrypt$")
    assert hashed != hash_secret(SECRET)  # salted
    assert secret_matches(SECRET, hashed)
    assert not secret_matches("wrong", hashed)
    assert not secret_matches(SECRET, "not-a-hash")


def test_a_client_without_a_hash_takes_its_secret_from_the_environment(tmp_path: Path) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text("clients:\n  - client_id: police-rms\n    organisation: west-mercia-police\n"
                       "    roles: [partner_officer]\n    topics: [projects.events]\n")
    with pytest.raises(ValueError, match="no secret"):
        ClientRegistry.from_file(clients)
    registry = ClientRegistry.from_settings(Settings(data_dir=tmp_path, partner_clients_file=clients,
                                                     partner_client_secrets={"police-rms": "from-the-vault"}))
    client = registry.authenticate("police-rms", "from-the-vault")
    assert client is not None and client.topics == {"projects.events"}
    assert registry.authenticate("police-rms", "guess") is None
    assert registry.authenticate("nobody", "from-the-vault") is None


def test_the_client_credentials_grant_gives_a_token_whose_subject_is_the_client(tmp_path: Path) -> None:
    client, tokens = _client(tmp_path)
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=_basic("college-mis", SECRET))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "partner_officer"
    assert response.headers["cache-control"] == "no-store"
    principal = tokens.verify(body["access_token"])
    assert principal.user_id == "client:college-mis" and principal.client_id == "college-mis"
    assert principal.organisation == "worcester-college" and principal.roles == {Role.PARTNER_OFFICER}
    assert principal.actor(Role.PARTNER_OFFICER).user_id == "client:college-mis"
    assert principal.may_query("deliveryProjects") and not principal.may_query("taskings")


def test_credentials_may_also_come_in_the_form_body(tmp_path: Path) -> None:
    client, _ = _client(tmp_path)
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "college-mis",
                                                 "client_secret": SECRET})
    assert response.status_code == 200


@pytest.mark.parametrize(("data", "headers", "status", "error"), [
    ({"grant_type": "client_credentials"}, _basic("college-mis", "wrong"), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, _basic("someone-else", SECRET), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, {}, 401, "invalid_client"),
    ({"grant_type": "password"}, _basic("college-mis", SECRET), 400, "unsupported_grant_type"),
    ({}, _basic("college-mis", SECRET), 400, "invalid_request"),
    ({"grant_type": "client_credentials", "scope": "partnership_officer"}, _basic("college-mis", SECRET), 400,
     "invalid_scope"),
])
def test_refusals_follow_rfc_6749(tmp_path: Path, data: dict[str, str], headers: dict[str, str], status: int,
                                  error: str) -> None:
    client, _ = _client(tmp_path)
    response = client.post("/oauth/token", data=data, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
    if status == 401:
        assert "WWW-Authenticate" in response.headers


def test_parameters_must_be_form_encoded(tmp_path: Path) -> None:
    client, _ = _client(tmp_path)
    response = client.post("/oauth/token", json={"grant_type": "client_credentials"},
                           headers=_basic("college-mis", SECRET))
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_client_token_must_name_the_client_as_its_subject() -> None:
    tokens = TokenService(KEY, "partnership", "partnership-api")
    forged = tokens.mint("officer-1", "worcester-college", ["partner_officer"], client_id="college-mis")
    with pytest.raises(AuthenticationError, match="client:<client_id>"):
        tokens.verify(forged)


def test_people_are_not_restricted_to_granted_queries() -> None:
    tokens = TokenService(KEY, "partnership", "partnership-api")
    person = tokens.verify(tokens.mint("officer-1", "worcestershire-cc", ["partnership_officer"]))
    assert person.client_id is None and person.may_query("taskings")


def test_a_person_whose_token_maps_to_no_grant_sees_only_what_the_public_sees() -> None:
    # Signed in through the organisation's provider, but no claim maps to a grant of ours: being authenticated
    # is not being authorized, so such a caller reads what open data publishes and nothing more.
    tokens = TokenService(KEY, "partnership", "partnership-api")
    nobody = tokens.verify(tokens.mint("visitor-1", "worcestershire-cc", []))
    assert not nobody.grants and nobody.is_public
    assert nobody.may_query("taskings") and not nobody.may_query("deliveryProjects")
    witness = tokens.verify(tokens.mint("county-internal-audit", "worcestershire-cc", ["witness"]))
    assert witness.is_public and not witness.may_query("auditVerification")
