"""GraphQL fuzzing (hypothesis-graphql) over the whole schema, every query and mutation field, as every role (and
no one): documents valid against the schema with arbitrary arguments (any Unicode, NUL included, huge and odd
numbers, dates that are not dates), and documents that are not valid. Nothing is a server error: no 5xx, no error
coded INTERNAL_SERVER_ERROR, no forwarded command that failed with a 5xx. Bounded for CI: a few examples per field,
each sent with two roles in turn (so every role meets every field), on the demo data."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from services.reporting.graphql import schema as gateway_schema
from tests.harness import Harness, running_system, settings_for, wait_until

EXAMPLES = 4  # per field; each example goes to two roles, so the eight callers each meet every field once
INVALID_EXAMPLES = 40
CALLERS: list[dict[str, Any] | None] = [
    None,  # no token
    {"role": "partnership_officer"},
    {"role": "theme_group_lead", "theme_group": "pstg"},
    {"role": "district_coordinator", "org": "worcester-city-council", "district": "worcester"},
    {"role": "programme_manager", "org": "worcester-city-council", "district": "worcester"},
    {"role": "partner_officer", "org": "worcester-college"},
    {"role": "auditor"},
    {"role": "scrutiny_member"},
]
SERVER_ERROR_CODES = {"INTERNAL_SERVER_ERROR", "INTERNAL"}
SENT: Counter[str] = Counter()


def _value_node(value: Any) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal (for the JSON scalar)."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_value_node(v) for v in value])
    return nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_value_node(v))
                         for k, v in value.items()])


_HOSTILE_TEXT = st.sampled_from(["1e999999", "-1e999999", "1458000000", "2013-02-30", "\x00", "\u202e\u2066x",
                                 "=HYPERLINK(\"http://evil.example\")", "9" * 400, ""])
_JSON = st.recursive(st.none() | st.booleans() | st.integers(min_value=-(2**40), max_value=2**40)
                     | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20) | _HOSTILE_TEXT,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                         st.sampled_from(["title", "decision", "reason", "value", "values", "reported_on",
                                          "district", "share", "deadline", "expected_version", "x"]),
                         inner, max_size=4), max_leaves=8)
SCALARS = {
    "Date": (st.dates().map(lambda d: d.isoformat()) | _HOSTILE_TEXT).map(nodes.String),
    "DateTime": (st.datetimes().map(lambda d: d.isoformat()) | _HOSTILE_TEXT).map(nodes.String),
    "Decimal": (st.decimals(allow_nan=False, allow_infinity=False).map(str) | _HOSTILE_TEXT).map(nodes.String),
    "JSON": _JSON.map(_value_node),
}
SCHEMA = graphql.build_schema(str(gateway_schema))
QUERY_FIELDS = sorted(SCHEMA.query_type.fields) if SCHEMA.query_type else []
MUTATION_FIELDS = sorted(SCHEMA.mutation_type.fields) if SCHEMA.mutation_type else []


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path_factory.mktemp("graphql-fuzz"))) as h:
        assert h.system.load_demo_data()
        store = h.system.read_model.store  # type: ignore[union-attr]
        wait_until(lambda: store.query("SELECT COUNT(*) AS n FROM delivery_interventions")[0]["n"] == 1,
                   what="the demo data in the read models")
        yield h


def _headers(h: Harness, caller: dict[str, Any] | None, accept: str) -> dict[str, str]:
    headers = {"accept": accept, "cache-control": "no-cache"}
    if caller is not None:
        claims = {k: v for k, v in caller.items() if k not in ("role", "org")}
        headers.update(h.headers(caller["role"], caller.get("org", "worcestershire-cc"), **claims))
    return headers


def _server_errors(response: Any) -> list[str]:
    """What in the answer is a server error (nothing, for a refusal or a field error the client can act on)."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:300]}"]
    found = []
    for error in response.json().get("errors") or []:
        extensions = error.get("extensions") or {}
        status = extensions.get("status")
        retryable = status == 503 and extensions.get("code") in ("UPSTREAM_NOT_YET_KNOWN", "STORE_UNAVAILABLE")
        if extensions.get("code") in SERVER_ERROR_CODES or (isinstance(status, int) and status >= 500
                                                              and not retryable):
            found.append(json.dumps(error)[:300])
    return found


def _send(h: Harness, document: str, kind: str) -> None:
    turn = SENT[f"{kind} documents"]
    SENT[f"{kind} documents"] += 1
    for offset in (0, 1):
        caller = CALLERS[(2 * turn + offset) % len(CALLERS)]
        accept = ("application/graphql-response+json", "application/json")[(turn + offset) % 2]
        response = h.client.post("/graphql", json={"query": document}, headers=_headers(h, caller, accept))
        role = caller["role"] if caller else "anonymous"
        SENT[f"{kind} {role} {response.status_code}"] += 1
        SENT["requests"] += 1
        problems = _server_errors(response)
        SENT["server errors"] += len(problems)
        assert not problems, f"{role}: {document}\n" + "\n".join(problems)


def _fuzz(h: Harness, strategy: st.SearchStrategy[str], kind: str, examples: int) -> None:
    @given(document=strategy)
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def each(document: str) -> None:
        _send(h, document, kind)

    each()


@pytest.mark.parametrize("field", QUERY_FIELDS)
def test_generated_queries_of_every_field_find_no_server_error(demo: Harness, field: str) -> None:
    _fuzz(demo, queries(SCHEMA, fields=[field], custom_scalars=SCALARS), "query", EXAMPLES)


@pytest.mark.parametrize("field", MUTATION_FIELDS)
def test_generated_mutations_of_every_field_find_no_server_error(demo: Harness, field: str) -> None:
    _fuzz(demo, mutations(SCHEMA, fields=[field], custom_scalars=SCALARS), "mutation", EXAMPLES)


def test_generated_invalid_documents_find_no_server_error(demo: Harness) -> None:
    _fuzz(demo, queries(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE), "invalid", INVALID_EXAMPLES)


def test_the_graphql_fuzzing_was_done(say: Callable[[str], None]) -> None:
    """Runs after the tests above (file order): what was sent, by kind, caller and status."""
    say(f"hypothesis-graphql: {SENT['requests']} requests ({SENT['query documents']} query, "
        f"{SENT['mutation documents']} mutation and {SENT['invalid documents']} invalid documents over "
        f"{len(QUERY_FIELDS)} query and {len(MUTATION_FIELDS)} mutation fields, {len(CALLERS)} callers), "
        f"{SENT['server errors']} server errors; {dict(sorted(SENT.items()))}")
    assert SENT["requests"] > 0 and SENT["server errors"] == 0
