"""How released figures were doing at their period's end, as GraphQL's ``performance(on)`` and the scrutiny pack
say it: by ``shared.performance`` through the very calls they make (``judging.project_performance`` for a project,
``rollup.performances`` for a county target and its district shares), so open data, GraphQL and the pack show the
same status (``stale`` rather than a colour from old data), direction, forecast out-turn and its method.

Only figures of released periods are judged (their period's end the date judged at); the figures are the ones
GraphQL answers without ``asOf`` (as recorded now), and carry no personal data: organisations, districts, figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.reporting.delivery import judging, rollup
from services.reporting.delivery import queries as delivery
from services.reporting.readmodel import ReportingReadModel
from shared.performance import Forecast, Performance


def forecast_fields(judged: Performance | None, forecast: Forecast | None) -> dict[str, Any]:
    """The open-data columns of a judged figure: its status at the period's end, whether stale, its direction, and
    the forecast out-turn at its deadline with the method named."""
    if judged is None:  # nothing reported yet
        return {"status": None, "stale": None, "direction": None, "forecast": None, "forecast_at": None,
                "forecast_method": None}
    return {"status": judged.status, "stale": judged.stale,
            "direction": judged.direction.value if judged.direction else None,
            "forecast": None if forecast is None or forecast.value is None else str(forecast.value),
            "forecast_at": forecast.at.isoformat() if forecast is not None else None,
            "forecast_method": forecast.method.value if forecast is not None else None}


class ProjectForecasts:
    """Each project outcome's judged fields at a period's end, worked out once per project and date."""

    def __init__(self, model: ReportingReadModel) -> None:
        self.model = model
        self._found: dict[tuple[str, date], dict[str, dict[str, Any]]] = {}

    def of(self, project_id: str, outcome_id: str, on: date) -> dict[str, Any]:
        key = (project_id, on)
        if key not in self._found:
            self._found[key] = self._judge(project_id, on)
        return self._found[key].get(outcome_id, forecast_fields(None, None))

    def _judge(self, project_id: str, on: date) -> dict[str, dict[str, Any]]:
        store = self.model.store
        row = delivery.project(store, project_id)
        judged = None if row is None else judging.project_performance(
            store, row, None, on, judging.thresholds_on(self.model, on, None))
        if judged is None:
            return {}
        # One figure per outcome, in the order the project's figures are made (``judging.project_figures``).
        outcomes = delivery.outcomes(store, project_id, None)
        return {o["outcome_id"]: forecast_fields(judged, figure.forecast)
                for o, figure in zip(outcomes, judged.figures, strict=True)}


def target_performance(model: ReportingReadModel, periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per released period: each current county target (its total, except a level, which is never combined) and
    each district share that counts against it, judged at the period's end as GraphQL's ``performance(on)`` and the
    pack judge them."""
    store = model.store
    records = []
    for period in periods:
        end = date.fromisoformat(period["ends_on"])
        judged = rollup.performances(store, None, end, judging.thresholds_on(model, end, None))
        for target in rollup.rollups(store, None, with_projects=False):
            if target["status"] == "retired":
                continue
            found = judged.get(target["target_id"], {})
            common = {"period_start": period["starts_on"], "period_end": period["ends_on"],
                      "target_id": target["target_id"], "metric": target["metric"], "unit": target["unit"],
                      "kind": target["kind"]}
            if found.get("total") is not None:
                records.append(_row(common, None, target["target_value"], target["deadline"], found["total"]))
            for share in target["shares"]:
                if share["counts_against_target"] and share["tasking_id"] in found.get("shares", {}):
                    records.append(_row(common, model.provenance.district_name(share["district"]), share["share"],
                                        share["deadline"], found["shares"][share["tasking_id"]]))
    return records


def _row(common: dict[str, Any], district: str | None, goal: Any, deadline: str,
         judged: Performance) -> dict[str, Any]:
    figure = judged.figures[0]
    return {**common, "district": district, "goal": str(goal), "deadline": deadline,
            "actual": str(figure.actual), "expected": str(figure.expected), "rag": judged.rag.value,
            "shortfall_percent": str(judged.shortfall_percent),
            "latest_reported_on": judged.latest_reported_on.isoformat() if judged.latest_reported_on else None,
            **forecast_fields(judged, figure.forecast)}
