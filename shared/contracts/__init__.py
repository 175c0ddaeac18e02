"""Event contracts: each event's fields declared once, as a frozen dataclass registered under its CloudEvent type.

Domain events in a service inherit their contract (``class Added(Aggregate.Created, ObjectiveAdded)``), so the
stored event, the published message, its JSON Schema and the reporting side's parser share one definition.

Partners see contracts in **releases**. ``CONTRACT_RELEASE`` is the release they have; a contract declared for a
later one (``@contract(SERVICE, version=n, release=CONTRACT_RELEASE + 1)``) is *unreleased*: our own services store
and read it, but
its schema is generated apart (``contracts/unreleased/``), it is left out of AsyncAPI, it is free to change, and the
relay does not put it on a topic partners read (``shared.relay``). Shipping a release is raising
``CONTRACT_RELEASE``: every contract declared for it is published at once (docs/partners.md, "Contract releases").
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema, to_jsonable_python

from shared.fields import (
    DAY_PATTERN,
    DECIMAL_TEXT_PATTERN,
    FIGURE_LIMIT,
    FIGURE_PATTERN,
    FIGURE_PLACES,
    MOMENT_PATTERN,
    figure_text,
)

__all__ = [
    "CONTRACT_RELEASE",
    "RELEASE_DATES",
    "Actor",
    "ContractError",
    "Decision",
    "Fact",
    "ReleaseDates",
    "all_contracts",
    "contract",
    "contract_of",
    "contract_type",
    "from_data",
    "is_released",
    "json_schema",
    "release_of",
    "resolve",
    "superseded",
    "superseded_by",
    "to_data",
]

SCHEMA_BASE_URI = "urn:partnership:events:"

CONTRACT_RELEASE = 2
"""The contract release partners have. Raising it is the release: every contract declared for it is published."""


@dataclass(frozen=True)
class ReleaseDates:
    """When a contract release was served from, and until when the versions it superseded are still served: their
    schemas stay published (marked superseded) and our readers upcast their records (docs/partners.md, "Change
    notices")."""

    served_from: date
    superseded_until: date


RELEASE_DATES: dict[int, ReleaseDates] = {
    # Twelve months for partners to move their consumers to the new versions.
    2: ReleaseDates(served_from=date(2026, 12, 3), superseded_until=date(2027, 12, 3)),
}
"""The dates of every release since the first (a release ships with its dates: its change notice states them)."""


@dataclass(frozen=True)
class Actor:
    """Who made a change: the authenticated user (an opaque subject id), their organisation, and the grant the
    command passed under: the role and its scope (the district, theme group or organisation; none when the role is
    partnership-wide, and in events recorded before grants had scopes)."""

    user_id: str
    """The person's pseudonym (person:<32 hex>, issued by the people vault; never the identity provider's
    subject), or client:<id> for a partner system."""
    organisation: str
    """The organisation the user acts for."""
    role: str
    """The role of the grant the command passed under."""
    scope: str | None = None
    """The grant's scope (a district, theme group or organisation); None when partnership-wide."""


@dataclass(frozen=True)
class Decision:
    """Which body decided, at which meeting, on what date, and why.

    ``meeting_version`` is the entry of the body's minute book that recording the meeting answered (a service
    whose copy of the minute book is older answers "retry"); ``delegation`` names the scheme of delegation under
    which an officer took the decision for the body, instead of a meeting.
    """

    body: str
    """The body that decided (its id), e.g. the partnership board."""
    decided_on: date
    """The date of the decision."""
    reason: str
    """Why the body decided so: free text, sealed (sealed:v1:<key id>:<ciphertext>, docs/audit.md)."""
    meeting_id: str | None = None
    """The meeting at which it was decided; None for a decision under delegation."""
    reference: str | None = None
    """The decision's reference in the minutes, e.g. PB-2013-04; None when not given."""
    meeting_version: int | None = None
    """The entry of the body's minute book that recording the meeting answered."""
    delegation: str | None = None
    """The scheme of delegation under which an officer decided for the body; None at a meeting."""


@dataclass(frozen=True, kw_only=True)
class Fact:
    """Fields every event carries: the actor, the correlation id of the command, and the decision if any."""

    actor: Actor
    """Who made the change."""
    correlation_id: str
    """The correlation id of the command that caused the event (ties it to its logs)."""
    decision: Decision | None = None
    """The decision the change carries out, when it needs one."""


class ContractError(ValueError):
    """A message's data does not satisfy its event contract."""


_REGISTRY: dict[str, type[Fact]] = {}
_UPCASTERS: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {}
F = TypeVar("F", bound=type[Fact])


def contract(service: str, version: int = 1, *, release: int = 1) -> Callable[[F], F]:
    """Register a contract class under the CloudEvent type ``<service>.<ClassName>.v<version>``.

    ``release`` is the contract release that publishes it: a new event, or a new version of one, added since the last
    release says ``release=CONTRACT_RELEASE + 1`` (written as a number, e.g. ``release=2``) and stays unreleased,
    free to change, until that release ships.
    """

    def register(cls: F) -> F:
        _register(cls, service, f"{service}.{cls.__name__}.v{version}", release)
        return cls

    return register


def superseded(service: str, name: str, version: int, upcast: Callable[[dict[str, Any]], dict[str, Any]], *,
               release: int = 1, next_version: int | None = None) -> Callable[[F], F]:
    """Keep a superseded version of an event, frozen as it was published (its schema stays published): data of
    ``<service>.<name>.v<version>`` is upcast to the next version's by ``upcast`` when read (``from_data``).

    The stored events of that version are upcast by the domain event's own ``upcast_v<n>_v<n+1>`` (the library's
    ``class_version`` mechanism); this is the same step for messages already published. A superseded version that is
    itself unreleased (``release`` above ``CONTRACT_RELEASE``) was never published: the release drops it, and the
    version before it then upcasts past it (``next_version``, with the two steps composed).
    """

    def register(cls: F) -> F:
        type_name = f"{service}.{name}.v{version}"
        _register(cls, service, type_name, release)
        _UPCASTERS[type_name] = (f"{service}.{name}.v{next_version or version + 1}", upcast)
        cls.__superseded_by__ = _UPCASTERS[type_name][0]  # type: ignore[attr-defined]
        return cls

    return register


def _register(cls: type[Fact], service: str, type_name: str, release: int) -> None:
    if type_name in _REGISTRY:
        raise RuntimeError(f"event contract {type_name} is declared twice")
    if not 1 <= release <= CONTRACT_RELEASE + 1:
        raise RuntimeError(f"event contract {type_name}: release={release}, but partners have release "
                           f"{CONTRACT_RELEASE}; a contract added now belongs to release {CONTRACT_RELEASE + 1}")
    cls.__contract_type__ = type_name  # type: ignore[attr-defined]
    cls.__contract_service__ = service  # type: ignore[attr-defined]
    cls.__contract_release__ = release  # type: ignore[attr-defined]
    _REGISTRY[type_name] = cls


def release_of(contract_class: type[Fact]) -> int:
    """The contract release that publishes (or published) this contract."""
    return int(getattr(contract_class, "__contract_release__", 1))


def superseded_by(contract_class: type[Fact]) -> str | None:
    """The version a superseded contract is upcast to when read (``superseded``); None for a current one."""
    successor: str | None = contract_class.__dict__.get("__superseded_by__")
    return successor


def is_released(type_name: str) -> bool:
    """Is this event type part of a release partners have? (Unknown types raise ContractError.)"""
    return release_of(resolve(type_name)) <= CONTRACT_RELEASE


def contract_of(event_class: type) -> type[Fact]:
    """The contract class a domain event class inherits; raises if it has none."""
    for klass in event_class.__mro__:
        if "__contract_type__" in klass.__dict__:
            return klass
    raise TypeError(f"{event_class.__qualname__} inherits no event contract from shared.contracts")


def contract_type(contract_class: type[Fact]) -> str:
    return str(contract_class.__contract_type__)  # type: ignore[attr-defined]


def resolve(type_name: str) -> type[Fact]:
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise ContractError(f"unknown event type {type_name!r}") from None


def all_contracts() -> Iterator[tuple[str, type[Fact]]]:
    _load_all()
    yield from sorted(_REGISTRY.items())


_ADAPTERS: dict[type[Fact], TypeAdapter[Any]] = {}


def _adapter(cls: type[Fact]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def to_data(event: object) -> tuple[str, dict[str, Any]]:
    """The CloudEvent type and JSON-ready data of a domain event (only its contract's fields)."""
    cls = contract_of(type(event))
    values = {f.name: getattr(event, f.name) for f in dataclasses.fields(cls)}
    adapter = _adapter(cls)
    # Validating first restores types the store's JSON gave back as plain values (enums as str).
    data = _wire(adapter.dump_python(adapter.validate_python(values), mode="python"))
    return contract_type(cls), data


def _wire(value: Any) -> Any:
    """JSON-ready data; a decimal written out in full (``0.0000001``, never ``1E-7``), as the schemas' pattern reads."""
    if isinstance(value, Decimal):
        return figure_text(value)
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return to_jsonable_python(value)


def from_data(type_name: str, data: object) -> Fact:
    """Parse and validate a message's data into its contract (a superseded version is upcast to the current one);
    ContractError when it does not fit."""
    while type_name in _UPCASTERS and isinstance(data, dict):
        type_name, upcast = _UPCASTERS[type_name]
        data = upcast(dict(data))
    cls = resolve(type_name)
    try:
        parsed: Fact = _adapter(cls).validate_python(data)
    except ValidationError as error:
        raise ContractError(f"{type_name}: {error.error_count()} invalid field(s): {error}") from error
    return parsed


def json_schema(cls: type[Fact]) -> dict[str, Any]:
    """The JSON Schema (2020-12) published for partner organisations."""
    schema = _adapter(cls).json_schema(schema_generator=_ContractSchema)
    type_name = contract_type(cls)
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_BASE_URI + type_name,
        "title": type_name,
        "description": (cls.__doc__ or "").strip(),
        **schema,
    }
    document["description"] += ("\n\nOpen to additions: within this version only optional fields are added, so "
                                "validate without forbidding unknown fields and ignore those you do not know.")
    release = release_of(cls)
    if release > CONTRACT_RELEASE:
        document["description"] += (f"\n\nUnreleased: part of contract release {release}, not yet published to "
                                    "partners; it may change until that release ships.")
    successor = superseded_by(cls)
    if successor is not None and release_of(resolve(successor)) <= CONTRACT_RELEASE:
        document["deprecated"] = True
        document["description"] += "\n\n" + _superseded_note(successor, release_of(resolve(successor)))
    return document


def _superseded_note(successor: str, release: int) -> str:
    """What a superseded version's schema says: by what, since when, and until when it is served."""
    dates = RELEASE_DATES.get(release)
    served = f" (served from {dates.served_from.isoformat()})" if dates else ""
    until = f" until at least {dates.superseded_until.isoformat()}" if dates else ""
    return (f"Superseded by {successor} in contract release {release}{served}: new records carry that version. "
            f"Records of this one stay on the topic and this schema stays published{until}; read them as "
            f"{successor} (docs/partners.md says what changed).")


DECIMALS_AS_STRINGS_IN_RELEASE = 2
"""Contract release 2 types a decimal as a string only, written out in full within a Figure's bounds
(``FIGURE_PATTERN``). Release 1 published "number or string"; partners' generated code changes with the type, so it
waits for the release. Until then the string branch carries ``DECIMAL_TEXT_PATTERN``, which every decimal ever
published satisfies (Python's text of a decimal; since this pattern, written out in full)."""
SCHEMA_CHANGES: dict[int, tuple[str, ...]] = {
    DECIMALS_AS_STRINGS_IN_RELEASE: (
        "Every decimal (a value, a share, a weight, money) is a JSON string only, written out in full (no exponent), "
        f"at most {len(str(FIGURE_LIMIT)) - 1} digits before the point and {FIGURE_PLACES} after (its schema's "
        "pattern); release 1 typed it \"number or string\" though every value published was a string: parse "
        "it with a decimal type, never a float.",
    ),
}
"""Changes to every event schema at once, by the contract release that makes them (listed in its change notice;
the compatibility check accepts them from that release on)."""
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
"""An id (a UUID) as every event writes it: lowercase, hyphenated."""
WIRE_PATTERNS = frozenset({DAY_PATTERN, MOMENT_PATTERN, UUID_PATTERN, DECIMAL_TEXT_PATTERN})
"""Patterns the writer (``to_data``) has always satisfied: adding one to a released schema narrows nothing that was
published, so the compatibility check accepts it within a version."""


class _ContractSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, saying what the text on the wire is: a decimal's pattern and bounds, a date's and an
    id's pattern beside its format, and each field's description from its attribute docstring."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        if CONTRACT_RELEASE >= DECIMALS_AS_STRINGS_IN_RELEASE:
            return {"type": "string", "pattern": FIGURE_PATTERN}
        return {"anyOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_TEXT_PATTERN}]}

    def date_schema(self, schema: core_schema.DateSchema) -> JsonSchemaValue:
        return {**super().date_schema(schema), "pattern": DAY_PATTERN}

    def datetime_schema(self, schema: core_schema.DatetimeSchema) -> JsonSchemaValue:
        return {**super().datetime_schema(schema), "pattern": MOMENT_PATTERN}

    def uuid_schema(self, schema: core_schema.UuidSchema) -> JsonSchemaValue:
        return {**super().uuid_schema(schema), "pattern": UUID_PATTERN}

    def dataclass_schema(self, schema: core_schema.DataclassSchema) -> JsonSchemaValue:
        json_schema = super().dataclass_schema(schema)
        docs = field_docs(cast(type, schema["cls"]))
        for name, property_schema in json_schema.get("properties", {}).items():
            if name in docs:
                property_schema["description"] = docs[name]
        return json_schema


_PARSING = threading.Lock()


@cache
def field_docs(cls: type) -> dict[str, str]:
    """Each field's description: the string literal written just below the field in its class (an attribute
    docstring, as in PEP 257), inherited fields' from the class that declares them. The one convention for
    describing a contract's fields (docs/partners.md, "Describing a field")."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass) or "__annotations__" not in klass.__dict__:
            continue
        # One thread parses at a time: CPython 3.11 keeps ast.parse's recursion count per interpreter, and two
        # threads parsing at once can leave it off for good ("AST constructor recursion depth mismatch" on every
        # later parse in the process, seen in full test runs).
        with _PARSING:
            try:
                source = textwrap.dedent(inspect.getsource(klass))
            except (OSError, TypeError):
                continue
            node = ast.parse(source).body[0]
        if not isinstance(node, ast.ClassDef):
            continue
        for statement, following in zip(node.body, node.body[1:], strict=False):
            if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                    and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)):
                docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs


def _load_all() -> None:
    # Importing the contract modules registers them; done lazily to keep imports acyclic.
    from shared.contracts import audit, priorities, projects, tasking  # noqa: F401
