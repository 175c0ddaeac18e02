"""Scrutiny packs: what a scrutiny committee reads for its scope (the county, or some districts / theme groups) and a
period: performance against target (actual against the trajectory, per target and per district, with the direction
of travel), what changed since the previous pack, the decisions and retaskings of the period with their reasons,
red projects with their corrective interventions, and overdue actions and milestones.

Two clocks: the period is in the partnership's business dates (when decisions were taken, progress was reported,
actions were due); ``as_of`` is the recording time the pack reads the records at (default now), so a pack can be
produced again exactly as the committee saw it. ``previous`` is the recording time of the previous pack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from services.reporting import changes
from services.reporting.changes import Scope
from services.reporting.coordination import chains
from services.reporting.coordination import queries as coordination_queries
from services.reporting.delivery import queries as delivery_queries
from services.reporting.delivery import rollup
from services.reporting.provenance import Provenance
from services.reporting.readmodel import timestamp
from services.reporting.strategy import queries as strategy_queries
from shared.partnership import PartnershipDefinition, load, rules
from shared.readstore import ReadStore

IMPROVING, WORSENING, STEADY = "improving", "worsening", "steady"


@dataclass(frozen=True)
class PackRequest:
    """Which committee, which scope and which period."""

    committee: str
    start: date
    end: date
    scope: Scope = field(default_factory=Scope)
    as_of: datetime | None = None
    previous: datetime | None = None

    def reading_time(self) -> datetime:
        return self.as_of or datetime.now(UTC)

    def previous_time(self) -> datetime:
        return self.previous or datetime.combine(self.start, time.min, tzinfo=UTC)


@dataclass
class Series:
    """Actual against trajectory for one target or one district's share of it."""

    label: str
    unit: str
    baseline_date: date
    deadline: date
    goal: Decimal
    points: list[tuple[date, Decimal]]  # actual after each progress report, by business date
    actual: Decimal
    expected: Decimal  # where the trajectory says it should be at the end of the period
    rag: str | None
    direction: str | None
    district: str | None = None

    def trajectory_at(self, day: date) -> Decimal:
        span = (self.deadline - self.baseline_date).days
        if span <= 0 or day >= self.deadline:
            return self.goal
        if day <= self.baseline_date:
            return Decimal(0)
        return (self.goal * Decimal((day - self.baseline_date).days) / Decimal(span)).quantize(Decimal("0.1"))

    def actual_at(self, day: date) -> Decimal:
        value = Decimal(0)
        for when, amount in self.points:
            if when <= day:
                value = amount
        return value


@dataclass
class TargetPerformance:
    target_id: str
    metric: str
    total: Series
    shares: list[Series]


@dataclass
class ScrutinyPack:
    request: PackRequest
    partnership: str
    scope_label: str
    produced_at: datetime
    performance: list[TargetPerformance]
    changes: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    retaskings: list[dict[str, Any]]
    red_projects: list[dict[str, Any]]
    overdue_actions: list[dict[str, Any]]
    overdue_milestones: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def _rag(actual: Decimal, expected: Decimal, definition: PartnershipDefinition) -> str | None:
    if expected <= 0:
        return None
    shortfall = float((expected - actual) / expected * 100)
    if shortfall <= definition.rag.green_within_percent:
        return "green"
    return "amber" if shortfall <= definition.rag.amber_within_percent else "red"


def _direction(series: Series, previous: date, end: date) -> str | None:
    """Better or worse against the trajectory than at the previous pack."""
    if not series.points:
        return None
    was_expected, now_expected = series.trajectory_at(previous), series.trajectory_at(end)
    if now_expected <= 0:
        return None
    now = series.actual_at(end) / now_expected
    if was_expected <= 0:
        return IMPROVING if series.actual_at(end) > 0 else STEADY
    before = series.actual_at(previous) / was_expected
    if now - before > Decimal("0.02"):
        return IMPROVING
    return WORSENING if before - now > Decimal("0.02") else STEADY


def _performance(store: ReadStore, request: PackRequest, definition: PartnershipDefinition
                 ) -> list[TargetPerformance]:
    as_of = request.reading_time()
    previous_day = request.start
    credits = rollup.credits_by_tasking(store, as_of, request.end)
    theme_of = {t["id"]: t["theme_group"] for t in coordination_queries.taskings(store, as_of)}
    result = []
    for target in rollup.rollups(store, as_of):
        if target["status"] == "retired":
            continue
        terms = strategy_queries.target(store, target["target_id"], as_of)
        baseline_date = date.fromisoformat(terms["baseline_date"]) if terms else request.start
        deadline = date.fromisoformat(target["deadline"])
        shares = []
        for share in target["shares"]:
            if not share["counts_against_target"]:  # as tasking's events said
                continue
            in_scope = request.scope.county or share["district"] in request.scope.districts or \
                theme_of.get(share["tasking_id"]) in request.scope.theme_groups
            if not in_scope:
                continue
            points = credits.get(share["tasking_id"], [])
            series = Series(label=chains.district_name(definition, share["district"]), unit=target["unit"],
                            baseline_date=baseline_date, deadline=date.fromisoformat(share["deadline"]),
                            goal=Decimal(share["share"]), points=points, actual=Decimal(0), expected=Decimal(0),
                            rag=None, direction=None, district=share["district"])
            shares.append(series)
        if not shares and not request.scope.county:
            continue
        days = sorted({d for s in shares for d, _ in s.points})
        total_points = [(d, sum((s.actual_at(d) for s in shares), Decimal(0))) for d in days]
        if request.scope.county:
            goal = Decimal(target["target_value"])
        else:  # the scope's part of the target: its shares, by the latest of their deadlines
            goal = sum((s.goal for s in shares), Decimal(0))
            deadline = max(s.deadline for s in shares)
        total = Series(label=target["metric"], unit=target["unit"], baseline_date=baseline_date, deadline=deadline,
                       goal=goal, points=total_points, actual=Decimal(0), expected=Decimal(0), rag=None,
                       direction=None)
        for series in (total, *shares):
            series.actual = series.actual_at(request.end)
            series.expected = series.trajectory_at(request.end)
            series.rag = _rag(series.actual, series.expected, definition)
            series.direction = _direction(series, previous_day, request.end)
        result.append(TargetPerformance(target_id=target["target_id"], metric=target["metric"], total=total,
                                        shares=shares))
    return result


def _in_scope_body(scope: Scope, body: str | None) -> bool:
    return scope.county or body in scope.districts or body in scope.theme_groups


def _meeting_text(provenance: Provenance, raw: dict[str, Any]) -> str:
    """Where it was decided: the meeting by its title and date, or the scheme of delegation by its name."""
    meeting = provenance.meeting(raw)
    if meeting is not None:
        return f"{meeting.title}, {meeting.held_on.isoformat()}"
    scheme = provenance.scheme_name(raw.get("delegation"))
    return f"under the scheme of delegation '{scheme}'" if scheme else ""


def _decisions(store: ReadStore, request: PackRequest, provenance: Provenance) -> list[dict[str, Any]]:
    """The period's decisions that resolve (a recorded quorate meeting of a body, or a scheme of delegation):
    one that does not is the audit's to name (``partnership audit decisions``), not the pack's to show."""
    rows = store.query("SELECT subject, version, type, time, actor_organisation, actor_role, decision FROM event_log"
                       " WHERE decision IS NOT NULL AND time <= ? ORDER BY time, subject, version",
                       [timestamp(request.reading_time())])
    found = []
    for row in rows:
        decision = json.loads(row["decision"])
        if not request.start.isoformat() <= decision["decided_on"] <= request.end.isoformat():
            continue
        if not _in_scope_body(request.scope, decision["body"]) or not provenance.resolves(decision):
            continue
        found.append({"decided_on": decision["decided_on"], "body": provenance.body_name(decision["body"]),
                      "meeting": _meeting_text(provenance, decision),
                      "what": row["type"].split(".")[1] if row["type"].count(".") >= 2 else row["type"],
                      "reason": decision["reason"], "reference": decision.get("reference") or "",
                      "recorded_by": f"{provenance.organisation_name(row['actor_organisation'])} "
                                     f"({row['actor_role']})",
                      "aggregate_id": row["subject"]})
    found.sort(key=lambda d: (d["decided_on"], d["body"]))
    return found


def _retaskings(store: ReadStore, request: PackRequest, definition: PartnershipDefinition,
                provenance: Provenance) -> list[dict[str, Any]]:
    as_of = request.reading_time()
    seen: set[str] = set()
    found = []
    for tasking_id in coordination_queries.retasked_taskings(store, as_of):
        chain = coordination_queries.retasking_chain(store, tasking_id, definition, as_of)
        for step in chain["steps"]:
            districts = {a["district"] for a in step["before"] + step["after"]}
            day = step["decided_on"] or ""
            if step["summary"] in seen or not request.start.isoformat() <= day <= request.end.isoformat():
                continue
            if not (request.scope.county or districts & request.scope.districts):
                continue
            decision = json.loads(step["decision"]) if step["decision"] else {}
            if not decision or not provenance.resolves(decision):
                continue
            seen.add(step["summary"])
            found.append({"decided_on": day, "summary": step["summary"], "reason": decision.get("reason", ""),
                          "body": provenance.body_name(decision.get("body", "")),
                          "meeting": _meeting_text(provenance, decision),
                          "reference": decision.get("reference") or ""})
    found.sort(key=lambda r: r["decided_on"])
    return found


def _red_projects(store: ReadStore, request: PackRequest, provenance: Provenance) -> list[dict[str, Any]]:
    as_of = request.reading_time()
    found = []
    for project in delivery_queries.projects(store, as_of):
        if project["rag"] != "red" or project["status"] != "open":
            continue
        if not (request.scope.county or project["district"] in request.scope.districts):
            continue
        interventions = []
        for row in delivery_queries.interventions(store, as_of, project_id=project["id"]):
            decision = json.loads(row["decision"]) if row["decision"] else {}
            interventions.append({"kind": row["kind"], "description": row["description"],
                                  "decided_on": decision.get("decided_on", ""),
                                  "body": provenance.body_name(decision.get("body", "")),
                                  "reason": decision.get("reason", "")})
        found.append({"id": project["id"], "title": project["title"], "district": project["district"],
                      "lead_partner": project["lead_partner"], "shortfall_percent": project["shortfall_percent"],
                      "direction": project["direction"], "last_reported_on": project["last_reported_on"],
                      "rag_override_reason": project["rag_override_reason"], "interventions": interventions})
    return found


def _overdue_actions(store: ReadStore, request: PackRequest) -> list[dict[str, Any]]:
    rows = coordination_queries.agreed_actions(store, request.reading_time(), overdue_on=request.end)
    return [{"due_on": r["due_on"], "body": r["body"], "owner": r["owner"], "description": r["description"],
             "days_overdue": (request.end - date.fromisoformat(r["due_on"])).days}
            for r in rows if _in_scope_body(request.scope, r["body"])]


def _overdue_milestones(store: ReadStore, request: PackRequest) -> list[dict[str, Any]]:
    rows = delivery_queries.overdue_milestones(store, request.end, request.reading_time())
    return [{"due_on": r["due_on"], "project": r["project_title"], "district": r["district"],
             "lead_partner": r["lead_partner"], "milestone": r["title"],
             "days_overdue": (request.end - date.fromisoformat(r["due_on"])).days}
            for r in rows if request.scope.county or r["district"] in request.scope.districts]


def scope_label(scope: Scope, definition: PartnershipDefinition) -> str:
    if scope.county:
        return f"the whole county ({definition.name})"
    parts = [chains.district_name(definition, d) for d in sorted(scope.districts)]
    parts += [(b.name if (b := definition.body(g)) else g) for g in sorted(scope.theme_groups)]
    return ", ".join(parts)


def build_pack(store: ReadStore, request: PackRequest) -> ScrutinyPack:
    """Everything the pack shows, read from the read models as of ``request.as_of``."""
    if request.start > request.end:
        raise ValueError("the period ends before it starts")
    definition = load(store.settings.partnership_file)  # the deployment's, as the services read it
    provenance = Provenance(store, rules(store.settings.partnership_file), definition)
    as_of = request.reading_time()
    previous = request.previous_time()
    changed = changes.changes(store, previous, as_of, request.scope) if previous < as_of else []
    for change in changed:  # a change's decisions as the pack reads them: the body by its name
        for step in change["steps"]:
            if step.get("decision"):
                raw = json.loads(step["decision"]) if isinstance(step["decision"], str) else step["decision"]
                step["decision"] = {**raw, "body": provenance.body_name(raw.get("body", ""))}
    pack = ScrutinyPack(
        request=request, partnership=definition.name, scope_label=scope_label(request.scope, definition),
        produced_at=as_of, performance=_performance(store, request, definition), changes=changed,
        decisions=_decisions(store, request, provenance),
        retaskings=_retaskings(store, request, definition, provenance),
        red_projects=_red_projects(store, request, provenance), overdue_actions=_overdue_actions(store, request),
        overdue_milestones=_overdue_milestones(store, request))
    if not pack.performance:
        pack.notes.append("No target has a district share in this scope yet.")
    return pack
