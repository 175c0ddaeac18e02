"""GraphQL transport follows GraphQL over HTTP: a request that is not well-formed is a 400 (415 for a media type not
read, 405 for a mutation by GET, 406 for an Accept it cannot meet) with ``errors[].extensions.code`` in
``application/graphql-response+json``, never a 500 or plain text; a client accepting that media type gets 400 for
a document that does not validate, and 200 once it ran."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Harness

GRAPHQL_RESPONSE = "application/graphql-response+json"


def _post(h: Harness, body: bytes, content_type: str = "application/json", accept: str | None = None) -> Any:
    headers = {**h.headers("partnership_officer"), "content-type": content_type}
    if accept is not None:
        headers["accept"] = accept
    return h.client.post("/graphql", content=body, headers=headers)


def _refused(response: Any, status: int, code: str, media: str = GRAPHQL_RESPONSE) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    body = response.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code, body
    assert body["errors"][0]["message"]


@pytest.mark.parametrize(("body", "code"), [
    (b'{"query": "{ objectives { id } }\xff"}', "INVALID_UTF8"),
    (b'\xff\xfe{"query": "{ __typename }"}', "INVALID_UTF8"),
    (b'{"query": ', "MALFORMED_JSON"),
    (b"NONSENSE", "MALFORMED_JSON"),
    (b"[" * 50_000 + b"]" * 50_000, "MALFORMED_JSON"),
    (b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]', "BATCHING_NOT_SUPPORTED"),
    (b"1", "INVALID_REQUEST"),
    (b'"{ __typename }"', "INVALID_REQUEST"),
    (b"null", "INVALID_REQUEST"),
    (b'{"qeury": "{ __typename }"}', "INVALID_REQUEST"),
    (b'{"query": 7}', "INVALID_REQUEST"),
    (b'{"query": "{ __typename }", "variables": [7]}', "INVALID_REQUEST"),
    (b'{"query": "{ __typename }", "operationName": 1}', "INVALID_REQUEST"),
    (b'{"query": "{ __typename }", "extensions": "x"}', "INVALID_REQUEST"),
])
def test_a_request_that_is_not_well_formed_is_a_400_with_a_code(harness: Harness, body: bytes, code: str) -> None:
    _refused(_post(harness, body), 400, code)
    # and the same with an Accept naming only application/json: the media type asked for, still a 400
    _refused(_post(harness, body, accept="application/json"), 400, code, "application/json")


def test_a_media_type_not_read_is_a_415_with_a_code(harness: Harness) -> None:
    for content_type in ("text/plain", "application/graphql-response+json", "application/x-www-form-urlencoded"):
        _refused(_post(harness, b'{"query": "{ __typename }"}', content_type), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_an_oversized_graphql_body_is_a_413_in_graphql_form(harness: Harness) -> None:
    _refused(_post(harness, b'{"query": "' + b"x" * 2_000_000 + b'"}'), 413, "BODY_TOO_LARGE")


def test_a_mutation_by_get_is_a_405_and_an_accept_it_cannot_meet_a_406(harness: Harness) -> None:
    h = harness
    by_get = h.client.get("/graphql", params={"query": "mutation { __typename }"},
                          headers={**h.headers("partnership_officer"), "accept": GRAPHQL_RESPONSE})
    _refused(by_get, 405, "METHOD_NOT_ALLOWED")
    assert by_get.headers["allow"] == "GET, POST"
    _refused(_post(h, b'{"query": "{ __typename }"}', accept="text/xml"), 406, "NOT_ACCEPTABLE")


def test_the_accepted_media_type_decides_the_status_of_a_document_that_does_not_validate(harness: Harness) -> None:
    h = harness
    for document in (b'{"query": "{ nope }"}', b'{"query": "{"}',
                     b'{"query": "query($t: DateTime) { objectives(asOf: $t) { id } }", "variables": {"t": 1}}'):
        _refused(_post(h, document, accept=GRAPHQL_RESPONSE), 400, _code(h, document))
        legacy = _post(h, document)  # no Accept: application/json, 200 for every well-formed request
        assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
        assert legacy.json()["data"] is None and legacy.json()["errors"][0]["extensions"]["code"]


def _code(h: Harness, document: bytes) -> str:
    code: str = _post(h, document).json()["errors"][0]["extensions"]["code"]
    return code


def test_a_query_that_ran_is_a_200_in_the_media_type_asked_for(harness: Harness) -> None:
    h = harness
    for accept, media in ((GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
                          (f"{GRAPHQL_RESPONSE}, application/json", GRAPHQL_RESPONSE),
                          ("application/json", "application/json"), ("*/*", "application/json"),
                          (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json")):
        ran = _post(h, b'{"query": "{ objectives { id } }"}', accept=accept)
        assert ran.status_code == 200, ran.text
        assert ran.headers["content-type"].split(";")[0] == media
        assert ran.json()["data"] == {"objectives": ran.json()["data"]["objectives"]}
    unauthenticated = h.client.post("/graphql", json={"query": "{ objectives { id } }"},
                                    headers={"accept": GRAPHQL_RESPONSE})
    assert unauthenticated.status_code == 200  # a field error: it ran
    assert unauthenticated.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
