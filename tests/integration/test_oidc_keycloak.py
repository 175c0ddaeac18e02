"""Sign-in through a real OpenID Connect provider: a Keycloak started for the session, its realm imported from
``deploy/keycloak/``. Officers sign in (direct grant), a partner system with client credentials; the real service
APIs (distributed configuration: PostgreSQL, no development tokens) apply their grants, record the grant in each
event, and refuse expired tokens, other audiences, unknown keys and other issuers, while a rotated key is found."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.copies import board_decision
from tests.harness import BOARD_DAY, TEST_SECRET, Harness, running_system, settings_for, wait_until
from tests.keycloak import ROOT, KeycloakRealm

# Keycloak's first start on a busy machine (its build, then the server) takes minutes: the session fixture's setup
# counts against the first test's timeout.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

REFETCH_INTERVAL = 3.0
CHAPTER = "/priorities/districts/worcester/chapter"  # any role reads it


@pytest.fixture(scope="module")
def harness(keycloak: KeycloakRealm, postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    settings = settings_for(
        data_dir=tmp_path_factory.mktemp("oidc"), postgres_url=postgres_url, dev_tokens=False,
        oidc_issuers=[keycloak.issuer_config()], oidc_leeway=0, oidc_jwks_refetch_interval=REFETCH_INTERVAL,
        oidc_jwks_lifespan=3600,
        partner_clients_file=ROOT / "deploy" / "partner-clients.yaml")
    with running_system(settings) as h:
        assert h.system.load_demo_data(timeout=120)
        yield h


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def project_led_by(h: Harness, organisation: str) -> Any:
    app = h.system.application("projects")
    programme = app.programme("worcester")
    assert programme is not None
    return next(p for p in map(app.project, programme.project_ids) if p.lead_partner == organisation)


def last_actor(h: Harness, service: str, aggregate_id: UUID) -> Any:
    return list(h.system.application(service).events.get(aggregate_id))[-1].actor


def evidence(title: str, objective_id: str) -> dict[str, Any]:
    return {"title": title, "summary": "Claimant count by ward", "source": "DWP", "evidence_date": "2012-03-01",
            "objective_ids": [objective_id]}


def test_officers_sign_in_and_act_under_the_grant_that_matches_the_record(keycloak: KeycloakRealm,
                                                                          harness: Harness) -> None:
    h = harness
    officer = keycloak.sign_in("officer")
    # The board's adoption, fed into priorities' copy (this process mints no tokens to record a meeting with).
    adopted = board_decision(h.system.application("priorities").local, BOARD_DAY, "Adopted by the board")
    added = h.client.post("/priorities/objectives", headers=bearer(officer),
                          json={"title": "Safer communities", "level": "scs", "strategy": "Sustainable Community",
                                "decision": adopted})
    assert added.status_code == 201, added.text
    actor = last_actor(h, "priorities", UUID(added.json()["id"]))
    assert (actor.role, actor.scope, actor.organisation) == ("partnership_officer", None, "worcestershire-cc")
    # The event holds the vault's pseudonym of the token's subject: opaque, no name
    assert actor.user_id == h.pseudonym(jwt.decode(officer, options={"verify_signature": False})["sub"])

    # Programme manager in Wychavon and coordinator in Worcester: each grant in its own scope only.
    both = bearer(keycloak.sign_in("wychavon-manager"))
    objective = added.json()["id"]
    submitted = h.client.post("/priorities/districts/worcester/evidence", headers=both,
                              json=evidence("Worcester", objective))
    assert submitted.status_code == 201, submitted.text
    actor = last_actor(h, "priorities", UUID(submitted.json()["id"]))
    assert (actor.role, actor.scope, actor.organisation) == ("district_coordinator", "worcester", "wychavon-dc")
    elsewhere = h.client.post("/priorities/districts/wychavon/evidence", headers=both,
                              json=evidence("Wychavon", objective))
    assert elsewhere.status_code == 403, elsewhere.text
    academy = project_led_by(h, "worcester-college")
    override = {"rag": "amber", "reason": "Placements slipping", "expected_version": academy.version,
                "decision": {"body": "worcester", "decided_on": "2013-04-24", "reason": "Placements slipping",
                             "delegation": "worcester-programme-manager"}}
    refused = h.client.post(f"/projects/projects/{academy.id}/rag-override", headers=both, json=override)
    assert refused.status_code == 403, refused.text
    assert refused.json()["held"] == ["district_coordinator:worcester", "programme_manager:wychavon"]
    assert refused.json()["needs"] == ["programme_manager:worcester"]

    manager = bearer(keycloak.sign_in("worcester-manager"))
    done = h.client.post(f"/projects/projects/{academy.id}/rag-override", headers=manager, json=override)
    assert done.status_code == 200, done.text
    actor = last_actor(h, "projects", academy.id)
    assert (actor.role, actor.scope) == ("programme_manager", "worcester")

    auditor = bearer(keycloak.sign_in("auditor"))
    assert h.client.post("/priorities/objectives", headers=auditor, json={
        "title": "x", "level": "scs", "strategy": "y"}).status_code == 403
    assert h.client.get(f"/projects/projects/{academy.id}", headers=auditor).status_code == 200


def test_a_partner_system_signs_in_with_client_credentials_and_is_known_by_its_azp(keycloak: KeycloakRealm,
                                                                                  harness: Harness) -> None:
    h = harness
    token = keycloak.client_credentials("college-mis", keycloak.college_secret)
    assert jwt.decode(token, options={"verify_signature": False})["azp"] == "college-mis"
    partner = bearer(token)
    academy = project_led_by(h, "worcester-college")
    report = {"reported_on": "2013-10-01", "values": {"jobs": "260"}, "narrative": "Third intake placed",
              "expected_version": h.system.application("projects").project(academy.id).version}
    reported = h.client.post(f"/projects/projects/{academy.id}/progress", headers=partner, json=report)
    assert reported.status_code == 200, reported.text
    actor = last_actor(h, "projects", academy.id)
    assert (actor.user_id, actor.organisation, actor.role, actor.scope) == (
        "client:college-mis", "worcester-college", "partner_officer", "worcester-college")
    park = project_led_by(h, "chamber-of-commerce")
    assert h.client.post(f"/projects/projects/{park.id}/progress", headers=partner, json={
        **report, "expected_version": park.version}).status_code == 403

    # Its trusted GraphQL documents come from the partner clients file, keyed by the token's azp.
    def granted() -> bool:
        answer = h.client.post("/graphql", json={"query": "{ deliveryProjects { id } }"}, headers=partner)
        return answer.status_code == 200 and "errors" not in answer.json()

    wait_until(granted, what="a granted query answered")
    refused = h.client.post("/graphql", json={"query": "{ taskings { id } }"}, headers=partner).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    built_in = h.client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert built_in.status_code == 404  # the identity provider issues tokens here, not the APIs


def _refused(h: Harness, token: str) -> str:
    response = h.client.get(CHAPTER, headers=bearer(token))
    assert response.status_code == 401, response.text
    return str(response.json()["detail"])


def test_the_apis_refuse_expired_tokens_other_audiences_unknown_keys_and_other_issuers(
        keycloak: KeycloakRealm, harness: Harness) -> None:
    h = harness
    assert h.client.get(CHAPTER, headers=bearer(keycloak.sign_in("scrutiny"))).status_code == 200
    run = uuid.uuid4().hex[:8]

    # Expired: a client whose tokens live one second (the API tolerates no clock skew here).
    keycloak.add_client({"clientId": f"short-{run}", "publicClient": True, "directAccessGrantsEnabled": True,
                         "standardFlowEnabled": False, "attributes": {"access.token.lifespan": "1"},
                         "protocolMappers": [{"name": "aud", "protocol": "openid-connect",
                                              "protocolMapper": "oidc-audience-mapper",
                                              "config": {"included.client.audience": "partnership-api",
                                                         "access.token.claim": "true"}}]})
    short = keycloak.sign_in("scrutiny", client_id=f"short-{run}")
    time.sleep(2.1)
    assert "expired" in _refused(h, short)

    # Another audience: a client of the same realm whose tokens are for another API.
    keycloak.add_client({"clientId": f"other-{run}", "publicClient": True, "directAccessGrantsEnabled": True,
                         "standardFlowEnabled": False,
                         "protocolMappers": [{"name": "aud", "protocol": "openid-connect",
                                              "protocolMapper": "oidc-audience-mapper",
                                              "config": {"included.custom.audience": "some-other-api",
                                                         "access.token.claim": "true"}}]})
    other_audience = keycloak.sign_in("scrutiny", client_id=f"other-{run}")
    assert "some-other-api" in str(jwt.decode(other_audience, options={"verify_signature": False})["aud"])
    assert "audience" in _refused(h, other_audience).lower()

    # Another issuer: a realm of its own on the same Keycloak, with a user holding the same role.
    realm = f"other{run}"
    keycloak.admin("POST", "", json={
        "realm": realm, "enabled": True, "roles": {"realm": [{"name": "scrutiny-member"}]},
        "users": [{"username": "scrutiny", "enabled": True, "email": "s@other.invalid", "emailVerified": True,
                   "firstName": "S", "lastName": "M", "realmRoles": ["scrutiny-member"],
                   "credentials": [{"type": "password", "value": keycloak.user_password, "temporary": False}]}],
        "clients": [{"clientId": "partnership-web", "publicClient": True, "directAccessGrantsEnabled": True}]})
    foreign = keycloak.sign_in("scrutiny", realm=realm)
    assert "not trusted" in _refused(h, foreign)

    # The embedded mode's HS256 tokens mean nothing to a distributed process.
    hs256 = jwt.encode({"sub": "x", "org": "worcestershire-cc", "roles": ["auditor"], "iss": "partnership",
                        "aud": "partnership-api", "iat": int(time.time()), "exp": int(time.time()) + 600},
                       TEST_SECRET, algorithm="HS256")
    assert "not trusted" in _refused(h, hs256)
    # ... nor an HS256 token naming Keycloak as its issuer (the algorithm confusion attack).
    confused = jwt.encode({**jwt.decode(keycloak.sign_in("scrutiny"), options={"verify_signature": False})},
                          TEST_SECRET, algorithm="HS256", headers={"kid": "whatever"})
    assert "algorithm" in _refused(h, confused)

    # Unknown kid: a token signed by a key Keycloak never published, made to look like Keycloak's. Each unknown
    # kid may refetch the key set, but at most once per refetch interval: a flood of them fetches nothing more.
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(keycloak.sign_in("scrutiny"), options={"verify_signature": False})
    assert h.system.tokens.oidc is not None
    time.sleep(REFETCH_INTERVAL)
    before = h.system.tokens.oidc.key_fetches()[keycloak.issuer]
    for n in range(5):
        forged = jwt.encode({**claims, "jti": f"forged-{n}"}, forger, algorithm="RS256",
                            headers={"kid": f"made-up-{n}"})
        assert "no key" in _refused(h, forged)
    assert h.system.tokens.oidc.key_fetches()[keycloak.issuer] - before == 1


def test_a_rotated_key_is_found_by_its_kid_and_es256_is_accepted(keycloak: KeycloakRealm, harness: Harness) -> None:
    h = harness
    reader = lambda token: h.client.get(CHAPTER, headers=bearer(token))  # noqa: E731
    assert reader(keycloak.sign_in("scrutiny")).status_code == 200  # the current key set is cached now
    assert h.system.tokens.oidc is not None
    before = h.system.tokens.oidc.key_fetches()[keycloak.issuer]

    rotated = keycloak.add_key("rsa-generated", priority=1000, keySize="2048", algorithm="RS256")
    token = keycloak.sign_in("scrutiny")
    assert jwt.get_unverified_header(token)["kid"] == rotated
    time.sleep(REFETCH_INTERVAL)
    assert reader(token).status_code == 200, reader(token).text
    assert h.system.tokens.oidc.key_fetches()[keycloak.issuer] == before + 1  # one refetch found it

    # An elliptic-curve key (ES256) for a client that signs its tokens with it.
    es256 = keycloak.add_key("ecdsa-generated", priority=1001, ecdsaEllipticCurveKey="P-256")
    run = uuid.uuid4().hex[:8]
    keycloak.add_client({"clientId": f"ec-{run}", "publicClient": True, "directAccessGrantsEnabled": True,
                         "standardFlowEnabled": False, "attributes": {"access.token.signed.response.alg": "ES256"},
                         "protocolMappers": [{"name": "aud", "protocol": "openid-connect",
                                              "protocolMapper": "oidc-audience-mapper",
                                              "config": {"included.client.audience": "partnership-api",
                                                         "access.token.claim": "true"}},
                                             {"name": "groups", "protocol": "openid-connect",  # the organisation
                                              "protocolMapper": "oidc-group-membership-mapper",
                                              "config": {"claim.name": "groups", "full.path": "true",
                                                         "access.token.claim": "true"}}]})
    token = keycloak.sign_in("scrutiny", client_id=f"ec-{run}")
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert jwt.get_unverified_header(token)["kid"] == es256
    time.sleep(REFETCH_INTERVAL)
    answer = reader(token)
    assert answer.status_code == 200, answer.text

