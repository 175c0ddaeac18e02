"""How delivery's figures are doing, as reporting says it: by ``shared.performance`` only.

A project's RAG, shortfall and direction are the ones projects recorded in its events (derived by the same
function when the report was recorded or a profile changed); reporting calls the function itself only for what
depends on the date asked about (staleness, and the forecast from the reports dated by then) and for the district
and county roll-ups (``rollup.performances``)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from services.reporting.delivery import queries, rollup
from services.reporting.delivery.tables import TARGETS, TASKINGS
from services.reporting.temporal import When, recorded_moment
from shared.contracts.projects import DirectionOfTravel, Rag
from shared.meeting_copy import CopiedMeetings
from shared.partnership import PartnershipDefinition, definition_in_force, rules
from shared.performance import (
    Figure,
    Performance,
    ReportingInterval,
    Thresholds,
    Trajectory,
    interval_at,
    performance,
)
from shared.readstore import ReadStore

if TYPE_CHECKING:
    from services.reporting.readmodel import ReportingReadModel


def thresholds_of(definition: PartnershipDefinition) -> Thresholds:
    """The partnership definition's RAG thresholds, as the projects service reads them."""
    return Thresholds(Decimal(str(definition.rag.green_within_percent)),
                      Decimal(str(definition.rag.amber_within_percent)))


def in_force_on(copy: CopiedMeetings, definition: PartnershipDefinition, on: date,
                when: When) -> PartnershipDefinition:
    """The partnership as the rules of record in force on ``on`` had it, as recorded at ``when``."""
    of_record = copy.rules(rules(copy.store.settings.partnership_file), recorded_moment(when))
    return definition_in_force(definition, of_record.as_of(on))


def thresholds_on(model: ReportingReadModel, on: date, when: When) -> Thresholds:
    """The RAG thresholds in force on ``on`` as the record at ``when`` had them (a board decision changes them from
    its date), judged as the projects service judges a report of that date."""
    return thresholds_of(in_force_on(model.provenance.meetings, model.partnership, on, when))


def project_figures(store: ReadStore, project_id: str, when: When) -> list[Figure]:
    """The project's outcomes as figures: their trajectories (through their profiles) and the values standing at
    each report that stands."""
    reports = [(date.fromisoformat(r["reported_on"]), json.loads(r["actuals"]))
               for r in queries.progress_series(store, project_id, when)]
    figures = []
    for outcome in queries.outcomes(store, project_id, when):
        profile = tuple((date.fromisoformat(d), Decimal(v)) for d, v in json.loads(outcome.get("profile") or "[]"))
        trajectory = Trajectory(baseline_date=date.fromisoformat(outcome["baseline_date"]),
                                baseline_value=Decimal(outcome["baseline_value"]),
                                target_date=date.fromisoformat(outcome["target_date"]),
                                target_value=Decimal(outcome["target_value"]), profile=profile)
        by_day = {day: Decimal(actuals[outcome["outcome_id"]]) for day, actuals in reports
                  if outcome["outcome_id"] in actuals}
        figures.append(Figure(trajectory, tuple(sorted(by_day.items())), Decimal(outcome["weight"])))
    return figures


def project_interval(store: ReadStore, project_id: str, when: When, on: date) -> ReportingInterval:
    """How often the project is to report at ``on``: the reporting interval of the target its outcomes deliver (the
    shortest, should they deliver several), quarterly when none declared one."""
    tasking_ids = sorted({o["tasking_id"] for o in queries.outcomes(store, project_id, when)})
    if not tasking_ids:
        return interval_at((), on)
    wanted = ", ".join("?" for _ in tasking_ids)
    query, values = queries.as_of_rows(TASKINGS.name, when, entities=f" AND e.id IN ({wanted})",
                                       entity_params=tasking_ids, columns="r.target_id", postgres=store.postgres)
    target_ids = sorted({t["target_id"] for t in store.query(query, values)})
    if not target_ids:
        return interval_at((), on)
    wanted = ", ".join("?" for _ in target_ids)
    query, values = queries.as_of_rows(TARGETS.name, when, entities=f" AND e.id IN ({wanted})",
                                       entity_params=target_ids, columns="r.intervals", postgres=store.postgres)
    found = [interval_at(rollup.intervals_of(t["intervals"]), on) for t in store.query(query, values)]
    return min(found, key=lambda i: i.months, default=interval_at((), on))


def project_performance(store: ReadStore, row: dict[str, Any], when: When, on: date,
                        thresholds: Thresholds) -> Performance | None:
    """The project at ``on``: the RAG, shortfall and direction its events recorded, with the staleness (by its
    target's reporting interval at ``on``) and forecasts the function gives at ``on``; None before any report
    stands."""
    if row["derived_rag"] is None:
        return None
    judged = performance(project_figures(store, row["id"], when), on, thresholds,
                         interval=project_interval(store, row["id"], when, on))
    return replace(judged, rag=Rag(row["derived_rag"]), shortfall_percent=Decimal(row["shortfall_percent"]),
                   direction=DirectionOfTravel(row["direction"]) if row["direction"] else None)
