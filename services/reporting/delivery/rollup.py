"""The roll-up: actual against target, from projects to district shares to the county target. Each outcome credits
``weight x (actual - baseline)`` to its tasking while its contribution counts; a tasking's actual is the sum of its
credits, a target's actual the sum over its live taskings."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from services.reporting.delivery import queries
from services.reporting.delivery.tables import ALLOCATIONS, OUTCOMES, PROJECTS, TARGETS, TASKINGS
from services.reporting.temporal import When
from shared.measures import MeasureKind, kind_of
from shared.performance import (
    Figure,
    Performance,
    ReportingInterval,
    Thresholds,
    Trajectory,
    borrowed_profile,
    interval_at,
    performance,
)
from shared.readstore import ReadStore, Tx


def credit(outcome: dict[str, Any], actual: Decimal | None = None) -> Decimal:
    """What an outcome credits to its tasking: weight x (actual - baseline), nothing while not counting or before any
    actual. ``actual``: the value to credit instead of the outcome's own (a report's, for a series over time)."""
    value = actual if actual is not None else outcome["actual"]
    if not outcome["counting"] or value is None:
        return Decimal(0)
    return Decimal(outcome["weight"]) * (Decimal(value) - Decimal(outcome["baseline_value"]))


def rollups(store: ReadStore, as_of: When = None, target_id: str | None = None, *,
            with_projects: bool = True, sector: str | None = None) -> list[dict[str, Any]]:
    """Actual against target: projects -> district shares (taskings) -> county target.

    ``sector`` (a UK SIC 2007 section): the shares tasked in that sector only, and each target's tasked and actual
    summed over them (a target with none is left out).

    ``with_projects=False`` leaves each share's ``projects`` empty and reads no project rows: an outcome's project
    exists whenever the outcome does (both come from the project's opening and rows are never removed), so the
    actuals are the same."""
    with store.transaction(commit=False) as tx:  # its four queries in one transaction: fewer round trips
        found = _rollups(tx, as_of, target_id, with_projects, store.postgres)
    return found if sector is None else [_in_sector(t, sector) for t in found
                                         if any(s["sector"] == sector for s in t["shares"])]


def _in_sector(target: dict[str, Any], sector: str) -> dict[str, Any]:
    shares = [s for s in target["shares"] if s["sector"] == sector]
    live = [s for s in shares if s["counts_against_target"]]
    if target["actual"] is None:  # a level: never combined
        return {**target, "shares": shares}
    actual = sum((s["actual"] for s in live), Decimal(0))
    return {**target, "shares": shares, "tasked": sum((s["share"] for s in live), Decimal(0)), "actual": actual,
            "percent_of_target": _percent(actual, Decimal(target["target_value"]))}


def _rollups(store: Tx, as_of: When, target_id: str | None,
             with_projects: bool, postgres: bool) -> list[dict[str, Any]]:
    query, values = queries.as_of_rows(TARGETS.name, as_of, entities=" AND e.id = ?" if target_id else "",
                           entity_params=[target_id] if target_id else [], postgres=postgres)
    target_rows = store.query(f"{query} ORDER BY r.id", values)
    if not target_rows:
        return []
    wanted = ", ".join("?" for _ in target_rows)
    query, values = queries.as_of_rows(TASKINGS.name, as_of, f" AND r.target_id IN ({wanted})",
                           [t["id"] for t in target_rows], postgres=postgres)
    tasking_rows = store.query(f"{query} ORDER BY r.district, r.id", values)
    query, values = queries.as_of_rows(ALLOCATIONS.name, as_of, f" AND r.id IN ({wanted})",
                                       [t["id"] for t in target_rows], postgres=postgres)
    over_by = {a["id"]: Decimal(a["over_by"]) for a in store.query(query, values) if a["over_by"] is not None}
    project_rows: dict[str, dict[str, Any]] = {}
    if with_projects:
        query, values = queries.as_of_rows(PROJECTS.name, as_of, postgres=postgres,
                               columns="r.id, r.title, r.rag, r.status, r.lead_partner, r.district, r.opened_at")
        # Ordered here rather than by the database: the same order on any collation, and cheaper.
        found = sorted(store.query(query, values), key=lambda p: (p["district"], p["opened_at"], p["id"]))
        project_rows = {p["id"]: p for p in found}
    rank = {project_id: n for n, project_id in enumerate(project_rows)}  # a share's projects in opening order
    query, values = queries.as_of_rows(OUTCOMES.name, as_of, columns="r.project_id, r.tasking_id, r.counting, r.actual,"
                           " r.weight, r.baseline_value", postgres=postgres)
    outcome_rows = store.query(query, values)
    by_tasking: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for outcome in outcome_rows:
        by_tasking[outcome["tasking_id"]].append(outcome)
    shares_by_target: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tasking in tasking_rows:
        contributions: dict[str, dict[str, Any]] = {}
        for outcome in by_tasking.get(tasking["id"], []):
            if not outcome["counting"]:
                continue
            entry = contributions.get(outcome["project_id"])
            if entry is None:
                if with_projects:
                    project = project_rows.get(outcome["project_id"])
                    if project is None:
                        continue
                    entry = {"project_id": project["id"], "title": project["title"], "rag": project["rag"],
                             "status": project["status"], "lead_partner": project["lead_partner"]}
                else:
                    entry = {"project_id": outcome["project_id"]}
                entry["contribution"] = Decimal(0)
                contributions[outcome["project_id"]] = entry
            entry["contribution"] += credit(outcome)
        share = Decimal(tasking["share"])
        if kind_of(tasking["unit"]) is MeasureKind.LEVEL:  # the district's own level, never a sum of changes
            counted = [o for o in by_tasking.get(tasking["id"], []) if o["counting"]]
            level = level_of(counted)
            actual = level if level is not None else Decimal(0)
        else:
            actual = sum((c["contribution"] for c in contributions.values()), Decimal(0))
        shares_by_target[tasking["target_id"]].append({
            "tasking_id": tasking["id"], "district": tasking["district"], "lead_partner": tasking["lead_partner"],
            "status": tasking["status"], "counts_against_target": bool(tasking["counts_against_target"]),
            "sector": tasking["sector"], "profile": profile_of(tasking["profile"]),
            "share": share, "deadline": tasking["deadline"], "actual": actual,
            "percent_of_share": _percent(actual, share),
            "projects": sorted(contributions.values(), key=lambda c: rank[c["project_id"]]) if with_projects else []})
    result = []
    for target in target_rows:
        shares = shares_by_target.get(target["id"], [])
        live = [s for s in shares if s["counts_against_target"]]  # as tasking's events said
        value = Decimal(target["target_value"])
        kind = kind_of(target["unit"])
        summed = kind is not MeasureKind.LEVEL  # a level is never combined: each district against its own level
        county: Decimal | None = sum((s["actual"] for s in live), Decimal(0)) if summed else None
        result.append({
            "target_id": target["id"], "metric": target["metric"], "unit": target["unit"], "kind": kind.value,
            "target_value": value,
            "baseline_value": Decimal(target["baseline_value"]), "baseline_date": target["baseline_date"],
            "deadline": target["deadline"], "status": target["status"],
            "tasked": sum((s["share"] for s in live), Decimal(0)) if summed else None, "actual": county,
            "profile": profile_of(target["profile"]), "intervals": intervals_of(target["intervals"]),
            "over_allocated_by": over_by.get(target["id"]),
            "percent_of_target": _percent(county, value) if county is not None else None, "shares": shares})
    return result


def profile_of(raw: str | None) -> tuple[tuple[date, Decimal], ...]:
    """A row's profile (JSON ``[[date, value], ...]``); empty for NULL."""
    return tuple((date.fromisoformat(d), Decimal(v)) for d, v in json.loads(raw or "[]"))


def intervals_of(raw: str | None) -> tuple[tuple[date, ReportingInterval], ...]:
    """A target row's reporting intervals (JSON ``[[in_force_from, interval], ...]``); empty: quarterly."""
    return tuple((date.fromisoformat(d), ReportingInterval(i)) for d, i in json.loads(raw or "[]"))


def level_of(outcomes: list[dict[str, Any]], actuals: dict[tuple[str, str], Decimal] | None = None
             ) -> Decimal | None:
    """A district's level (a rate, a percentage) from its projects' counting outcomes: the weighted mean of the
    values they reported (``actuals`` instead of their own, for a series), None before any report."""
    weighted = weights = Decimal(0)
    for o in outcomes:
        value = o["actual"] if actuals is None else actuals.get((o["project_id"], o["outcome_id"]))
        if value is None:
            continue
        weighted += Decimal(o["weight"]) * Decimal(value)
        weights += Decimal(o["weight"])
    return weighted / weights if weights else None


def _percent(actual: Decimal, of: Decimal) -> Decimal | None:
    return None if of == 0 else (actual / of * 100).quantize(Decimal("0.1"))


def credits_by_tasking(store: ReadStore, as_of: When, end: date) -> dict[str, list[tuple[date, Decimal]]]:
    """Per tasking: its projects' credited actual after each progress report (by reported date, up to ``end``),
    the outcomes as they stood at ``as_of``."""
    by_project: dict[str, list[dict[str, Any]]] = {}
    for outcome in queries.outcomes_at(store, as_of):
        by_project.setdefault(outcome["project_id"], []).append(outcome)
    latest: dict[tuple[str, str], Decimal] = {}
    series: dict[str, list[tuple[date, Decimal]]] = {}
    for report in queries.progress_reports(store, as_of, end):
        for outcome_id, value in json.loads(report["actuals"]).items():
            latest[(report["project_id"], outcome_id)] = Decimal(value)
        day = date.fromisoformat(report["reported_on"])
        touched = {o["tasking_id"] for o in by_project.get(report["project_id"], [])}
        for tasking_id in touched:
            mine = [o for outcomes in by_project.values() for o in outcomes if o["tasking_id"] == tasking_id]
            if mine and kind_of(mine[0]["unit"]) is MeasureKind.LEVEL:  # the level reached, not a sum of changes
                level = level_of([o for o in mine if o["counting"]], latest)
                if level is None:
                    continue
                total = level
            else:
                total = sum((credit(o, latest[(o["project_id"], o["outcome_id"])]) for o in mine
                             if (o["project_id"], o["outcome_id"]) in latest), Decimal(0))
            points = series.setdefault(tasking_id, [])
            if points and points[-1][0] == day:
                points[-1] = (day, total)
            else:
                points.append((day, total))
    return series


def target_trajectory(target: dict[str, Any]) -> Trajectory:
    """The county target's trajectory: for a count, the improvement it asks (target minus baseline, from 0), for a
    level the level itself, from its baseline date to its deadline, through its profile when it has one."""
    level = target["kind"] == MeasureKind.LEVEL.value
    start = Decimal(target["baseline_value"]) if level else Decimal(0)
    shift = Decimal(0) if level else Decimal(target["baseline_value"])  # a count's profile counts the improvement
    return Trajectory(baseline_date=date.fromisoformat(target["baseline_date"]), baseline_value=start,
                      target_date=date.fromisoformat(target["deadline"]),
                      target_value=Decimal(target["target_value"]) - shift,
                      profile=tuple((d, v - shift) for d, v in target.get("profile", ())))


def share_figure(share: dict[str, Any], baseline_date: date, points: list[tuple[date, Decimal]],
                 start: Decimal = Decimal(0), target: Trajectory | None = None) -> Figure:
    """A district share as a figure: for a count its credited improvement, from 0 at the target's baseline date to
    the share at the share's deadline; for a level the level reached, from ``start`` to the share (its own level).
    Through the share's profile; without one, its ``target``'s carried onto it (the most specific available)."""
    value = Decimal(share["share"])
    profile = share.get("profile") or (borrowed_profile(target, start, value) if target is not None else ())
    return Figure(Trajectory(baseline_date=baseline_date, baseline_value=start,
                             target_date=date.fromisoformat(share["deadline"]), target_value=value,
                             profile=tuple(profile)),
                  tuple(points))


def target_figure(target: dict[str, Any], shares: list[Figure]) -> Figure:
    """The county target as a figure (``target_trajectory``), its values the sum of its live shares' credited
    improvements at each of their report dates."""
    days = sorted({d for s in shares for d, _ in s.reports})
    return Figure(target_trajectory(target),
                  tuple((d, sum((s.actual_at(d) for s in shares), Decimal(0))) for d in days))


def performances(store: ReadStore, as_of: When, on: date, thresholds: Thresholds, target_id: str | None = None
                 ) -> dict[str, dict[str, Any]]:
    """Per target: how it and each of its district shares are doing at ``on`` (``shared.performance``: RAG,
    direction, forecast, staleness), from the reports dated up to ``on`` as recorded at ``as_of``: against the
    share's profile, else the target's, else the straight line; stale by the target's reporting interval at ``on``.
    ``{target_id: {"total": Performance | None, "shares": {tasking_id: Performance}}}``; a share that does not count
    against the target (as tasking's events said) is judged but left out of the total. A ``level`` target (a rate,
    a percentage) is never combined: each district is judged against its own target level, from the level its
    projects' outcomes stood at (their baseline to the share), and the county has no total."""
    credits = credits_by_tasking(store, as_of, on)
    baselines = _level_baselines(store, as_of)
    found: dict[str, dict[str, Any]] = {}
    for target in rollups(store, as_of, target_id, with_projects=False):
        baseline_date = date.fromisoformat(target["baseline_date"])
        level = target["kind"] == MeasureKind.LEVEL.value
        interval = interval_at(target["intervals"], on)
        trajectory = target_trajectory(target)
        judged: dict[str, Performance] = {}
        live: list[Figure] = []
        for share in target["shares"]:
            start = baselines.get(share["tasking_id"], Decimal(target["baseline_value"])) if level else Decimal(0)
            figure = share_figure(share, baseline_date, credits.get(share["tasking_id"], []), start, trajectory)
            judged[share["tasking_id"]] = performance([figure], on, thresholds, interval=interval)
            if share["counts_against_target"]:
                live.append(figure)
        total = None if level else performance([target_figure(target, live)], on, thresholds, interval=interval)
        found[target["target_id"]] = {"total": total, "shares": judged}
    return found


def _level_baselines(store: ReadStore, as_of: When) -> dict[str, Decimal]:
    """Per tasking of a level: the weighted mean of its counting outcomes' baselines (the level it starts from)."""
    by_tasking: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for outcome in queries.outcomes_at(store, as_of):
        if outcome["counting"] and kind_of(outcome["unit"]) is MeasureKind.LEVEL:
            by_tasking[outcome["tasking_id"]].append({**outcome, "actual": outcome["baseline_value"]})
    return {t: level for t, outcomes in by_tasking.items() if (level := level_of(outcomes)) is not None}
