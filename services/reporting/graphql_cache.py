"""A cache of whole GraphQL answers to read-only queries, keyed so that it can never answer with stale data.

An answer is a function of: the query document and operation, its variables, what the caller may see, the read
model's contents and (for a few fields that default to "today") the date. The key holds each of them:

- the document, the operation name and the variables, as sent;
- the caller's *visibility*: every claim of the token except who the person is (organisation, roles, district,
  theme group, partner client and its granted queries); two callers who differ in any of these never share an
  entry, two people with the same claims do;
- the read model's *data version*: its tracking records (the upstream position of each partition, written in the
  same transaction as the rows they produced) and, on PostgreSQL, the transaction that last wrote each record (so
  a rebuild that ends at the same positions is a new version too). Any event applied moves it, so every entry
  made before is simply never looked up again, and ages out of the LRU;
- today's date (UTC).

The version is read before the query runs and again after; the answer is kept only if it did not move in between,
so an entry holds exactly the data of its version. An ``asOf`` query is cached the same way: an event projected
late may still change the past as the read model tells it, so past answers do not outlive the version either.

Only queries whose every root field is listed as cacheable are kept (read-model fields; not the auditors' live
verification nor the change feed, whose window ends "now"), only answers without errors, and only for a caller
with a token. Bounded by bytes of encoded JSON (LRU); hits, misses and evictions are Prometheus counters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    parse,
)

from shared import metrics
from shared.audit.people import vault_for
from shared.auth import Principal
from shared.readstore import ReadStore

log = logging.getLogger(__name__)

DataVersion = tuple[tuple[Any, ...], ...]

_PERSONAL_CLAIMS = frozenset({"user_id", "name"})
"""Claims that say who the caller is, not what they may see: no resolver reads them (see ``visibility``)."""


def visibility(principal: Principal) -> dict[str, Any]:
    """What decides which answers a caller may get: every claim but the person's id. New claims count by default."""
    seen: dict[str, Any] = {}
    for field in dataclasses.fields(principal):
        if field.name in _PERSONAL_CLAIMS:
            continue
        value = getattr(principal, field.name)
        seen[field.name] = sorted(str(v) for v in value) if isinstance(value, frozenset | set) else value
    return seen


def data_version(store: ReadStore) -> DataVersion:
    """The read model's tracking records (and on PostgreSQL the transaction that wrote each): moves whenever any
    event is applied or the store is rebuilt."""
    table = getattr(store.recorder, "tracking_table_name", "tracking")
    extra = ", xmin::text AS tx" if store.postgres else ""
    with store.transaction(commit=False) as tx:
        rows = tx.query(f"SELECT application_name, notification_id{extra} FROM {table} ORDER BY application_name")
    # An erasure or a redaction changes what an answer shows (a name, a text) without any event: it moves too.
    erasures = ("people", vault_for(store.settings).generation())
    return (*(tuple(row.values()) for row in rows), erasures)


def root_fields(document: DocumentNode, operation_name: str | None) -> frozenset[str] | None:
    """The root field names a query operation selects (through fragments), or None if it is not a query."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: set[str] = set()

    def collect(selections: SelectionSetNode, seen: frozenset[str]) -> bool:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                if not collect(selection.selection_set, seen):
                    return False
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None or fragment.name.value in seen:
                    return False  # the schema's validation refuses it anyway
                if not collect(fragment.selection_set, seen | {fragment.name.value}):
                    return False
        return True

    return frozenset(names) if collect(operation.selection_set, frozenset()) else None


class EncodedData:
    """An answer's ``data`` already encoded as JSON (what the cache keeps and the router writes out as is)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


@dataclasses.dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: int


class ResponseCache:
    """LRU of encoded answers, at most ``max_bytes`` of JSON in all (an answer over a quarter of it is not kept).

    ``cacheable``: the root query fields whose answers depend on nothing but the read model, the arguments, the
    caller's visibility and the date."""

    def __init__(self, max_bytes: int, cacheable: Collection[str], max_documents: int = 1024) -> None:
        self.max_bytes = max_bytes
        self._cacheable = frozenset(cacheable) | {"__typename"}
        self._entries: OrderedDict[bytes, EncodedData] = OrderedDict()
        self._bytes = 0
        self._hits = self._misses = self._evictions = 0
        # Whether a (document, operation) may be cached at all, decided once per document (LRU as well).
        self._documents: OrderedDict[tuple[str, str | None], bool] = OrderedDict()
        self._max_documents = max_documents
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def cacheable(self, query: str, operation_name: str | None) -> bool:
        """Is this a query operation whose every root field is cacheable? (Unparsable: no; strawberry says why.)"""
        key = (query, operation_name)
        with self._lock:
            known = self._documents.get(key)
            if known is not None:
                self._documents.move_to_end(key)
                return known
        try:
            # The same token limit as the schema's: a huge document is refused before it costs anything.
            fields = root_fields(parse(query, max_tokens=5_000), operation_name)
        except GraphQLError:
            fields = None
        verdict = fields is not None and fields <= self._cacheable
        with self._lock:
            self._documents[key] = verdict
            while len(self._documents) > self._max_documents:
                self._documents.popitem(last=False)
        return verdict

    @staticmethod
    def key(query: str, operation_name: str | None, variables: Mapping[str, Any] | None, principal: Principal,
            version: DataVersion) -> bytes:
        parts = [query, operation_name, variables or {}, visibility(principal), version,
                 datetime.now(UTC).date().isoformat()]
        return hashlib.blake2b(json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=32).digest()

    def get(self, key: bytes, *, refresh: bool = False) -> EncodedData | None:
        """The answer kept under ``key``; ``refresh``: none, the caller wants it computed (counts as a miss)."""
        with self._lock:
            found = None if refresh else self._entries.get(key)
            if found is None:
                self._misses += 1
            else:
                self._entries.move_to_end(key)
                self._hits += 1
        metrics.GRAPHQL_CACHE_LOOKUPS.labels("miss" if found is None else "hit").inc()
        return found

    def put(self, key: bytes, data: EncodedData) -> None:
        size = len(data.text)
        if size > self.max_bytes // 4:
            return
        evicted = 0
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.text)
            self._entries[key] = data
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._entries.popitem(last=False)
                self._bytes -= len(old.text)
                evicted += 1
            self._evictions += evicted
            held = self._bytes
        metrics.GRAPHQL_CACHE_BYTES.set(held)
        if evicted:
            metrics.GRAPHQL_CACHE_EVICTIONS.inc(evicted)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(hits=self._hits, misses=self._misses, evictions=self._evictions,
                              entries=len(self._entries), bytes=self._bytes)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
        metrics.GRAPHQL_CACHE_BYTES.set(0)
