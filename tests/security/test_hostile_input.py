"""Hostile input: generated requests against every service's OpenAPI (schemathesis, bounded: a fixed number of
examples per operation, each sent with the tokens of several roles) find no 5xx and no response outside its
schema; each generated request is also sent once made hostile (invalid UTF-8, huge numbers, NUL, bidi controls,
deep nesting, huge integers, in turn) and is refused as a problem, never a 5xx; oversized bodies, wrong content
types, malformed JSON, unknown fields and deep or costly GraphQL queries are refused with clear problem+json (or
GraphQL) errors."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.harness import Harness

EXAMPLES = 15  # per operation (each sent once per role below): bounded for CI
ROLES: dict[str, list[dict[str, Any]]] = {
    "priorities": [{"role": "partnership_officer", "org": "worcestershire-cc"},
                   {"role": "district_coordinator", "org": "worcester-city-council", "district": "worcester"}],
    "tasking": [{"role": "theme_group_lead", "org": "worcestershire-cc", "theme_group": "pstg"},
                {"role": "district_coordinator", "org": "worcester-city-council", "district": "worcester"}],
    "projects": [{"role": "programme_manager", "org": "worcester-city-council", "district": "worcester"},
                 {"role": "partner_officer", "org": "worcester-college"}],
}
READ_ONLY = [{"role": "auditor", "org": "worcestershire-cc"}, {"role": "scrutiny_member", "org": "worcestershire-cc"}]
TRIED: Counter[str] = Counter()


def _api(h: Harness, service: str) -> FastAPI:
    api: FastAPI = h.system.specs[service].create_api(h.system.applications[service], h.system.tokens)
    return api


HOSTILE = ("invalid UTF-8", "huge numbers", "NUL", "bidi controls", "deep nesting", "huge integers")
_HUGE = "\u0000HUGE\u0000"  # a placeholder json.dumps keeps, swapped for the literal 1e999999 afterwards


def _leaves(value: Any, change: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: _leaves(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v, change) for v in value]
    return change(value)


def _hostile(body: Any, kind: str) -> bytes:
    """``body`` (a generated JSON body, or a CSV text) made hostile in one way."""
    is_number = lambda v: isinstance(v, int | float) and not isinstance(v, bool)  # noqa: E731
    if isinstance(body, str):  # a CSV upload
        text = body or "project_id,reported_on,outcome_id,value,narrative\n"
        changed = {"NUL": text.replace(",", ",\x00", 1), "bidi controls": text.replace(",", ",\u202e", 1),
                   "huge numbers": text + "x,2013-04-01,jobs,1e999999,n\n"}.get(kind, text)
        raw = changed.encode("utf-8", "surrogatepass")
        return raw.replace(b",", b",\xff\xfe", 1) if kind == "invalid UTF-8" else raw
    if kind == "deep nesting":
        return b'{"nested": ' + b"[" * 50_000 + b"]" * 50_000 + b', "body": ' + json.dumps(body).encode() + b"}"
    changes: dict[str, Callable[[Any], Any]] = {
        "invalid UTF-8": lambda v: v + "\udcff" if isinstance(v, str) else v,
        "huge numbers": lambda v: _HUGE if is_number(v) or (isinstance(v, str) and v[:1].isdigit()) else v,
        "NUL": lambda v: v + "\x00" if isinstance(v, str) else v,
        "bidi controls": lambda v: "\u202e" + v + "\u2066" if isinstance(v, str) else v,
        "huge integers": lambda v: 10**40 if is_number(v) else v,
    }
    text = json.dumps(_leaves(body, changes[kind]), ensure_ascii=False).replace(json.dumps(_HUGE), "1e999999")
    # invalid UTF-8: the lone surrogate escapes become the bytes of no character
    return text.encode("utf-8", "surrogateescape" if kind == "invalid UTF-8" else "strict")


def _send_hostile(h: Harness, service: str, case: Any, client: TestClient) -> None:
    """The generated request once more, made hostile: a refusal (problem+json), never a 5xx."""
    started = time.perf_counter()
    kind = HOSTILE[TRIED["hostile"] % len(HOSTILE)]
    TRIED["hostile"] += 1
    who = ROLES[service][0]
    claims = {k: v for k, v in who.items() if k not in ("role", "org")}
    body = case.body if isinstance(case.body, dict | list | str) else {}
    headers = {**h.headers(who["role"], who["org"], **claims),
               "content-type": case.media_type or "application/json"}
    response = client.request(case.method, case.formatted_path, params=case.query, headers=headers,
                              content=_hostile(body, kind))
    TRIED[f"{service} hostile {kind} {response.status_code // 100}xx"] += 1
    if response.status_code >= 500:
        assert response.status_code == 503 and "retry-after" in response.headers, (kind, response.text)
        TRIED[f"{service} hostile 503 not yet known"] += 1
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), (kind, response.text)
    TRIED["hostile milliseconds"] += round((time.perf_counter() - started) * 1000)


def _send(h: Harness, service: str, case: Any) -> None:
    for who in [*ROLES[service], READ_ONLY[sum(TRIED.values()) % 2]]:
        claims = {k: v for k, v in who.items() if k not in ("role", "org")}
        response = case.call(headers=h.headers(who["role"], who["org"], **claims))
        TRIED[f"{service} {who['role']} {response.status_code // 100}xx"] += 1
        # Every status answered is documented (refusals not listed fall under ``default``), with the media type
        # sent (application/problem+json for every refusal) and a body matching its schema.
        case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                                 response_schema_conformance])
        if response.status_code >= 500:  # only the documented, retryable "not known yet" (with Retry-After)
            assert response.status_code == 503 and "retry-after" in response.headers, response.text
            assert response.json()["type"].endswith("upstream-not-yet-known"), response.text
            TRIED[f"{service} {who['role']} 503 not yet known"] += 1
        if who in READ_ONLY and case.method.upper() != "GET":
            assert response.status_code in (401, 403, 404, 405, 413, 415, 422), (
                f"{who['role']} got {response.status_code} for {case.method} {case.path}")


@pytest.mark.parametrize("service", ["priorities", "tasking", "projects"])
def test_generated_requests_find_no_server_error_and_no_response_outside_the_schema(
        harness: Harness, service: str) -> None:
    app = _api(harness, service)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    client = TestClient(app, raise_server_exceptions=False)
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def each(case: Any) -> None:
            _send(harness, service, case)
            if case.method.upper() in ("POST", "PUT", "PATCH"):
                _send_hostile(harness, service, case, client)

        each()
    TRIED[f"{service} operations"] = operations


def test_generated_requests_were_tried(say: Callable[[str], None]) -> None:
    """Runs after the three above (file order): the counts of what was sent, by service, role and status class."""
    sent = {k: n for k, n in TRIED.items() if k.endswith("xx")}  # (requests, by service, role or kind, status)
    total = sum(sent.values())
    hostile = sum(n for k, n in sent.items() if " hostile " in k)
    retryable = sum(n for k, n in TRIED.items() if k.endswith("not yet known"))
    errors = sum(n for k, n in sent.items() if k.endswith("5xx")) - retryable
    say(f"schemathesis: {total} requests ({hostile} of them hostile), {errors} server errors, {retryable} retryable "
        f"503 (target not known yet); {dict(sorted(TRIED.items()))}")
    assert total > 0 and errors == 0


# -- hand-made hostile requests ----------------------------------------------------------------------------------


def _officer(h: Harness) -> dict[str, str]:
    return h.headers("partnership_officer")


def test_an_oversized_body_is_refused_with_413_before_it_is_read(harness: Harness) -> None:
    h = harness
    huge = json.dumps({"title": "x" * 2_000_000, "level": "scs", "strategy": "SCS"})
    response = h.client.post("/priorities/objectives", content=huge,
                             headers={**_officer(h), "content-type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("body-too-large") and "1,048,576" in response.json()["detail"]
    graphql = h.client.post("/graphql", content=huge, headers={**_officer(h), "content-type": "application/json"})
    assert graphql.status_code == 413 and graphql.headers["content-type"].startswith(
        "application/graphql-response+json")  # GraphQL over HTTP: errors with a code (test_graphql_transport.py)
    assert graphql.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"

    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 65536  # no content-length: counted as it arrives

    streamed = h.client.post("/priorities/objectives", content=chunks(),
                             headers={**_officer(h), "content-type": "application/json"})
    assert streamed.status_code == 413


def test_a_body_that_is_not_json_is_refused_with_415(harness: Harness) -> None:
    h = harness
    body = "title=x&level=scs"
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "application/xml"):
        response = h.client.post("/priorities/objectives", content=body,
                                 headers={**_officer(h), "content-type": content_type})
        assert response.status_code == 415, response.text
        assert response.json()["type"].endswith("unsupported-media-type")
        assert content_type in response.json()["detail"]
    missing = h.client.post("/tasking/meetings", content=b'{"body": "pstg"}', headers=_officer(h))
    assert missing.status_code == 415


def test_malformed_json_and_unknown_fields_are_refused_naming_the_problem(harness: Harness) -> None:
    h = harness
    headers = {**_officer(h), "content-type": "application/json"}
    broken = h.client.post("/priorities/objectives", content=b'{"title": "x", "level": ', headers=headers)
    assert broken.status_code == 422 and broken.headers["content-type"] == "application/problem+json"
    assert broken.json()["errors"][0]["code"] == "json_invalid"
    not_an_object = h.client.post("/priorities/objectives", content=b"[1, 2, 3]", headers=headers)
    assert not_an_object.status_code == 422
    unknown = h.client.post("/priorities/objectives", headers=_officer(h),
                            json={"title": "Safer", "level": "scs", "strategy": "SCS", "priority": "high",
                                  "decision": h.board_decision()})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["priority"]
    assert unknown.json()["errors"][0]["code"] == "extra_forbidden"
    wrong_type = h.client.post("/priorities/objectives", headers=_officer(h),
                               json={"title": ["not", "text"], "level": "scs", "strategy": "SCS",
                                     "decision": h.board_decision()})
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["field"] == "title"


def test_deep_and_costly_graphql_queries_are_refused_before_they_run(harness: Harness) -> None:
    h = harness
    nested = "id"
    for _ in range(12):
        nested = f"id children {{ {nested} }}"
    deep = h.client.post("/graphql", json={"query": f"{{ objectives {{ {nested} }} }}"}, headers=_officer(h))
    assert deep.status_code == 200
    assert deep.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    wide = " ".join(f"a{n}: objectives {{ id targets {{ id }} children {{ id targets {{ id }} }} }}"
                    for n in range(60))
    costly = h.client.post("/graphql", json={"query": f"{{ {wide} }}"}, headers=_officer(h))
    errors = costly.json().get("errors") or []
    assert {"GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_COSTLY"} <= {e["extensions"]["code"] for e in errors}, costly.text
    assert costly.json()["data"] is None
    garbage = h.client.post("/graphql", json={"query": "{ objectives { id "}, headers=_officer(h))
    assert garbage.status_code in (200, 400) and garbage.json()["errors"][0]["extensions"]["code"]
    unauthenticated = h.client.post("/graphql", json={"query": "{ objectives { id } }"})
    assert unauthenticated.json()["errors"][0]["extensions"]["code"]
