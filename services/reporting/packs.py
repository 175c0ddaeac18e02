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
from services.reporting.coordination import queries as coordination_queries
from services.reporting.delivery import judging, rollup
from services.reporting.delivery import queries as delivery_queries
from services.reporting.pack_words import (
    Context,
    Namer,
    decision_key,
    decisions_in_words,
    field_words,
    label_words,
    long_date,
    quantity,
    sentence,
    value_words,
)
from services.reporting.provenance import Provenance
from services.reporting.readmodel import timestamp
from services.reporting.strategy import queries as strategy_queries
from services.reporting.temporal import at
from shared.measures import MeasureKind
from shared.partnership import PartnershipDefinition, RagThresholds, load, rules
from shared.performance import STALE, Figure, Performance, Thresholds, Trajectory, performance
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
    shortfall: Decimal | None = None  # percent behind the trajectory at the period's end (negative: ahead)
    last_reported_on: date | None = None  # the latest progress report up to the period's end
    stale: bool = False  # its latest report (or baseline) older than the reporting interval at the period's end
    forecast: Decimal | None = None  # the out-turn forecast at the deadline (shared.performance)
    forecast_method: str = ""
    profile: tuple[tuple[date, Decimal], ...] = ()  # expected values by date (the rollup's); empty: the line
    start: Decimal = Decimal(0)  # where the trajectory starts: 0 for a count's improvement, a ratio's baseline

    @property
    def status(self) -> str | None:
        """What the pack shows for it: ``stale`` rather than a colour from old data, else its RAG."""
        return STALE if self.stale else self.rag

    @property
    def forecast_meets(self) -> bool | None:
        """Whether the forecast out-turn reaches the goal by the deadline; None without a forecast."""
        return None if self.forecast is None else self.forecast >= self.goal

    def figure(self) -> Figure:
        """The series as ``shared.performance`` judges a figure: from its start (0 for a count's improvement) at the
        baseline date to the goal at the deadline, its points the values reported, so it is judged by the very
        function a project's RAG is."""
        return Figure(Trajectory(baseline_date=self.baseline_date, baseline_value=self.start,
                                 target_date=self.deadline, target_value=self.goal, profile=self.profile),
                      tuple(self.points))

    def trajectory_at(self, day: date) -> Decimal:
        if self.deadline <= self.baseline_date:
            return self.goal
        return self.figure().trajectory.expected_at(day).quantize(Decimal("0.1"))

    def shortfall_at(self, day: date) -> Decimal | None:
        if self.deadline <= self.baseline_date:
            return None
        return self.figure().shortfall_at(day)

    def judged(self, end: date, definition: PartnershipDefinition | None,
               since: date | None = None) -> Performance:
        """RAG, direction, forecast and staleness at ``end`` (``shared.performance``)."""
        return performance([self.figure()], end, thresholds(definition), since=since)

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
    over_allocated_by: Decimal | None = None  # as tasking recorded it (TargetOverAllocated), until cleared
    profiled: bool = False  # the target has a profile: judged against it, not the straight line
    kind: str = MeasureKind.COUNT.value  # what its unit implies (shared.measures): count, level or ratio
    parts: tuple[Decimal, Decimal] | None = None  # a ratio's county numerator and denominator, as the roll-up summed


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
    summary: dict[str, Any] = field(default_factory=dict)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    projects_in_scope: list[dict[str, Any]] = field(default_factory=list)


def thresholds(definition: PartnershipDefinition | None) -> Thresholds:
    """The definition's RAG thresholds (the defaults without one: direction of travel does not depend on them)."""
    rag = definition.rag if definition is not None else RagThresholds()
    return Thresholds(Decimal(str(rag.green_within_percent)), Decimal(str(rag.amber_within_percent)))


def _rag(series: Series, end: date, definition: PartnershipDefinition) -> str | None:
    """RAG at the period's end by the one rule (``shared.performance``, which a project's recorded RAG comes from
    too); none while nothing was due yet."""
    if series.shortfall_at(end) is None:
        return None
    return series.judged(end, definition).rag.value


def _direction(series: Series, previous: date, end: date,
               definition: PartnershipDefinition | None = None) -> str | None:
    """The direction of travel by the one rule (``shared.performance``): the shortfall at the period's end against
    the shortfall at the previous pack; none without a report, or with nothing due at the period's end."""
    if not series.points or series.shortfall_at(end) is None:
        return None
    if series.shortfall_at(previous) is None:  # nothing was due at the previous pack: anything delivered is better
        return IMPROVING if series.actual_at(end) > 0 else STEADY
    found = series.judged(end, definition, since=previous).direction
    return found.value if found is not None else None


def _performance(store: ReadStore, request: PackRequest, definition: PartnershipDefinition, namer: Namer
                 ) -> list[TargetPerformance]:
    as_of = request.reading_time()
    previous_day = request.start
    in_force = at(as_of, request.end)  # what the decisions dated by the period's end had put in force
    credits = rollup.credits_by_tasking(store, in_force, request.end)
    parts = rollup.parts_by_tasking(store, in_force, request.end)
    theme_of = {t["id"]: t["theme_group"] for t in coordination_queries.taskings(store, as_of, in_force_on=request.end)}
    result = []
    judged_by_graphql = rollup.performances(store, in_force, request.end, thresholds(definition))
    for target in rollup.rollups(store, in_force):
        if target["status"] == "retired":
            continue
        terms = strategy_queries.target(store, target["target_id"], as_of)
        baseline_date = date.fromisoformat(terms["baseline_date"]) if terms else request.start
        deadline = date.fromisoformat(target["deadline"])
        shares, share_ids = [], []
        trajectory = rollup.target_trajectory(target)
        summed = target["kind"] != "level"  # a level's profile is of levels, not of the improvement counted here
        ratio = target["kind"] == MeasureKind.RATIO.value  # rolled up from its parts, from its baseline
        start = Decimal(target["baseline_value"]) if ratio else Decimal(0)
        for share in target["shares"]:
            if not share["counts_against_target"]:  # as tasking's events said
                continue
            in_scope = request.scope.county or share["district"] in request.scope.districts or \
                theme_of.get(share["tasking_id"]) in request.scope.theme_groups
            if not in_scope:
                continue
            points = credits.get(share["tasking_id"], [])
            # The districts of the period's end: a share of one retired by then says so, by its last name.
            series = Series(label=namer.district_listed(share["district"], request.end), unit=target["unit"],
                            baseline_date=baseline_date, deadline=date.fromisoformat(share["deadline"]),
                            goal=Decimal(share["share"]), points=points, actual=Decimal(0), expected=Decimal(0),
                            rag=None, direction=None, district=share["district"], start=start,
                            profile=rollup.share_figure(share, baseline_date, [], start,
                                                        trajectory if summed else None).trajectory.profile)
            shares.append(series)
            share_ids.append(share["tasking_id"])
        if not shares and not request.scope.county:
            continue
        days = sorted({d for s in shares for d, _ in s.points})
        total_points = [(d, sum((s.actual_at(d) for s in shares), Decimal(0))) for d in days]
        if ratio:  # the scope's numerators summed over its denominators summed, never a sum of ratios
            total_points = list(rollup.ratio_target_figure(target, [parts.get(i, []) for i in share_ids]).reports)
        if request.scope.county or ratio:  # a ratio's district shares are each its own ratio: never summed
            goal = Decimal(target["target_value"])
        else:  # the scope's part of the target: its shares, by the latest of their deadlines
            goal = sum((s.goal for s in shares), Decimal(0))
            deadline = max(s.deadline for s in shares)
        total = Series(label=target["metric"], unit=target["unit"], baseline_date=baseline_date, deadline=deadline,
                       goal=goal, points=total_points, actual=Decimal(0), expected=Decimal(0), rag=None,
                       direction=None, profile=trajectory.profile if request.scope.county and summed else (),
                       start=start)
        for series in (total, *shares):
            series.actual = series.actual_at(request.end)
            series.expected = series.trajectory_at(request.end)
            series.rag = _rag(series, request.end, definition)
            series.direction = _direction(series, previous_day, request.end, definition)
            series.shortfall = series.shortfall_at(request.end)
            if series.deadline > series.baseline_date:  # the scope's own total: judged here by the same function
                _judged_as(series, series.judged(request.end, definition))
        # The county's total and each district share: judged by the very call GraphQL's performance(on) makes.
        graphql = judged_by_graphql.get(target["target_id"], {})
        if request.scope.county and graphql.get("total") is not None:  # none for a level: never combined
            _judged_as(total, graphql["total"])
        for series, share_id in zip(shares, share_ids, strict=True):
            if share_id in graphql.get("shares", {}):
                _judged_as(series, graphql["shares"][share_id])
            reported = [d for d, _ in series.points if d <= request.end]
            series.last_reported_on = max(reported) if reported else None
        result.append(TargetPerformance(target_id=target["target_id"], metric=target["metric"], total=total,
                                        shares=shares, over_allocated_by=target["over_allocated_by"],
                                        profiled=bool(target["profile"]), kind=target["kind"],
                                        parts=(target["numerator"], target["denominator"])
                                        if request.scope.county and target.get("denominator") is not None else None))
    return result


def _judged_as(series: Series, judged: Performance) -> None:
    """The series' RAG, direction, staleness and forecast as ``shared.performance`` judged it."""
    series.rag = judged.rag.value
    series.direction = judged.direction.value if judged.direction is not None else None
    series.stale = judged.stale
    found = judged.forecast
    if found is not None:
        series.forecast, series.forecast_method = found.value, found.method.value


def _in_scope_body(scope: Scope, body: str | None) -> bool:
    return scope.county or body in scope.districts or body in scope.theme_groups


def _context(store: ReadStore, as_of: datetime, end: date) -> Context:
    """In force at the period's end, as recorded by ``as_of``."""
    targets = {t["target_id"]: t for t in rollup.rollups(store, at(as_of, end), with_projects=False)}
    taskings = {t["id"]: t for t in coordination_queries.taskings(store, as_of, in_force_on=end)}
    projects = {p["id"]: p for p in delivery_queries.projects(store, at(as_of, end))}

    def tasking_at(tasking_id: str, time: str) -> dict[str, Any] | None:
        return coordination_queries.tasking(store, tasking_id, datetime.fromisoformat(time))

    return Context(targets=targets, taskings=taskings, projects=projects, tasking_at=tasking_at)


def _decision_rows(store: ReadStore, request: PackRequest, provenance: Provenance) -> list[dict[str, Any]]:
    """The event log's rows of the period's decisions that resolve (a recorded quorate meeting of a body, or a scheme
    of delegation): one that does not is the audit's to name (``partnership audit decisions``), not the pack's."""
    rows = store.query("SELECT subject, version, type, time, actor_organisation, actor_role, decision, data"
                       " FROM event_log WHERE decision IS NOT NULL AND time <= ? ORDER BY time, subject, version",
                       [timestamp(request.reading_time())])
    found, in_scope = [], set()
    for row in rows:
        decision = json.loads(row["decision"])
        if not request.start.isoformat() <= decision["decided_on"] <= request.end.isoformat():
            continue
        if not provenance.resolves(decision):
            continue
        data = json.loads(row["data"])
        concerns = {data.get("district"), data.get("previous_district")} & request.scope.districts
        if _in_scope_body(request.scope, decision["body"]) or concerns:  # a decision in scope, all its events
            in_scope.add(decision_key(decision))
        found.append(row)
    return [row for row in found if decision_key(row["decision"]) in in_scope]


def _retaskings(store: ReadStore, request: PackRequest, provenance: Provenance, namer: Namer) -> list[dict[str, Any]]:
    as_of = request.reading_time()
    seen: set[str] = set()
    found = []
    for tasking_id in coordination_queries.retasked_taskings(store, as_of):
        chain = coordination_queries.retasking_chain(store, tasking_id, provenance, as_of)
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
            before = " + ".join(f"{namer.district(a['district'])} {quantity(a['share'])}" for a in step["before"])
            after = " + ".join(f"{namer.district(a['district'])} {quantity(a['share'])}" for a in step["after"])
            found.append({**sentence(decision, f"retasked {before} as {after}", namer, provenance, recorded_by=""),
                          "summary": f"{before} \u2192 {after}"})
    found.sort(key=lambda r: r["decided_on"])
    return found


def _moved_since(reports: list[dict[str, Any]], since: str) -> str:
    """Whether the status moved since an intervention decided on ``since``: the latest report before it against
    the latest after it, in words."""
    before = [r for r in reports if r["reported_on"] <= since]
    after = [r for r in reports if r["reported_on"] > since]
    if not after:
        return (f"No progress report since the intervention ({long_date(since)}): not yet known whether it "
                "has worked.")
    last = after[-1]
    if not before:
        return f"First reported after the intervention: {last['rag']} on {long_date(last['reported_on'])}."
    first = before[-1]
    change = Decimal(first["shortfall_percent"]) - Decimal(last["shortfall_percent"])
    moved = "closed" if change > 0 else "widened" if change < 0 else "held"
    return (f"Since the intervention the status went from {first['rag']} ({long_date(first['reported_on'])}) to "
            f"{last['rag']} ({long_date(last['reported_on'])}); the gap to the trajectory {moved}"
            + (f" by {quantity(abs(change).quantize(Decimal('0.1')))} points." if change else "."))


def _red_projects(store: ReadStore, request: PackRequest, provenance: Provenance,
                  namer: Namer) -> list[dict[str, Any]]:
    """Open projects that are red or worsening (as projects recorded them), with their latest narrative, their
    interventions (what, decided by whom and when) and whether the status moved since."""
    as_of = request.reading_time()
    found = []
    for project in delivery_queries.projects(store, at(as_of, request.end)):
        if project["status"] != "open" or not (project["rag"] == "red" or project["direction"] == WORSENING):
            continue
        if not (request.scope.county or project["district"] in request.scope.districts):
            continue
        reports = [r for r in delivery_queries.progress_series(store, project["id"], as_of)
                   if r["reported_on"] <= request.end.isoformat()]
        interventions = []
        for row in delivery_queries.interventions(store, as_of, project_id=project["id"]):
            decision = json.loads(row["decision"]) if row["decision"] else {}
            decided = decision.get("decided_on") or row["recorded_at"][:10]
            said = sentence(decision, "decided it", namer, provenance, recorded_by=namer.person(
                row["actor_organisation"], "programme manager")) if decision else None
            interventions.append({
                "kind": row["kind"].replace("_", " "), "description": row["description"], "decided_on": decided,
                "by": said["body"] if said else namer.organisation(row["actor_organisation"]),
                "meeting": said["meeting"] if said else "no meeting recorded",
                "reference": said["reference"] if said else "none given",
                "reason": decision.get("reason") or "none given",
                "due": f"due by {long_date(row['due_on'])}" if row.get("due_on") else
                       "no due date was recorded with the intervention",
                "owner": namer.organisation(row["owner"]) if row.get("owner") else None,
                "moved": _moved_since(reports, decided)})
        latest = reports[-1] if reports else None
        found.append({"id": project["id"], "title": project["title"], "district": namer.district(project["district"]),
                      "lead_partner": namer.organisation(project["lead_partner"]),
                      "rag": project["rag"], "shortfall_percent": project["shortfall_percent"],
                      "direction": project["direction"], "last_reported_on": project["last_reported_on"],
                      "narrative": latest["narrative"] if latest else "no progress report yet",
                      "rag_override_reason": project["rag_override_reason"], "interventions": interventions})
    return found


def _project_status(store: ReadStore, row: dict[str, Any], request: PackRequest,
                    in_force: PartnershipDefinition) -> dict[str, Any]:
    """A project at the period's end as GraphQL's ``performance(on)`` gives it: the RAG and direction its reports
    recorded, stale when its latest report is older than the interval; None before any report."""
    judged = judging.project_performance(store, row, at(request.reading_time(), request.end), request.end,
                                         thresholds(in_force))
    if judged is None:
        return {"rag": None, "direction": None}
    return {"rag": judged.status, "direction": judged.direction.value if judged.direction else None}


def _overdue_actions(store: ReadStore, request: PackRequest, namer: Namer) -> list[dict[str, Any]]:
    rows = coordination_queries.agreed_actions(store, request.reading_time(), overdue_on=request.end)
    return [{"due_on": r["due_on"], "body": namer.body(r["body"]), "owner": namer.organisation(r["owner"]),
             "description": r["description"], "days_overdue": (request.end - date.fromisoformat(r["due_on"])).days}
            for r in rows if _in_scope_body(request.scope, r["body"])]


def _overdue_milestones(store: ReadStore, request: PackRequest, namer: Namer) -> list[dict[str, Any]]:
    rows = delivery_queries.overdue_milestones(store, request.end, request.reading_time())
    return [{"due_on": r["due_on"], "project": r["project_title"], "district": namer.district(r["district"]),
             "lead_partner": namer.organisation(r["lead_partner"]), "milestone": r["title"],
             "days_overdue": (request.end - date.fromisoformat(r["due_on"])).days}
            for r in rows if request.scope.county or r["district"] in request.scope.districts]


def _changes_in_words(changed: list[dict[str, Any]], namer: Namer, provenance: Provenance) -> list[dict[str, Any]]:
    """What changed since the previous pack, each change with its before and after values in words, who changed it
    (by role and organisation) and the decision it was made under, dated by that decision where it has one."""
    found = []
    for change in changed:
        fields = change["fields"] if change["before"] else []
        decisions = []
        for step in change["steps"]:
            if step.get("decision"):
                raw = json.loads(step["decision"]) if isinstance(step["decision"], str) else step["decision"]
                decisions.append(sentence(raw, "decided it", namer, provenance, recorded_by=namer.person(
                    step["actor_organisation"], step["actor_role"])))
        decided = max((d["decided_on"] for d in decisions if d["decided_on"]), default="")
        found.append({
            "decided_on": decided, "recorded_on": change["last_changed_at"][:10],
            "entity": change["entity"], "label": label_words(namer, change["entity"], change["label"]),
            "kind": change["kind"],
            "fields": [field_words(f) for f in fields],
            "before": "; ".join(f"{field_words(k)}: {value_words(namer, k, change['before'].get(k))}"
                                for k in fields) if fields else "",
            "after": "; ".join(f"{field_words(k)}: {value_words(namer, k, change['after'].get(k))}"
                               for k in fields) if fields else "",
            "changed_by": ", ".join(sorted({namer.person(s["actor_organisation"], s["actor_role"])
                                            for s in change["steps"]})),
            "decisions": [f"{d['body']}, {d['meeting']} (minute {d['reference']}): {d['reason']}"
                          for d in decisions]})
    return found


def scope_label(scope: Scope, definition: PartnershipDefinition, namer: Namer) -> str:
    if scope.county:
        return f"the whole county ({definition.name})"
    return ", ".join([namer.district(d) for d in sorted(scope.districts)]
                     + [namer.body(g) for g in sorted(scope.theme_groups)])


RAGS = ("green", "amber", "red", STALE)
FORECASTS = ("forecast to meet", "forecast short", "no forecast")


def _counts(items: list[tuple[str | None, str | None, bool | None]]) -> dict[str, int]:
    """How many green / amber / red / stale / not yet due; improving / steady / worsening / no direction yet; forecast
    to meet their goal or short of it."""
    found = {rag: 0 for rag in (*RAGS, "not yet due")}
    found.update({d: 0 for d in (IMPROVING, STEADY, WORSENING, "no direction yet")})
    found.update({f: 0 for f in FORECASTS})
    for status, direction, meets in items:
        found[status if status in RAGS else "not yet due"] += 1
        found[direction if direction in (IMPROVING, STEADY, WORSENING) else "no direction yet"] += 1
        found[FORECASTS[2] if meets is None else FORECASTS[0] if meets else FORECASTS[1]] += 1
    return found


def _summary(pack: ScrutinyPack) -> dict[str, Any]:
    """The pack's first page: how many targets, district shares and open projects are green, amber, red or stale
    and which way they are going, and how many targets and shares are forecast to meet their goal, each as
    GraphQL's ``performance(on)`` says it at the period's end (the same calls: ``rollup.performances``,
    ``judging.project_performance``; a scope's own total by the same ``shared.performance``)."""
    totals = [(p.total.status, p.total.direction, p.total.forecast_meets) for p in pack.performance]
    shares = [(s.status, s.direction, s.forecast_meets) for p in pack.performance for s in p.shares]
    projects = _counts([(p["rag"], p["direction"], None) for p in pack.projects_in_scope])
    for key in FORECASTS:  # a project forecasts per outcome: in its own pages, not counted here
        projects.pop(key)
    return {"targets": _counts(totals), "shares": _counts(shares), "projects": projects,
            "exceptions": len(pack.exceptions)}


def _exceptions(pack: ScrutinyPack) -> list[dict[str, Any]]:
    """Red, worsening or stale: each target total, district share and project, with one line."""
    found: list[dict[str, Any]] = []
    for perf in pack.performance:
        for series in (perf.total, *perf.shares):
            if series.rag != "red" and series.direction != WORSENING and not series.stale:
                continue
            who = f"{series.label}'s share of {perf.metric}" if series.district else \
                f"{perf.metric} ({'the county' if pack.request.scope.county else 'the scope'})"
            reported = f"latest report {long_date(series.last_reported_on)}" if series.last_reported_on else \
                "no progress report yet"
            found.append({"kind": "share" if series.district else "target", "name": who, "rag": series.status,
                          "direction": series.direction or "no direction yet",
                          "line": f"{quantity(series.actual)} of {quantity(series.expected)} {series.unit} due by "
                                  f"{long_date(pack.request.end)} (goal {quantity(series.goal)} by "
                                  f"{long_date(series.deadline)}); {reported}"
                                  + (f"; forecast {quantity(series.forecast)} by the deadline "
                                     f"({series.forecast_method})." if series.forecast is not None else ".")})
    for project in pack.red_projects:
        found.append({"kind": "project", "name": project["title"], "rag": project["rag"],
                      "direction": project["direction"] or "no direction yet",
                      "line": f"{project['district']}, led by {project['lead_partner']}: "
                              f"{quantity(project['shortfall_percent'])}% behind its trajectory at the latest report "
                              f"({long_date(project['last_reported_on'])}): \u201c{project['narrative']}\u201d",
                      "project": project})
    return found


def build_pack(store: ReadStore, request: PackRequest) -> ScrutinyPack:
    """Everything the pack shows, read from the read models as of ``request.as_of``."""
    if request.start > request.end:
        raise ValueError("the period ends before it starts")
    definition = load(store.settings.partnership_file)  # the deployment's, as the services read it
    provenance = Provenance(store, rules(store.settings.partnership_file), definition)
    namer = Namer(provenance)
    as_of = request.reading_time()
    # A first pack (no previous one) has nothing "changed since": every record would read as added.
    changed = changes.changes(store, request.previous, as_of, request.scope) \
        if request.previous is not None and request.previous < as_of else []
    context = _context(store, as_of, request.end)
    # The rules in force at the period's end, as recorded when the pack reads: the RAG thresholds it judges by.
    in_force = judging.in_force_on(provenance.meetings, definition, request.end, at(as_of, request.end))
    pack = ScrutinyPack(
        request=request, partnership=definition.name, scope_label=scope_label(request.scope, definition, namer),
        produced_at=as_of, performance=_performance(store, request, in_force, namer),
        changes=_changes_in_words(changed, namer, provenance),
        decisions=decisions_in_words(_decision_rows(store, request, provenance), namer, provenance, context),
        retaskings=_retaskings(store, request, provenance, namer),
        red_projects=_red_projects(store, request, provenance, namer),
        overdue_actions=_overdue_actions(store, request, namer),
        overdue_milestones=_overdue_milestones(store, request, namer))
    pack.projects_in_scope = [  # what the summary counts, no more (a row names its manager: personal data)
        {**{k: p[k] for k in ("id", "title", "district", "status")}, **_project_status(store, p, request, in_force)}
        for p in context.projects.values()
        if p["status"] == "open" and (request.scope.county or p["district"] in request.scope.districts)]
    if not pack.performance:
        pack.notes.append("No target has a district share in this scope yet.")
    if request.previous is None:
        pack.notes.append("This is the committee's first pack: what changed is listed from its next pack on.")
    pack.exceptions = _exceptions(pack)
    pack.summary = _summary(pack)
    return pack
