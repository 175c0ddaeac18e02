"""Trusted documents from the partner clients file: a .graphql file by its SHA-256, a codegen manifest checked hash
by hash, a missing file or a wrong hash refused naming it; and the allow-list's verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.reporting.trusted_documents import DocumentRefused, TrustedDocuments
from shared.auth import LOCKED_SECRET, ClientRegistry, Principal, document_hash

ONE = "query One { objectives { id } }"
TWO = "query Two { targets { id } }"


def _registry(tmp_path: Path, documents: str) -> ClientRegistry:
    clients = tmp_path / "clients.yaml"
    clients.write_text(f"""clients:
  - client_id: college-mis
    organisation: worcester-college
    secret_hash: "{LOCKED_SECRET}"
    documents: {documents}
""")
    return ClientRegistry.from_file(clients)


def test_documents_are_read_by_hash_from_files_and_manifests(tmp_path: Path) -> None:
    (tmp_path / "one.graphql").write_text(ONE)
    (tmp_path / "manifest.json").write_text(json.dumps({f"sha256:{document_hash(TWO)}": TWO}))
    client = _registry(tmp_path, "[one.graphql, manifest.json]").get("college-mis")
    assert client is not None and dict(client.documents) == {document_hash(ONE): ONE, document_hash(TWO): TWO}


def test_a_wrong_hash_or_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({document_hash(ONE): TWO}))
    with pytest.raises(ValueError, match="not the SHA-256 of its document"):
        _registry(tmp_path, "[manifest.json]")
    with pytest.raises(ValueError, match=r"absent\.graphql"):
        _registry(tmp_path, "[absent.graphql]")


def test_the_allow_list_decides(tmp_path: Path) -> None:
    (tmp_path / "one.graphql").write_text(ONE)
    trusted = TrustedDocuments.from_registry(_registry(tmp_path, "[one.graphql]"))
    college = Principal("client:college-mis", "worcester-college", frozenset(), client_id="college-mis")
    person = Principal("someone", "worcestershire-cc", frozenset())
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(ONE)}}
    assert trusted.resolve(college, None, by_hash) == ONE
    assert trusted.resolve(college, ONE, None) == ONE
    assert trusted.resolve(person, TWO, None) == TWO
    for principal, query, extensions, code in [
        (college, TWO, None, "DOCUMENT_NOT_ALLOWED"),
        (person, None, {"persistedQuery": {"sha256Hash": document_hash(TWO)}}, "PERSISTED_QUERY_NOT_FOUND"),
        (person, TWO, by_hash, "PERSISTED_QUERY_HASH_MISMATCH"),
        (person, None, {"persistedQuery": {"sha256Hash": "ABC"}}, "BAD_REQUEST"),
    ]:
        with pytest.raises(DocumentRefused) as refused:
            trusted.resolve(principal, query, extensions)
        assert refused.value.code == code
