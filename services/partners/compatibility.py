"""Is a new JSON Schema of an event type and version compatible with the one published for it?

Within one published version both directions must hold, because both sides exist: events stored (and messages
retained on the topics) under the published schema must still validate under the new one, and partners validating
new messages against the published schema must still accept them. So, within a version:

- a field may be added only if it is optional (old events lack it; old validators ignore it);
- no field may be removed, retyped (type, format, enum values, item types, nested fields), made required or made
  optional;
- titles, descriptions and examples may change, and a superseded version is marked ``deprecated``;
- a ``pattern`` the writer has always satisfied may be added (``WIRE_PATTERNS``: a date's, an id's, a decimal's
  text): nothing published fails it;
- the release that makes decimals strings only (``DECIMALS_AS_STRINGS_IN_RELEASE``) retypes every decimal at once,
  in its change notice.

Anything else needs a new version (``@contract(SERVICE, version=n + 1)``) and an upcaster for the stored events.
"""

from __future__ import annotations

from typing import Any

import shared.contracts
from shared.contracts import DECIMALS_AS_STRINGS_IN_RELEASE, WIRE_PATTERNS
from shared.fields import FIGURE_PATTERN

_DESCRIPTIVE = frozenset({"title", "description", "examples", "$comment", "$id", "$schema", "deprecated"})
"""Annotations, not constraints: a release marks a superseded version ``deprecated`` without changing what it reads."""


def incompatibilities(published: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Every incompatible change from ``published`` to ``current``, in words; empty when compatible."""
    problems: list[str] = []
    _compare(_resolved(published, published.get("$defs", {}), ()),
             _resolved(current, current.get("$defs", {}), ()), "", problems)
    return problems


def _resolved(schema: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    """The schema with every local ``$ref`` to ``#/$defs/...`` replaced by its target (names compare as content)."""
    if isinstance(schema, list):
        return [_resolved(item, defs, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in seen:  # a recursive type: compare by name
            return {"$recursive": name}
        target = {**defs.get(name, {}), **{k: v for k, v in schema.items() if k != "$ref"}}
        return _resolved(target, defs, (*seen, name))
    return {key: _resolved(value, defs, seen) for key, value in schema.items() if key != "$defs"}


def _compare(old: Any, new: Any, path: str, problems: list[str]) -> None:
    where = f"field {path}" if path else "the event"
    if isinstance(old, dict) and isinstance(new, dict):
        if _decimal_made_string(old, new):
            return
        if "pattern" in new and "pattern" not in old and new["pattern"] in WIRE_PATTERNS:
            old = {**old, "pattern": new["pattern"]}  # a pattern every published value already satisfies
        if "properties" in old or "properties" in new:
            _compare_object(old, new, path, problems)
            return
        keys = (old.keys() | new.keys()) - _DESCRIPTIVE
        for key in sorted(keys):
            if key not in old or key not in new:
                problems.append(f"{where}: retyped ({key!r} {'added' if key in new else 'removed'})")
                return
        for key in sorted(keys):
            _compare(old[key], new[key], path, problems)
        return
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            problems.append(f"{where}: retyped ({old!r} -> {new!r})" if len(repr(old)) < 200 else f"{where}: retyped")
            return
        for before, after in zip(old, new, strict=True):
            _compare(before, after, path, problems)
        return
    if old != new:
        problems.append(f"{where}: retyped ({old!r} -> {new!r})")


def _compare_object(old: dict[str, Any], new: dict[str, Any], path: str, problems: list[str]) -> None:
    old_fields: dict[str, Any] = old.get("properties", {})
    new_fields: dict[str, Any] = new.get("properties", {})
    old_required = set(old.get("required", ()))
    new_required = set(new.get("required", ()))
    prefix = f"{path}." if path else ""
    for name in sorted(old_fields.keys() - new_fields.keys()):
        problems.append(f"field {prefix}{name} was removed")
    for name in sorted(old_fields.keys() & new_fields.keys()):
        _compare(old_fields[name], new_fields[name], f"{prefix}{name}", problems)
    for name in sorted(new_required - old_required):
        problems.append(f"field {prefix}{name} became required" if name in old_fields
                        else f"field {prefix}{name} was added as required (stored events lack it)")
    for name in sorted((old_required - new_required) & new_fields.keys()):
        problems.append(f"field {prefix}{name} is no longer required (partners rely on it)")
    rest_old = {k: v for k, v in old.items() if k not in {"properties", "required", *_DESCRIPTIVE}}
    rest_new = {k: v for k, v in new.items() if k not in {"properties", "required", *_DESCRIPTIVE}}
    _compare(rest_old, rest_new, path, problems)


def _decimal_made_string(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Is this the release's declared change of a decimal, from "number or string" to a Figure's text?"""
    if shared.contracts.CONTRACT_RELEASE < DECIMALS_AS_STRINGS_IN_RELEASE:
        return False
    branches = old.get("anyOf")
    was_decimal = (isinstance(branches, list) and len(branches) == 2
                   and [branch.get("type") for branch in branches if isinstance(branch, dict)] == ["number", "string"])
    rest_old = {key: value for key, value in old.items() if key not in {"anyOf", *_DESCRIPTIVE}}
    rest_new = {key: value for key, value in new.items() if key not in {"type", "pattern", *_DESCRIPTIVE}}
    return (was_decimal and new.get("type") == "string" and new.get("pattern") == FIGURE_PATTERN
            and rest_old == rest_new)
