"""Tokens and secrets: expired, wrongly signed, wrong-audience, wrong-issuer and unsigned (``alg: none``) tokens are
refused; signing keys rotate without downtime (the old key verifies while the new one signs); no configured secret
and no bearer token ever appears in a log line or an error body."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from shared.auth import AuthenticationError, TokenService
from shared.logs import JsonFormatter
from tests.harness import TEST_SECRET, Harness, running_system, settings_for

OLD_KEY = "the-signing-key-before-the-rotation-0123456789"
NEW_KEY = "the-signing-key-after-the-rotation-9876543210ab"
BODY = {"title": "Safer communities", "level": "scs", "strategy": "SCS"}


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {"sub": "officer-1", "org": "worcestershire-cc", "roles": ["partnership_officer"],
                                 "iss": "partnership", "aud": "partnership-api", "iat": now, "nbf": now,
                                 "exp": now + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _post(h: Harness, token: str) -> tuple[int, dict[str, object]]:
    response = h.client.post("/priorities/objectives", json={**BODY, "decision": h.board_decision()},
                             headers={"authorization": f"Bearer {token}"})
    return response.status_code, response.json()


def test_bad_tokens_are_refused(harness: Harness, say: Callable[[str], None]) -> None:
    h = harness
    bad = {
        "expired": jwt.encode(_claims(iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200,
                                      exp=int(time.time()) - 3600), TEST_SECRET, algorithm="HS256"),
        "wrongly signed": jwt.encode(_claims(), "another-key-that-is-long-enough-0123456789", algorithm="HS256"),
        "wrong audience": jwt.encode(_claims(aud="some-other-api"), TEST_SECRET, algorithm="HS256"),
        "wrong issuer": jwt.encode(_claims(iss="someone-else"), TEST_SECRET, algorithm="HS256"),
        "alg none": jwt.encode(_claims(), None, algorithm="none"),  # type: ignore[arg-type]
        "alg none, kid of the real key": jwt.encode(_claims(), None, algorithm="none",  # type: ignore[arg-type]
                                                    headers={"kid": "0" * 16}),
        "HS512 with the right key": jwt.encode(_claims(), TEST_SECRET, algorithm="HS512"),
        "no expiry": jwt.encode(_claims(exp=None), TEST_SECRET, algorithm="HS256"),
        "not yet valid": jwt.encode(_claims(nbf=int(time.time()) + 3600), TEST_SECRET, algorithm="HS256"),
        "no organisation": jwt.encode(_claims(org=None), TEST_SECRET, algorithm="HS256"),
        "garbage": "not.a.token",
        "empty": "",
    }
    for why, token in bad.items():
        status, body = _post(h, token)
        assert status == 401, f"{why}: {status} {body}"
        assert str(body["type"]).endswith("unauthenticated")
    good, _ = _post(h, jwt.encode(_claims(), TEST_SECRET, algorithm="HS256"))
    assert good == 201
    say(f"tokens: {len(bad)} kinds of bad token refused with 401 ({', '.join(bad)})")


def test_signing_keys_rotate_without_downtime(tmp_path: Path) -> None:
    before = TokenService(OLD_KEY, "partnership", "partnership-api")
    during = TokenService(NEW_KEY, "partnership", "partnership-api", previous_keys=[OLD_KEY])
    after = TokenService(NEW_KEY, "partnership", "partnership-api")
    old_token = before.mint("officer-1", "worcestershire-cc", ["partnership_officer"])
    new_token = during.mint("officer-1", "worcestershire-cc", ["partnership_officer"])
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    legacy = jwt.encode(_claims(), OLD_KEY, algorithm="HS256")  # minted before tokens carried a kid
    settings = settings_for(data_dir=tmp_path, jwt_secret=NEW_KEY, jwt_previous_secrets=[OLD_KEY])
    with running_system(settings, services=("priorities",), workers=False) as h:
        for token in (old_token, new_token, legacy):  # both keys valid while the rotation runs
            assert _post(h, token)[0] == 201
        assert _post(h, jwt.encode(_claims(), "a-third-key-nobody-configured-0123456789", algorithm="HS256",
                                   headers={"kid": jwt.get_unverified_header(old_token)["kid"]}))[0] == 401
    assert after.verify(new_token).user_id == "officer-1"
    with pytest.raises(Exception, match="Signature verification failed"):
        after.verify(old_token)  # once the rotation is over, the old key's tokens are refused


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_no_secret_appears_in_logs_or_error_bodies(tmp_path: Path, captured_logs: io.StringIO,
                                                   say: Callable[[str], None]) -> None:
    audit_key = "5e" * 32
    client_secret = "partner-client-secret-that-must-never-leak-42"
    clients = tmp_path / "clients.yaml"
    clients.write_text("clients:\n  - client_id: college-system\n    organisation: worcester-college\n"
                       "    roles: [partner_officer]\n")
    settings = settings_for(data_dir=tmp_path / "data", jwt_secret=NEW_KEY, jwt_previous_secrets=[OLD_KEY],
                            audit_signing_key=audit_key, partner_clients_file=clients,
                            partner_client_secrets={"college-system": client_secret})
    secrets = [NEW_KEY, OLD_KEY, audit_key, client_secret]
    bodies: list[str] = []
    with running_system(settings) as h:
        token = h.token("partnership_officer")
        secrets.append(token)
        bearer = {"authorization": f"Bearer {token}"}
        requests: list[tuple[str, str, dict[str, Any]]] = [
            ("post", "/priorities/objectives", {"json": BODY, "headers": bearer}),
            ("post", "/priorities/objectives", {"json": {**BODY, "extra": 1}, "headers": bearer}),
            ("post", "/priorities/objectives", {"content": b"{", "headers": {**bearer,
                                                                             "content-type": "application/json"}}),
            ("post", "/priorities/objectives", {"content": b"x" * 2_000_000, "headers": bearer}),
            ("post", "/priorities/objectives", {"json": BODY, "headers": {
                "authorization": f"Bearer {jwt.encode(_claims(), OLD_KEY[::-1], algorithm='HS256')}"}}),
            ("post", "/priorities/objectives", {"json": BODY, "headers": {"authorization": f"Bearer {token}x"}}),
            ("get", f"/priorities/objectives/{'0' * 8}-0000-0000-0000-{'0' * 12}", {"headers": bearer}),
            ("post", "/graphql", {"json": {"query": "{ nothing }"}, "headers": bearer}),
            ("post", "/graphql", {"json": {"query": "{ objectives { id } }"}, "headers": {
                "authorization": "Bearer " + token[:-3]}}),
            ("post", "/oauth/token", {"data": {"grant_type": "client_credentials", "client_id": "college-system",
                                               "client_secret": client_secret + "-wrong"}}),
            ("post", "/oauth/token", {"data": {"grant_type": "client_credentials", "client_id": "college-system",
                                               "client_secret": client_secret}}),
            ("get", "/readyz", {}),
            ("get", "/metrics", {}),
        ]
        for method, path, kwargs in requests:
            response = getattr(h.client, method)(path, **kwargs)
            if path == "/oauth/token" and response.status_code == 200:
                secrets.append(response.json()["access_token"])  # the issued token: in the body, nowhere else
                continue
            bodies.append(response.text + str(dict(response.headers)))
    logs = captured_logs.getvalue()
    assert logs, "no log line was captured"
    for secret in secrets:
        for where, text in (("logs", logs), ("error bodies", "\n".join(bodies))):
            assert secret not in text, f"a secret ({secret[:6]}...) appears in the {where}"
            assert secret[:24] not in text, f"part of a secret ({secret[:6]}...) appears in the {where}"
    say(f"secrets: {len(secrets)} secrets and tokens searched for in {len(logs.splitlines())} log lines and "
        f"{len(bodies)} responses: none found")


def test_a_remembered_token_is_refused_once_it_expires_and_a_tampered_one_never_passes() -> None:
    tokens = TokenService(NEW_KEY, "partnership", "partnership-api")
    token = tokens.mint("officer-1", "worcestershire-cc", ["partnership_officer"], ttl_seconds=1)
    assert tokens.verify(token).user_id == "officer-1"
    assert tokens.verify(token).user_id == "officer-1"  # from the verified tokens
    header, payload, signature = token.split(".")
    with pytest.raises(AuthenticationError):
        tokens.verify(f"{header}.{payload}.{signature[:-2]}AA")
    time.sleep(max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 1.1)
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(token)
