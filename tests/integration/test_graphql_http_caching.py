"""HTTP caching of GraphQL answers and trusted documents, through the running system (embedded mode, real HTTP app).

A read-only query by GET answers with a strong ETag and 304 on If-None-Match; only the anonymous ``public`` role's
answers are ``Cache-Control: public``, every other answer ``private, no-store``; GET never runs a mutation. A partner
client that registered trusted documents runs them by hash (Apollo's persisted-query extension) and nothing else;
an unknown hash and a document not registered are refused with codes."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.auth import hash_secret
from tests.harness import Harness, running_system, settings_for
from tests.integration.test_graphql_cache import _add_objective

pytestmark = pytest.mark.integration

GRAPHQL_RESPONSE = "application/graphql-response+json"
OBJECTIVES = "query Objectives { objectives { id title } }"
REGISTERED = "query Registered { objectives { title } }"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    (tmp_path / "registered.graphql").write_text(REGISTERED)
    clients = tmp_path / "partner-clients.yaml"
    locked = hash_secret(secrets.token_urlsafe(16))  # these tests mint the clients' tokens themselves
    clients.write_text(f"""clients:
  - client_id: college-mis
    organisation: worcester-college
    roles: [partner_officer]
    queries: [objectives, targets]
    secret_hash: "{locked}"
    documents: [registered.graphql]
  - client_id: police-rms
    organisation: west-mercia-police
    roles: [partner_officer]
    queries: [objectives]
    secret_hash: "{locked}"
""")
    with running_system(settings_for(data_dir=tmp_path, partner_clients_file=clients),
                        services=("priorities", "reporting")) as harness:
        _add_objective(harness, "Improve skills")
        yield harness


def _get(h: Harness, query: str | None = None, headers: dict[str, str] | None = None, **params: Any) -> Any:
    if query is not None:
        params["query"] = query
    return h.client.get("/graphql", params={k: json.dumps(v) if isinstance(v, dict) else v
                                            for k, v in params.items()},
                        headers={"accept": GRAPHQL_RESPONSE, **(headers or {})})


def _partner(h: Harness, client: str, organisation: str, queries: list[str]) -> dict[str, str]:
    token = h.system.tokens.mint(f"client:{client}", organisation, ["partner_officer"], client_id=client,
                                 queries=queries)
    return {"authorization": f"Bearer {token}"}


def _code(response: Any) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


def test_an_anonymous_get_is_public_cacheable_with_an_etag_and_304(h: Harness) -> None:
    first = _get(h, OBJECTIVES)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert [o["title"] for o in first.json()["data"]["objectives"]] == ["Improve skills"]
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    assert etag.startswith('"') and "Authorization" in first.headers["vary"]

    again = _get(h, OBJECTIVES, {"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "public, max-age=60"

    # New data: a new ETag, and the old one no longer matches.
    _add_objective(h, "Reduce worklessness")
    changed = _get(h, OBJECTIVES, {"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert len(changed.json()["data"]["objectives"]) == 2


def test_every_other_answer_is_private_no_store(h: Harness) -> None:
    officer = h.headers("partnership_officer")
    by_token = _get(h, OBJECTIVES, officer)
    assert by_token.status_code == 200 and by_token.json()["data"]["objectives"]
    assert by_token.headers["cache-control"] == "private, no-store"
    assert by_token.headers["etag"]  # still revalidatable by the browser that holds it
    assert _get(h, OBJECTIVES, {**officer, "if-none-match": by_token.headers["etag"]}).status_code == 304

    posted = h.client.post("/graphql", json={"query": OBJECTIVES}, headers={**officer, "accept": GRAPHQL_RESPONSE})
    assert posted.status_code == 200 and posted.headers["cache-control"] == "private, no-store"
    assert "etag" not in posted.headers

    # The public may not run what open data does not publish: an error, never shared by a cache.
    refused = _get(h, "{ history(aggregateId: \"x\") { type } }")
    assert _code(refused) == "FORBIDDEN" and refused.headers["cache-control"] == "private, no-store"
    # Anonymous POST is not the public role: it still needs a token.
    anonymous_post = h.client.post("/graphql", json={"query": OBJECTIVES})
    assert _code(anonymous_post) == "UNAUTHENTICATED"


def test_get_never_runs_a_mutation(h: Harness) -> None:
    mutation = 'mutation { __typename }'
    for headers in ({}, h.headers("partnership_officer")):
        response = _get(h, mutation, headers)
        assert response.status_code == 405 and _code(response) == "METHOD_NOT_ALLOWED"
        assert response.headers["cache-control"] == "private, no-store"


def test_a_registered_client_runs_its_trusted_documents_by_hash_and_nothing_else(h: Harness) -> None:
    college = _partner(h, "college-mis", "worcester-college", ["objectives", "targets"])
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": _sha(REGISTERED)}}

    by_hash = h.client.post("/graphql", json={"extensions": persisted},
                            headers={**college, "accept": GRAPHQL_RESPONSE})
    assert by_hash.status_code == 200, by_hash.text
    assert by_hash.json()["data"]["objectives"] == [{"title": "Improve skills"}]
    by_get = _get(h, None, college, extensions=persisted)
    assert by_get.status_code == 200 and by_get.json() == by_hash.json()
    with_text = h.client.post("/graphql", json={"query": REGISTERED, "extensions": persisted}, headers=college)
    assert with_text.json()["data"] == by_hash.json()["data"]

    # Its granted query, but not a document it registered: refused, by text and by another's hash.
    ad_hoc = h.client.post("/graphql", json={"query": OBJECTIVES}, headers={**college, "accept": GRAPHQL_RESPONSE})
    assert ad_hoc.status_code == 400 and _code(ad_hoc) == "DOCUMENT_NOT_ALLOWED"
    assert "data" not in ad_hoc.json()
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": _sha(OBJECTIVES)}}
    not_found = h.client.post("/graphql", json={"extensions": unknown},
                              headers={**college, "accept": GRAPHQL_RESPONSE})
    assert not_found.status_code == 400 and _code(not_found) == "PERSISTED_QUERY_NOT_FOUND"
    mismatch = h.client.post("/graphql", json={"query": OBJECTIVES, "extensions": persisted}, headers=college)
    assert _code(mismatch) == "PERSISTED_QUERY_HASH_MISMATCH"
    bad = h.client.post("/graphql", json={"extensions": {"persistedQuery": {"sha256Hash": "nope"}}}, headers=college)
    assert _code(bad) == "BAD_REQUEST"


def test_a_client_that_registered_no_documents_and_people_are_not_restricted(h: Harness) -> None:
    police = _partner(h, "police-rms", "west-mercia-police", ["objectives"])
    ad_hoc = h.client.post("/graphql", json={"query": OBJECTIVES}, headers=police)
    assert ad_hoc.json()["data"]["objectives"][0]["title"] == "Improve skills"
    # ... and anyone may name a registered document by its hash (the public pages' way to a short GET URL)
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": _sha(REGISTERED)}}
    public = _get(h, None, extensions=persisted)
    assert public.json()["data"]["objectives"] == [{"title": "Improve skills"}]
    assert public.headers["cache-control"] == "public, max-age=60"
    officer = h.client.post("/graphql", json={"query": OBJECTIVES}, headers=h.headers("partnership_officer"))
    assert officer.json()["data"]["objectives"]
