"""CORS preflights and answers of a web process (the gateway and the REST APIs mounted in it), from the settings:
an allowed origin is answered with what it may send and read, any other origin is not, and none is by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.runtime import System
from shared.settings import Settings
from tests.harness import running_system, settings_for

DASHBOARD = "https://dashboard.example.org"


def _preflight(client: TestClient, path: str, origin: str, method: str = "POST",
               headers: str = "authorization,content-type") -> tuple[int, dict[str, str]]:
    response = client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                             "Access-Control-Request-Headers": headers})
    return response.status_code, {k.lower(): v for k, v in response.headers.items()}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    settings = settings_for(data_dir=tmp_path_factory.mktemp("cors"), cors_origins=[DASHBOARD])
    with running_system(settings, workers=False) as h:
        yield h.system


@pytest.fixture(scope="module")
def client(system: System) -> TestClient:
    return TestClient(system.asgi(), raise_server_exceptions=False)


@pytest.mark.parametrize("path", ["/graphql", "/tasking/meetings", "/priorities/priorities", "/audit/events"])
def test_an_allowed_origins_preflight_is_answered_and_cached(client: TestClient, path: str) -> None:
    status, headers = _preflight(client, path, DASHBOARD)
    assert status == 200
    assert headers["access-control-allow-origin"] == DASHBOARD
    assert {"POST", "GET", "PATCH"} <= set(headers["access-control-allow-methods"].replace(" ", "").split(","))
    assert {"authorization", "content-type"} <= set(headers["access-control-allow-headers"].lower()
                                                    .replace(" ", "").split(","))
    assert headers["access-control-max-age"] == "3600"
    assert "access-control-allow-credentials" not in headers  # a bearer token needs no credentials mode
    assert "origin" in headers["vary"].lower()


def test_the_gateway_process_answers_preflights_too(system: System) -> None:
    status, headers = _preflight(TestClient(system.reporting_asgi()), "/graphql", DASHBOARD)
    assert status == 200 and headers["access-control-allow-origin"] == DASHBOARD


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://dashboard.example.org",
                                    "https://dashboard.example.org:8443", "null"])
def test_another_origins_preflight_is_refused(client: TestClient, origin: str) -> None:
    status, headers = _preflight(client, "/graphql", origin)
    assert status == 400
    assert "access-control-allow-origin" not in headers


def test_a_header_not_allowed_is_refused_in_the_preflight(client: TestClient) -> None:
    status, _ = _preflight(client, "/graphql", DASHBOARD, headers="authorization,x-made-up")
    assert status == 400


def test_answers_to_an_allowed_origin_expose_what_a_client_reads(client: TestClient) -> None:
    refused = client.post("/tasking/meetings", json={}, headers={"Origin": DASHBOARD})
    assert refused.status_code == 401  # the page can read why: the refusal carries the CORS headers too
    assert refused.headers["access-control-allow-origin"] == DASHBOARD
    exposed = {h.strip().lower() for h in refused.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location", "retry-after", "link", "x-correlation-id", "www-authenticate"} <= exposed
    other = client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers


def test_no_origin_is_allowed_by_default(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).cors_origins == []
    with running_system(settings_for(data_dir=tmp_path), workers=False) as h:
        status, headers = _preflight(h.client, "/graphql", DASHBOARD)
        answer = h.client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": DASHBOARD})
    assert status == 405
    assert not any(name.startswith("access-control-") for name in headers)
    assert not any(name.lower().startswith("access-control-") for name in answer.headers)


def test_credentials_and_the_lists_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERSHIP_CORS_ORIGINS", '["https://Dashboard.Example.org", "http://127.0.0.1:5173"]')
    monkeypatch.setenv("PARTNERSHIP_CORS_ALLOW_CREDENTIALS", "true")
    monkeypatch.setenv("PARTNERSHIP_CORS_METHODS", '["GET", "POST"]')
    monkeypatch.setenv("PARTNERSHIP_CORS_MAX_AGE", "600")
    settings = Settings()
    assert settings.cors_origins == [DASHBOARD, "http://127.0.0.1:5173"]
    assert settings.cors_allow_credentials and settings.cors_methods == ["GET", "POST"]
    assert settings.cors_max_age == 600


def test_credentials_are_answered_when_configured(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path, cors_origins=[DASHBOARD], cors_allow_credentials=True,
                            cors_methods=["GET", "POST"])
    with running_system(settings, workers=False) as h:
        status, headers = _preflight(h.client, "/graphql", DASHBOARD)
        patch_status, _ = _preflight(h.client, "/graphql", DASHBOARD, method="PATCH")
    assert status == 200 and headers["access-control-allow-credentials"] == "true"
    assert patch_status == 400


@pytest.mark.parametrize(("origins", "credentials", "words"), [
    (["https://dashboard.example.org/"], False, "no trailing slash"),
    (["https://dashboard.example.org/app"], False, "no path"),
    (["dashboard.example.org"], False, "scheme://host"),
    (["*"], True, "name the origins"),
])
def test_a_misconfigured_origin_is_refused_at_start(tmp_path: Path, origins: list[str], credentials: bool,
                                                    words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        Settings(data_dir=tmp_path, cors_origins=origins, cors_allow_credentials=credentials)
