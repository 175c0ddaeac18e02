"""What a person reads of a system, to compare two systems: every list query of the GraphQL schema that needs no
argument, each with all its scalar fields two levels down (who recorded a change, and when it was recorded, left
out: an import records who imported and when), the scrutiny pack, and ``audit verify`` / ``audit decisions``."""

from __future__ import annotations

import base64
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    build_schema,
)

from services.reporting.graphql_node import MOMENT_PREFIX
from services.reporting.packs import PackRequest, build_pack
from tests.harness import Harness

SCHEMA = Path(__file__).parent.parent / "contracts" / "schema.graphql"
LEFT_OUT_TYPES = {"Actor", "DateTime"}
"""Who recorded, and when it was recorded: an import's events are the importer's, made now."""
LEFT_OUT_FIELDS = {"changes", "history", "auditHistory", "auditVerification", "decisionLog", "scsReviews",
                   "recordedAt", "recordedBy", "correlationId", "reportedBy", "withdrawnBy", "actor"}
"""Who recorded, as a pseudonym (reportedBy, withdrawnBy, actor: the importer, after an import), recording-time
views (a change log, an aggregate's history as recorded) and the verification (compared through ``audit verify``
instead)."""


def _unwrap(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def _selection(t: GraphQLObjectType, depth: int) -> str:
    parts = []
    for name, field in t.fields.items():
        if name in LEFT_OUT_FIELDS or any(isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined
                                          for a in field.args.values()):
            continue
        inner = _unwrap(field.type)
        if inner.name in LEFT_OUT_TYPES:
            continue
        if isinstance(inner, GraphQLScalarType) or not hasattr(inner, "fields"):
            parts.append(name)
        elif depth > 0 and isinstance(inner, GraphQLObjectType) and not inner.name.endswith("Connection"):
            sub = _selection(inner, depth - 1)
            if sub:
                parts.append(f"{name} {{ {sub} }}")
    return " ".join(parts)


def queries(schema: GraphQLSchema | None = None) -> dict[str, str]:
    schema = schema or build_schema(SCHEMA.read_text())
    query = schema.query_type
    assert query is not None
    found = {}
    for name, field in query.fields.items():
        if name in LEFT_OUT_FIELDS or name.endswith("Connection"):
            continue
        if not isinstance(_unwrap(field.type), GraphQLObjectType) or not _is_list(field.type):
            continue
        if any(isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined for a in field.args.values()):
            continue
        selection = _selection(_unwrap(field.type), 2)
        if selection:
            found[name] = f"{{ {name} {{ {selection} }} }}"
    return found


def _is_list(t: Any) -> bool:
    while isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def graphql_snapshot(h: Harness) -> dict[str, Any]:
    answers = {}
    for name, query in queries().items():
        body = h.graphql(query)
        assert "errors" not in body, (name, body["errors"])
        answers[name] = _sorted(body["data"][name])
    return answers


def _sorted(value: Any) -> Any:
    """Lists in a canonical order (two systems may list equal things in another order)."""
    if isinstance(value, list):
        items = [_sorted(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in value.items()}
    return value


def pack_snapshot(h: Harness) -> dict[str, Any]:
    assert h.system.read_model is not None
    pack = build_pack(h.system.read_model.store, PackRequest(committee="Scrutiny", start=date(2011, 1, 1),
                                                             end=date(2013, 12, 31)))
    data = json.loads(json.dumps(pack.__dict__, default=_plain))
    data.pop("changes", None)  # what changed between two recording times: when it was recorded differs
    return _sorted(_without_recording_times(data))


RECORDED_AT = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def _without_recording_times(value: Any) -> Any:
    """A pack with its moments left out (when it was produced, when a project was opened in the store, when a row
    became valid): an import records today what was decided years ago. Its dates (decided on, due on) stay."""
    if isinstance(value, dict):
        return {k: _without_recording_times(v) for k, v in value.items()
                if not (isinstance(v, str) and RECORDED_AT.match(v))}
    if isinstance(value, list):
        return [_without_recording_times(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if hasattr(value, "__dict__"):
        return value.__dict__
    return str(value)


def audit_snapshot(h: Harness) -> dict[str, Any]:
    auditor = h.system.auditor()
    verify = auditor.verify()
    def found(item: Any) -> dict[str, Any]:  # when, and by whom, it was recorded left out
        return {k: v for k, v in item.__dict__.items() if k not in ("time", "actor")}

    return {"verify": sorted((r.service, r.ok, len(r.problems)) for r in verify),
            "missing": _sorted([found(m) for m in auditor.missing_decisions()]),
            "unresolved": _sorted([found(u) for u in auditor.unresolved_decisions()])}


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


OPAQUE_ID_RE = re.compile(re.escape(MOMENT_PREFIX) + r"[A-Za-z0-9_-]+")


def _opened(match: re.Match[str]) -> str:
    """A GraphQL global id (``m_`` and base64) as the text it encodes, so that the ids inside it are renamed too."""
    body = match.group(0)[len(MOMENT_PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except ValueError:
        return match.group(0)
    return "opaque:" + json.dumps(raw)[1:-1]


def renamed(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with every id in ``ids`` replaced by its counterpart (in text too, and inside the opaque global
    ids GraphQL gives objects), lists re-sorted."""
    text = OPAQUE_ID_RE.sub(_opened, json.dumps(value))
    text = UUID_RE.sub(lambda m: ids.get(m.group(0), m.group(0)), text)
    return _sorted(json.loads(text))
