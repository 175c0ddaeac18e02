"""What changed between two moments: every entity added, retired or changed in the period, its values before and
after, who changed it and under which decision ("what is different since the last committee?").

The temporal tables make this a query over ``valid_from``: an entity changed in (from, to] if one of its rows
became valid then; its row valid at ``from`` is the before, its row valid at ``to`` the after. Who changed it and
under which decision come from the event log (the event that made each row, by aggregate id and version).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from services.reporting.declaration import Tracked
from services.reporting.graphql_common import (
    AFTER,
    BEFORE,
    FIRST,
    LAST,
    Actor,
    Connection,
    Decision,
    IsAuthenticated,
    bad_input,
    decision_from,
    paginate,
    read_model,
)
from services.reporting.registry import READ_MODELS
from services.reporting.temporal import in_force_clause, source, timestamp
from shared.readstore import ReadStore


def _tracked() -> list[tuple[str, Tracked]]:
    """Every read model's tables that committees follow (their declarations say which, and how to name them)."""
    return [(table.name, table.tracked) for model in READ_MODELS for table in model.tables
            if table.tracked is not None]


_META = {"id", "version", "changed_by", "changed_by_organisation", "changed_by_role", "decision", "added_at",
         "valid_from", "valid_to", "opened_at", "in_force_from", "own_changes"}
_ENDED = {"retired", "withdrawn", "closed", "declined", "rejected"}
_CHUNK = 500


@dataclass(frozen=True)
class Scope:
    """A committee's scope: the whole county (both empty), or some districts and/or theme groups. County-wide
    entities (objectives, targets, reviews) are in every scope."""

    districts: frozenset[str] = frozenset()
    theme_groups: frozenset[str] = frozenset()

    @property
    def county(self) -> bool:
        return not self.districts and not self.theme_groups

    def covers(self, tracked: Tracked, row: dict[str, Any]) -> bool:
        """Whether the entity (its row) concerns this scope."""
        if self.county or not (tracked.districts or tracked.groups):
            return True
        return any(row.get(c) in self.districts for c in tracked.districts) or any(
            row.get(c) in self.theme_groups for c in tracked.groups)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _valid_at(store: ReadStore, table: str, ids: Sequence[str], at: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        marks = ", ".join("?" for _ in chunk)
        for row in store.query(f"SELECT * FROM {table} WHERE id IN ({marks}) AND valid_from <= ?"
                               " AND (valid_to IS NULL OR valid_to > ?)", [*chunk, at, at]):
            rows[row["id"]] = row
    return rows


def _events(store: ReadStore, keys: set[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    subjects = sorted({subject for subject, _ in keys})
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for chunk in _chunks(subjects):
        marks = ", ".join("?" for _ in chunk)
        for row in store.query("SELECT subject, version, type, time, actor, actor_organisation, actor_role, decision"
                               f" FROM event_log WHERE subject IN ({marks})", list(chunk)):
            if (row["subject"], row["version"]) in keys:
                found[(row["subject"], row["version"])] = row
    return found


def _values(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: v for k, v in row.items() if k not in _META}


def _kind(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    if before is None:
        return "added"
    ended_before = before.get("status") in _ENDED or before.get("is_member") == 0
    ended_after = after.get("status") in _ENDED or after.get("is_member") == 0
    return "retired" if ended_after and not ended_before else "changed"


Step = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
"""A change's step from its revision (id, version, valid_from and perhaps in_force_from) and its event."""


def _changed(store: ReadStore, tracked: Tracked, revisions: list[dict[str, Any]], before: dict[str, dict[str, Any]],
             after: dict[str, dict[str, Any]], scope: Scope,
             step: Step) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Each entity of ``revisions`` whose version ``after`` differs, in what a committee sees, from ``before`` (or
    is new), within ``scope``: its revisions and its entry (kind, fields before and after, each step)."""
    events = _events(store, {(r["id"], r["version"]) for r in revisions})
    by_id: dict[str, list[dict[str, Any]]] = {}
    for revision in revisions:
        by_id.setdefault(revision["id"], []).append(revision)
    for entity_id in sorted(by_id):
        now = after.get(entity_id)
        if now is None or not scope.covers(tracked, now):
            continue
        then = before.get(entity_id)
        old, new = _values(then), _values(now)
        assert new is not None
        fields = sorted(k for k in new if old is None or old.get(k) != new.get(k))
        if old is not None and not fields:
            continue  # a new version that changed nothing a committee sees (e.g. a milestone added)
        mine = by_id[entity_id]
        steps = [step(revision, event) for revision in mine
                 if (event := events.get((revision["id"], revision["version"]))) is not None]
        yield mine, {
            "entity": tracked.entity, "id": entity_id, "label": _label(tracked, now), "kind": _kind(then, now),
            "fields": fields, "before": old, "after": new, "steps": steps,
            "district": next((now[c] for c in tracked.districts if c == "district"), None),
            "first_changed_at": mine[0]["valid_from"], "last_changed_at": mine[-1]["valid_from"],
        }


def _in_force_step(revision: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """A step on the in-force axis: the day it came into force and, where it was entered on another, that day."""
    entered = datetime.fromisoformat(revision["valid_from"]).date().isoformat()
    return {**event, "in_force_from": revision["in_force_from"],
            "entered_on": entered if entered != revision["in_force_from"] else None}


def changes(store: ReadStore, start: datetime, end: datetime, scope: Scope | None = None) -> list[dict[str, Any]]:
    """Every tracked entity added, retired or changed in (start, end], in the order of its last change."""
    if timestamp(start) >= timestamp(end):
        raise ValueError("the period ends before it starts")
    scope = scope or Scope()
    at_start, at_end = timestamp(start), timestamp(end)
    found: list[dict[str, Any]] = []
    for table, tracked in _tracked():
        revisions = store.query(f"SELECT id, version, valid_from FROM {table}"
                                " WHERE valid_from > ? AND valid_from <= ? ORDER BY valid_from, version",
                                [at_start, at_end])
        if not revisions:
            continue
        ids = sorted({r["id"] for r in revisions})
        before, after = _valid_at(store, table, ids, at_start), _valid_at(store, table, ids, at_end)
        found += [entry for _, entry in _changed(store, tracked, revisions, before, after, scope,
                                                 lambda revision, event: event)]
    found.sort(key=lambda c: (c["last_changed_at"], c["entity"], c["id"]))
    return found


def _in_force_on(store: ReadStore, table: str, ids: Sequence[str], as_of: datetime | None,
                 day: date) -> dict[str, dict[str, Any]]:
    """The versions of these entities in force on ``day``, as recorded at ``as_of`` (now when None)."""
    rows: dict[str, dict[str, Any]] = {}
    clause, params = in_force_clause(table, as_of, day)
    for chunk in _chunks(ids):
        marks = ", ".join("?" for _ in chunk)
        for row in store.query(f"SELECT * FROM {source(table, as_of, day)} WHERE id IN ({marks}) AND {clause}",
                               [*chunk, *params]):
            rows[row["id"]] = row
    return rows


def changes_in_force(store: ReadStore, start: date, end: date, scope: Scope | None = None,
                     as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Every tracked entity added, retired or changed in force in the days (start, end], as recorded at ``as_of``
    (now when None), in the order it came into force; each step with the day it came into force and, where it
    was entered on another day, that day."""
    if start >= end:
        raise ValueError("the period ends before it starts")
    scope = scope or Scope()
    recorded, recorded_params = ("", []) if as_of is None else (" AND valid_from <= ?", [timestamp(as_of)])
    found: list[dict[str, Any]] = []
    for table, tracked in _tracked():
        revisions = store.query(f"SELECT id, version, valid_from, in_force_from FROM {table}"
                                f" WHERE in_force_from > ? AND in_force_from <= ?{recorded}"
                                " ORDER BY in_force_from, version",
                                [start.isoformat(), end.isoformat(), *recorded_params])
        if not revisions:
            continue
        ids = sorted({r["id"] for r in revisions})
        before, after = _in_force_on(store, table, ids, as_of, start), _in_force_on(store, table, ids, as_of, end)
        for steps, entry in _changed(store, tracked, revisions, before, after, scope, _in_force_step):
            found.append({**entry, "first_in_force_on": steps[0]["in_force_from"],
                          "last_in_force_on": steps[-1]["in_force_from"]})
    found.sort(key=lambda c: (c["last_in_force_on"], c["entity"], c["id"]))
    return found


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _label(tracked: Tracked, row: dict[str, Any]) -> str:
    try:
        return tracked.label.format(**row)
    except (KeyError, IndexError):
        return str(row.get("id"))


# -- GraphQL -----------------------------------------------------------------------------------------------------


@strawberry.enum(description="What happened to an entity in the period.")
class ChangeKind(Enum):
    ADDED = "added"
    RETIRED = "retired"
    CHANGED = "changed"


@strawberry.type(description="One change that made a row of the entity: when, who, under which decision.")
class ChangeStep:
    version: int
    type: str
    at: datetime
    by: Actor
    decision: Decision | None
    in_force_from: date | None = strawberry.field(
        default=None, description="The day it came into force (on the in-force axis: changesInForce).")
    entered_on: date | None = strawberry.field(
        default=None, description="The day it was entered, where that differs from the day it came into force.")


@strawberry.type(description="An entity added, retired or changed in the period, with its values before and after.")
class Change:
    entity: str
    id: strawberry.ID
    label: str
    kind: ChangeKind
    fields: list[str]
    before: JSON | None
    after: JSON
    district: str | None
    first_changed_at: datetime
    last_changed_at: datetime
    steps: list[ChangeStep]
    first_in_force_on: date | None = strawberry.field(
        default=None, description="On the in-force axis: the first day in the period a change came into force.")
    last_in_force_on: date | None = strawberry.field(
        default=None, description="On the in-force axis: the last day in the period a change came into force.")

    @strawberry.field(description="Everyone who changed it in the period.")
    def changed_by(self) -> list[Actor]:
        unique = {(s.by.user_id, s.by.organisation, s.by.role): s.by for s in self.steps}
        return list(unique.values())

    @strawberry.field(description="The decisions under which it changed in the period.")
    def decisions(self) -> list[Decision]:
        return [s.decision for s in self.steps if s.decision is not None]

    @staticmethod
    def from_dict(row: dict[str, Any]) -> Change:
        return Change(
            entity=row["entity"], id=strawberry.ID(row["id"]), label=row["label"], kind=ChangeKind(row["kind"]),
            fields=row["fields"], before=row["before"], after=row["after"], district=row["district"],
            first_changed_at=datetime.fromisoformat(row["first_changed_at"]),
            last_changed_at=datetime.fromisoformat(row["last_changed_at"]),
            steps=[ChangeStep(version=s["version"], type=s["type"], at=datetime.fromisoformat(s["time"]),
                              by=Actor(user_id=s["actor"], organisation=s["actor_organisation"],
                                       role=s["actor_role"]),
                              decision=decision_from(s["decision"]), in_force_from=_day(s.get("in_force_from")),
                              entered_on=_day(s.get("entered_on")))
                   for s in row["steps"]],
            first_in_force_on=_day(row.get("first_in_force_on")), last_in_force_on=_day(row.get("last_in_force_on")))


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


@strawberry.input(description="A committee's scope: some districts and/or theme groups (empty: the whole county).")
class ScopeInput:
    districts: list[str] | None = None
    theme_groups: list[str] | None = None

    def to_scope(self) -> Scope:
        return Scope(frozenset(self.districts or ()), frozenset(self.theme_groups or ()))


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Every entity added, retired or changed after `from` up to `to` (default now), "
                                  "with values before and after, who changed it and under which decision.")
    def changes(self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")],
                to: datetime | None = None, scope: ScopeInput | None = None, entity: str | None = None,
                first: FIRST = None, after: AFTER = None,
                last: LAST = None, before: BEFORE = None) -> Connection[Change]:
        start, end = _utc(from_), _utc(to or datetime.now(UTC))
        if start >= end:
            raise bad_input("the period ends before it starts: `to` must be after `from`", "to")
        rows = changes(read_model(info).store, start, end, scope.to_scope() if scope else None)
        if entity is not None:
            rows = [r for r in rows if r["entity"] == entity]
        return paginate(rows, lambda r: (r["last_changed_at"], r["entity"], r["id"]), Change.from_dict,
                        first, after, last, before)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The in-force axis: every entity added, retired or changed in force after the "
                                  "day `from` up to `to` (default today), whenever entered; as recorded at `asOf` "
                                  "(default now). Each step shows the day entered where it differs.")
    def changes_in_force(self, info: Info, from_: Annotated[date, strawberry.argument(name="from")],
                         to: date | None = None, as_of: datetime | None = None, scope: ScopeInput | None = None,
                         entity: str | None = None, first: FIRST = None,
                         after: AFTER = None, last: LAST = None, before: BEFORE = None) -> Connection[Change]:
        end = to or datetime.now(UTC).date()
        if from_ >= end:
            raise bad_input("the period ends before it starts: `to` must be after `from`", "to")
        rows = changes_in_force(read_model(info).store, from_, end, scope.to_scope() if scope else None,
                                None if as_of is None else _utc(as_of))
        if entity is not None:
            rows = [r for r in rows if r["entity"] == entity]
        return paginate(rows, lambda r: (r["last_in_force_on"], r["entity"], r["id"]), Change.from_dict, first,
                        after, last, before)
