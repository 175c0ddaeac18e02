"""The roll-up: actual against target, from projects to district shares to the county target. Each outcome credits
``weight x (actual - baseline)`` to its tasking while its contribution counts; a tasking's actual is the sum of its
credits, a target's actual the sum over its live taskings. A ratio is rolled up from its parts: a tasking's
numerators and denominators (each weighted) are summed, and the target's over its live taskings, and divided at the
end (``shared.measures.rolled_up_ratio``), never a mean of ratios."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from services.reporting.delivery import queries
from services.reporting.delivery.tables import ALLOCATIONS, OUTCOMES, PROJECTS, TARGETS, TASKINGS
from services.reporting.temporal import When
from shared.measures import MeasureKind, kind_of, ratio_value, rolled_up_ratio, summed_parts
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

    ``sector`` (a UK SIC 2007 section): the outcomes delivered in that sector, by their own sector or, naming none,
    their tasking's; the shares tasked in it or delivering such outcomes, each share's actual from those outcomes
    only; each target's tasked summed over the shares tasked in it and its actual over all those shares (a target
    with none is left out).

    ``with_projects=False`` leaves each share's ``projects`` empty and reads no project rows: an outcome's project
    exists whenever the outcome does (both come from the project's opening and rows are never removed), so the
    actuals are the same."""
    with store.transaction(commit=False) as tx:  # its four queries in one transaction: fewer round trips
        found = _rollups(tx, as_of, target_id, with_projects, store.postgres, sector)
    return found if sector is None else [_in_sector(t, sector) for t in found
                                         if any(_in(s, sector) for s in t["shares"])]


def _in(share: dict[str, Any], sector: str) -> bool:
    """Whether a share belongs to a sector's roll-up: tasked in it, or delivering an outcome that names it."""
    return bool(share["sector"] == sector or share["in_sector_outcomes"] > 0)


def _in_sector(target: dict[str, Any], sector: str) -> dict[str, Any]:
    shares = [s for s in target["shares"] if _in(s, sector)]
    live = [s for s in shares if s["counts_against_target"]]
    tasked = sum((s["share"] for s in live if s["sector"] == sector), Decimal(0))
    if target["kind"] == MeasureKind.RATIO.value:
        numerator, denominator, actual = _county_ratio(target["unit"], live)
        return {**target, "shares": shares, "numerator": numerator, "denominator": denominator, "actual": actual}
    if target["actual"] is None:  # a level: never combined
        return {**target, "shares": shares}
    actual = sum((s["actual"] for s in live), Decimal(0))
    return {**target, "shares": shares, "tasked": tasked, "actual": actual,
            "percent_of_target": _percent(actual, Decimal(target["target_value"]))}


def _county_ratio(unit: str, live: list[dict[str, Any]]) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """A ratio target's figure: its live shares' numerators summed over their denominators summed."""
    reported = [(s["numerator"], s["denominator"]) for s in live if s["denominator"]]
    if not reported:
        return None, None, None
    numerator, denominator = summed_parts(reported)
    return numerator, denominator, ratio_value(unit, numerator, denominator) if denominator else None


def ratio_parts(outcomes: list[dict[str, Any]], parts: dict[tuple[str, str], tuple[Decimal, Decimal]] | None = None
                ) -> tuple[Decimal, Decimal] | None:
    """A tasking's ratio parts from its projects' counting outcomes: each outcome's numerator and denominator
    weighted by its weight (the part credited to the tasking) and summed; ``parts`` instead of their own, for a
    series; None before any report."""
    numerator = denominator = Decimal(0)
    found = False
    for o in outcomes:
        own = parts.get((o["project_id"], o["outcome_id"])) if parts is not None else _row_parts(o["parts"])
        if own is None:
            continue
        weight = Decimal(o["weight"])
        numerator += weight * own[0]
        denominator += weight * own[1]
        found = True
    return (numerator, denominator) if found else None


def _row_parts(raw: str | None) -> tuple[Decimal, Decimal] | None:
    if raw is None:
        return None
    numerator, denominator = json.loads(raw)
    return Decimal(numerator), Decimal(denominator)


def _rollups(store: Tx, as_of: When, target_id: str | None,
             with_projects: bool, postgres: bool, sector: str | None = None) -> list[dict[str, Any]]:
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
    query, values = queries.as_of_rows(OUTCOMES.name, as_of, columns="r.project_id, r.outcome_id, r.tasking_id,"
                           " r.counting, r.actual, r.weight, r.baseline_value, r.sector, r.parts", postgres=postgres)
    outcome_rows = store.query(query, values)
    by_tasking: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for outcome in outcome_rows:
        by_tasking[outcome["tasking_id"]].append(outcome)
    shares_by_target: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tasking in tasking_rows:
        contributions: dict[str, dict[str, Any]] = {}
        # An outcome counts in its own sector, else its tasking's.
        mine = [o for o in by_tasking.get(tasking["id"], [])
                if sector is None or (o["sector"] or tasking["sector"]) == sector]
        for outcome in mine:
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
        kind = kind_of(tasking["unit"])
        parts = None
        if kind is MeasureKind.LEVEL:  # the district's own level, never a sum of changes
            counted = [o for o in mine if o["counting"]]
            level = level_of(counted)
            actual = level if level is not None else Decimal(0)
        elif kind is MeasureKind.RATIO:  # the district's parts summed, divided at the end
            parts = ratio_parts([o for o in mine if o["counting"]])
            ratio = rolled_up_ratio(tasking["unit"], [parts]) if parts is not None else None
            actual = ratio if ratio is not None else Decimal(0)
        else:
            actual = sum((c["contribution"] for c in contributions.values()), Decimal(0))
        shares_by_target[tasking["target_id"]].append({
            "tasking_id": tasking["id"], "district": tasking["district"], "lead_partner": tasking["lead_partner"],
            "status": tasking["status"], "counts_against_target": bool(tasking["counts_against_target"]),
            "sector": tasking["sector"], "profile": profile_of(tasking["profile"]),
            "numerator": parts[0] if parts else None, "denominator": parts[1] if parts else None,
            "in_sector_outcomes": sum(1 for o in mine if o["counting"] and o["sector"] == sector) if sector else 0,
            "share": share, "deadline": tasking["deadline"], "actual": actual,
            "percent_of_share": _percent(actual, share),
            "projects": sorted(contributions.values(), key=lambda c: rank[c["project_id"]]) if with_projects else []})
    result = []
    for target in target_rows:
        shares = shares_by_target.get(target["id"], [])
        live = [s for s in shares if s["counts_against_target"]]  # as tasking's events said
        value = Decimal(target["target_value"])
        kind = kind_of(target["unit"])
        summed = kind is MeasureKind.COUNT  # a level is never combined: each district against its own level
        county: Decimal | None = sum((s["actual"] for s in live), Decimal(0)) if summed else None
        numerator = denominator = None
        if kind is MeasureKind.RATIO:  # the county's parts summed over its live shares, divided at the end
            numerator, denominator, county = _county_ratio(target["unit"], live)
        result.append({
            "target_id": target["id"], "metric": target["metric"], "unit": target["unit"], "kind": kind.value,
            "target_value": value,
            "baseline_value": Decimal(target["baseline_value"]), "baseline_date": target["baseline_date"],
            "deadline": target["deadline"], "status": target["status"],
            "tasked": sum((s["share"] for s in live), Decimal(0)) if summed else None, "actual": county,
            "profile": profile_of(target["profile"]), "intervals": intervals_of(target["intervals"]),
            "over_allocated_by": over_by.get(target["id"]),
            "numerator": numerator, "denominator": denominator,
            "percent_of_target": _percent(county, value) if county is not None and summed else None,
            "shares": shares})
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


Parts = tuple[Decimal, Decimal]
"""A ratio's numerator and denominator."""


def credits_by_tasking(store: ReadStore, as_of: When, end: date) -> dict[str, list[tuple[date, Decimal]]]:
    """Per tasking: its projects' credited actual after each progress report (by reported date, up to ``end``),
    the outcomes as they stood at ``as_of``; for a ratio, the ratio of its parts summed."""
    return _series(store, as_of, end)[0]


def parts_by_tasking(store: ReadStore, as_of: When, end: date) -> dict[str, list[tuple[date, Parts]]]:
    """Per tasking of a ratio: its projects' parts summed (each weighted) after each progress report, by reported
    date up to ``end``: what a county ratio is rolled up from."""
    return _series(store, as_of, end)[1]


def _series(store: ReadStore, as_of: When, end: date
            ) -> tuple[dict[str, list[tuple[date, Decimal]]], dict[str, list[tuple[date, Parts]]]]:
    by_project: dict[str, list[dict[str, Any]]] = {}
    for outcome in queries.outcomes_at(store, as_of):
        by_project.setdefault(outcome["project_id"], []).append(outcome)
    latest: dict[tuple[str, str], Decimal] = {}
    latest_parts: dict[tuple[str, str], Parts] = {}
    series: dict[str, list[tuple[date, Decimal]]] = {}
    parts_series: dict[str, list[tuple[date, Parts]]] = {}
    for report in queries.progress_reports(store, as_of, end):
        for outcome_id, value in json.loads(report["actuals"]).items():
            latest[(report["project_id"], outcome_id)] = Decimal(value)
        for outcome_id, (numerator, denominator) in json.loads(report["parts"] or "{}").items():
            latest_parts[(report["project_id"], outcome_id)] = (Decimal(numerator), Decimal(denominator))
        day = date.fromisoformat(report["reported_on"])
        touched = {o["tasking_id"] for o in by_project.get(report["project_id"], [])}
        for tasking_id in touched:
            mine = [o for outcomes in by_project.values() for o in outcomes if o["tasking_id"] == tasking_id]
            if mine and kind_of(mine[0]["unit"]) is MeasureKind.RATIO:  # the parts summed, divided at the end
                parts = ratio_parts([o for o in mine if o["counting"]], latest_parts)
                if parts is None:
                    continue
                _point(parts_series.setdefault(tasking_id, []), day, parts)
                total = rolled_up_ratio(mine[0]["unit"], [parts]) or Decimal(0)
            elif mine and kind_of(mine[0]["unit"]) is MeasureKind.LEVEL:  # the level reached, not a sum of changes
                level = level_of([o for o in mine if o["counting"]], latest)
                if level is None:
                    continue
                total = level
            else:
                total = sum((credit(o, latest[(o["project_id"], o["outcome_id"])]) for o in mine
                             if (o["project_id"], o["outcome_id"]) in latest), Decimal(0))
            _point(series.setdefault(tasking_id, []), day, total)
    return series, parts_series


def _point(points: list[tuple[date, Any]], day: date, value: Any) -> None:
    """A series' value at ``day``: the last report of a day stands for it."""
    if points and points[-1][0] == day:
        points[-1] = (day, value)
    else:
        points.append((day, value))


def target_trajectory(target: dict[str, Any]) -> Trajectory:
    """The county target's trajectory: for a count, the improvement it asks (target minus baseline, from 0), for a
    level the level itself, from its baseline date to its deadline, through its profile when it has one."""
    level = target["kind"] != MeasureKind.COUNT.value  # a level or a ratio: the value itself
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


def ratio_target_figure(target: dict[str, Any], shares: list[list[tuple[date, Parts]]]) -> Figure:
    """A county ratio target as a figure: from its baseline to its target value, its value at each of its live
    shares' report dates the sum of their numerators standing then over the sum of their denominators."""
    days = sorted({d for series in shares for d, _ in series})
    values = []
    for day in days:
        standing = [parts for series in shares if (parts := _standing_at(series, day)) is not None]
        ratio = rolled_up_ratio(target["unit"], standing)
        if ratio is not None:
            values.append((day, ratio))
    return Figure(target_trajectory(target), tuple(values))


def _standing_at(series: list[tuple[date, Parts]], day: date) -> Parts | None:
    found = None
    for when, parts in series:
        if when <= day:
            found = parts
    return found


def performances(store: ReadStore, as_of: When, on: date, thresholds: Thresholds, target_id: str | None = None
                 ) -> dict[str, dict[str, Any]]:
    """Per target: how it and each of its district shares are doing at ``on`` (``shared.performance``: RAG,
    direction, forecast, staleness), from the reports dated up to ``on`` as recorded at ``as_of``: against the
    share's profile, else the target's, else the straight line; stale by the target's reporting interval at ``on``.
    ``{target_id: {"total": Performance | None, "shares": {tasking_id: Performance}}}``; a share that does not count
    against the target (as tasking's events said) is judged but left out of the total. A ``level`` target (a rate,
    a percentage) is never combined: each district is judged against its own target level, from the level its
    projects' outcomes stood at (their baseline to the share), and the county has no total."""
    credits, parts = _series(store, as_of, on)
    baselines = _level_baselines(store, as_of)
    found: dict[str, dict[str, Any]] = {}
    for target in rollups(store, as_of, target_id, with_projects=False):
        baseline_date = date.fromisoformat(target["baseline_date"])
        level = target["kind"] == MeasureKind.LEVEL.value
        ratio = target["kind"] == MeasureKind.RATIO.value
        interval = interval_at(target["intervals"], on)
        trajectory = target_trajectory(target)
        judged: dict[str, Performance] = {}
        live: list[Figure] = []
        live_parts: list[list[tuple[date, Parts]]] = []
        for share in target["shares"]:
            # A ratio share starts from its target's baseline: the outcomes' baselines are ratios, not parts.
            start = (baselines.get(share["tasking_id"], Decimal(target["baseline_value"])) if level
                     else Decimal(target["baseline_value"]) if ratio else Decimal(0))
            figure = share_figure(share, baseline_date, credits.get(share["tasking_id"], []), start, trajectory)
            judged[share["tasking_id"]] = performance([figure], on, thresholds, interval=interval)
            if share["counts_against_target"]:
                live.append(figure)
                live_parts.append(parts.get(share["tasking_id"], []))
        county = ratio_target_figure(target, live_parts) if ratio else target_figure(target, live)
        total = None if level else performance([county], on, thresholds, interval=interval)
        found[target["target_id"]] = {"total": total, "shares": judged}
    return found


def _level_baselines(store: ReadStore, as_of: When) -> dict[str, Decimal]:
    """Per tasking of a level: the weighted mean of its counting outcomes' baselines (the level it starts from)."""
    by_tasking: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for outcome in queries.outcomes_at(store, as_of):
        if outcome["counting"] and kind_of(outcome["unit"]) is MeasureKind.LEVEL:
            by_tasking[outcome["tasking_id"]].append({**outcome, "actual": outcome["baseline_value"]})
    return {t: level for t, outcomes in by_tasking.items() if (level := level_of(outcomes)) is not None}
