"""Trusted documents: persisted GraphQL operations by hash, and an allow-list per partner client.

A partner client registers its documents in the partner clients file (``documents:``, files beside it: one
``.graphql`` document each, or a ``.json`` manifest ``{sha256: document}`` as GraphQL Code Generator writes its
persisted documents). A document's id is the SHA-256 (hex) of its text (``shared.auth.document_hash``).

A request names a persisted document as Apollo's persisted-query link does, ``extensions.persistedQuery.sha256Hash``
(in the body, or the ``extensions`` parameter of a GET), with or without the text; or it sends the text alone. Then:

- a hash no client registered, sent without its text: ``PERSISTED_QUERY_NOT_FOUND``;
- a hash sent with a text that is not its document: ``PERSISTED_QUERY_HASH_MISMATCH``;
- a client that registered documents (its token's ``azp``/client id names it) and sends any other document, by hash
  or as text: ``DOCUMENT_NOT_ALLOWED``. A client that registered none is not restricted (its granted queries still
  hold: ``shared.auth.PartnerClient.queries``); people are not restricted.

Every refusal is a request error: no field runs, errors carry ``extensions.code``, 400 in
``application/graphql-response+json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.auth import ClientRegistry, PartnerClient, Principal, document_hash


class DocumentRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TrustedDocuments:
    documents: Mapping[str, str]
    """Every registered document, by hash."""
    allowed: Mapping[str, frozenset[str]]
    """The hashes each restricted client (by client id) may run."""

    @classmethod
    def of(cls, clients: Iterable[PartnerClient]) -> TrustedDocuments:
        documents: dict[str, str] = {}
        allowed: dict[str, frozenset[str]] = {}
        for client in clients:
            if client.documents:
                documents.update(client.documents)
                allowed[client.client_id] = frozenset(client.documents)
        return cls(documents, allowed)

    @classmethod
    def from_registry(cls, registry: ClientRegistry | None) -> TrustedDocuments:
        return cls.of(registry or ())

    def resolve(self, principal: Principal | None, query: str | None,
                extensions: Mapping[str, Any] | None) -> str | None:
        """The document text to run for this request (``query`` unless a hash names it), or DocumentRefused."""
        digest = _requested_hash(extensions)
        if digest is not None:
            if query:
                if document_hash(query) != digest:
                    raise DocumentRefused("PERSISTED_QUERY_HASH_MISMATCH",
                                          f"The query sent is not the document of sha256Hash {digest}.")
            else:
                query = self.documents.get(digest)
                if query is None:
                    raise DocumentRefused("PERSISTED_QUERY_NOT_FOUND",
                                          f"No trusted document has the hash {digest}: register it with your "
                                          "client (docs/partners.md), or send its text.")
        client = principal.client_id if principal is not None else None
        permitted = self.allowed.get(client) if client else None
        if permitted is not None and query is not None:
            digest = digest or document_hash(query)
            if digest not in permitted:
                raise DocumentRefused("DOCUMENT_NOT_ALLOWED",
                                      f"Client {client} runs only the documents it registered; {digest} is not one "
                                      "of them.")
        return query


def _requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise DocumentRefused("BAD_REQUEST", "extensions.persistedQuery.sha256Hash must be the SHA-256 of the "
                                             "document, 64 lower-case hex digits.")
    return digest
