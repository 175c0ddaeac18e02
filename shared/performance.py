"""How a figure is doing: RAG, direction of travel, forecast out-turn and staleness, in one function.

Every service that says how a figure is doing says it through ``performance`` (projects when a report is recorded
or an outcome's profile changes, recording the result in its event; reporting for district and county roll-ups
and for staleness at the date asked), so a project, a district share and the county target are judged alike and
GraphQL, the packs and open data cannot disagree.

The rules:

- **Expected value.** A figure's trajectory runs from its baseline (value and date) to its target (value and date).
  With a profile (expected values at dates, e.g. quarterly, for back-loaded delivery) the expected value is the
  profile, joined by straight lines between its points; without one it is the straight line. Before the baseline
  date it is the baseline, after the target date the target.
- **Shortfall.** ``(planned - delivered) / planned x 100`` where ``planned = expected(on) - baseline`` and
  ``delivered = actual(on) - baseline``: the same formula for targets that rise (jobs) and fall (crime). An
  actual is the latest value reported at or before the date; never reported counts at the baseline. Nothing
  planned yet (``planned == 0``) leaves the figure out. Several figures (a project's outcomes) weigh their
  shortfalls by their weights; none with anything planned is no shortfall.
- **RAG.** Green within ``green_within_percent``, amber within ``amber_within_percent``, red beyond (both
  inclusive), from the partnership definition, of the shortfall as computed (it is recorded to the hundredth).
- **Direction of travel.** The shortfall now against the shortfall at the previous report (or at ``since`` when
  asked): improving when it closed by a percentage point or more, worsening when it widened as much, else steady;
  None without a previous report.
- **Forecast out-turn** at each figure's target date, method named: linear from the last two reports; from the
  baseline and the only report when there is one; the value reported when the deadline has passed.
- **Staleness.** A figure is stale at a date when its latest report (or, with none, its baseline) is more than one
  reporting interval (default quarterly) before it: its status is then ``stale``, not a colour from old data.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from shared.contracts.projects import DirectionOfTravel, Rag

HUNDRED = Decimal(100)
STEADY_BAND_POINTS = Decimal(1)
"""Direction of travel is ``steady`` while the shortfall moved by less than one percentage point."""

SHORTFALL_BOUND = Decimal("999999999.99")
"""A shortfall is recorded within a billion percent either way: beyond, it says nothing more (the change planned to
date is next to nothing against the change reported), and an entered figure's bounds let it grow past what a decimal
of the events can hold (``shared.fields``)."""

STALE = "stale"
"""The status of a figure whose latest report is older than its reporting interval."""


class ReportingInterval(StrEnum):
    """How often a target's figures are to be reported; a figure is stale when its latest report is older."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "half_yearly": 6, "annual": 12}[self.value]


DEFAULT_INTERVAL = ReportingInterval.QUARTERLY


def interval_at(intervals: Iterable[tuple[date, ReportingInterval]], on: date) -> ReportingInterval:
    """The interval in force at ``on`` among those a target declared (each with the first date it judges); the
    default before the first."""
    found = DEFAULT_INTERVAL
    for since, interval in sorted(intervals):
        if since <= on:
            found = ReportingInterval(interval)
    return found


class ForecastMethod(StrEnum):
    """How a forecast out-turn was made."""

    LINEAR_FROM_LAST_TWO_REPORTS = "linear from the last two reports"
    LINEAR_FROM_BASELINE_AND_ONLY_REPORT = "linear from the baseline and the only report"
    REPORTED_AFTER_DEADLINE = "the value reported at or after the deadline"
    NONE_YET = "no forecast: nothing reported yet"


@dataclass(frozen=True)
class Thresholds:
    """From the partnership definition (``rag.green_within_percent`` / ``rag.amber_within_percent``)."""

    green_within_percent: Decimal
    amber_within_percent: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) < self.green_within_percent <= self.amber_within_percent:
            raise ValueError("RAG thresholds: 0 < green_within_percent <= amber_within_percent")


@dataclass(frozen=True)
class Trajectory:
    """Where a figure is expected to be: baseline to target, through a profile when it has one."""

    baseline_date: date
    baseline_value: Decimal
    target_date: date
    target_value: Decimal
    profile: tuple[tuple[date, Decimal], ...] = ()
    """Expected values at dates between the baseline and the target date; empty: the straight line."""

    def points(self) -> list[tuple[date, Decimal]]:
        inner = sorted((d, v) for d, v in self.profile if self.baseline_date < d < self.target_date)
        return [(self.baseline_date, self.baseline_value), *inner, (self.target_date, self.target_value)]

    def expected_at(self, on: date) -> Decimal:
        """The profile's value at ``on`` (straight between its points), the baseline before, the target after."""
        points = self.points()
        if on <= points[0][0]:
            return points[0][1]
        for (start, low), (end, high) in pairwise(points):
            if on <= end:
                span = (end - start).days
                if span <= 0:
                    return high
                return low + (high - low) * Decimal((on - start).days) / Decimal(span)
        return points[-1][1]


def borrowed_profile(source: Trajectory, baseline_value: Decimal, target_value: Decimal
                     ) -> tuple[tuple[date, Decimal], ...]:
    """A less specific figure's profile carried onto another trajectory (a share without a profile follows its
    target's, an outcome its share's): at each of its dates, the same fraction of the change it plans. Points past
    the other trajectory's dates are dropped by it (``Trajectory.points``)."""
    change = source.target_value - source.baseline_value
    if change == 0:
        return ()
    return tuple((day, baseline_value + (target_value - baseline_value) * (value - source.baseline_value) / change)
                 for day, value in source.profile)


def profile_problems(trajectory: Trajectory, field_name: str = "profile") -> list[dict[str, str]]:
    """What is wrong with a profile: a point outside the baseline-to-target span, or two points at one date."""
    problems: list[dict[str, str]] = []
    seen: set[date] = set()
    for n, (day, _) in enumerate(trajectory.profile):
        if not trajectory.baseline_date < day < trajectory.target_date:
            problems.append({"field": f"{field_name}[{n}].on", "message":
                             f"A profile's date lies after the baseline ({trajectory.baseline_date.isoformat()}) "
                             f"and before the target date ({trajectory.target_date.isoformat()})."})
        if day in seen:
            problems.append({"field": f"{field_name}[{n}].on",
                             "message": f"The profile has two values at {day.isoformat()}."})
        seen.add(day)
    return problems


@dataclass(frozen=True)
class Figure:
    """One figure to judge: its trajectory, the values reported (date, value), and its weight among others."""

    trajectory: Trajectory
    reports: tuple[tuple[date, Decimal], ...] = ()
    weight: Decimal = Decimal(1)

    def actual_at(self, on: date) -> Decimal:
        """The latest value reported at or before ``on``; the baseline when none was."""
        value, when = self.trajectory.baseline_value, None
        for day, amount in self.reports:
            if day <= on and (when is None or day >= when):
                value, when = amount, day
        return value

    def shortfall_at(self, on: date) -> Decimal | None:
        planned = self.trajectory.expected_at(on) - self.trajectory.baseline_value
        if planned == 0:
            return None
        delivered = self.actual_at(on) - self.trajectory.baseline_value
        return (planned - delivered) / planned * HUNDRED


@dataclass(frozen=True)
class Forecast:
    """The out-turn expected at the figure's target date, and how it was made."""

    value: Decimal | None
    at: date
    method: ForecastMethod


@dataclass(frozen=True)
class FigurePerformance:
    expected: Decimal
    actual: Decimal
    shortfall_percent: Decimal | None
    forecast: Forecast


@dataclass(frozen=True)
class Performance:
    """How the figures were doing at ``on``."""

    on: date
    rag: Rag
    shortfall_percent: Decimal
    """The weighted shortfall, as recorded (``recorded_shortfall``)."""
    direction: DirectionOfTravel | None
    stale: bool
    latest_reported_on: date | None
    interval: ReportingInterval
    figures: tuple[FigurePerformance, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        """What to show: ``stale`` when the latest report is older than the interval, else the RAG."""
        return STALE if self.stale else self.rag.value

    @property
    def forecast(self) -> Forecast | None:
        """The forecast of a single figure; None for several (each has its own in ``figures``)."""
        return self.figures[0].forecast if len(self.figures) == 1 else None


def recorded_shortfall(shortfall_percent: Decimal) -> Decimal:
    """The shortfall as an event records it: to the hundredth of a percent, within ``SHORTFALL_BOUND``."""
    bounded = max(-SHORTFALL_BOUND, min(SHORTFALL_BOUND, shortfall_percent))
    return bounded.quantize(Decimal("0.01"))


def rag_for(shortfall_percent: Decimal, thresholds: Thresholds) -> Rag:
    if shortfall_percent <= thresholds.green_within_percent:
        return Rag.GREEN
    if shortfall_percent <= thresholds.amber_within_percent:
        return Rag.AMBER
    return Rag.RED


def _direction(previous: Decimal | None, now: Decimal) -> DirectionOfTravel | None:
    if previous is None:
        return None
    change = now - previous
    if change <= -STEADY_BAND_POINTS:
        return DirectionOfTravel.IMPROVING
    if change >= STEADY_BAND_POINTS:
        return DirectionOfTravel.WORSENING
    return DirectionOfTravel.STEADY


def _weighted_shortfall(figures: Sequence[Figure], on: date) -> Decimal:
    weighted = weights = Decimal(0)
    for figure in figures:
        shortfall = figure.shortfall_at(on)
        if shortfall is None:
            continue
        weighted += shortfall * figure.weight
        weights += figure.weight
    return weighted / weights if weights else Decimal(0)


def _forecast(figure: Figure, on: date) -> Forecast:
    trajectory = figure.trajectory
    reports = sorted({d: v for d, v in sorted(figure.reports) if d <= on}.items())
    at = trajectory.target_date
    if not reports:
        return Forecast(None, at, ForecastMethod.NONE_YET)
    last_day, last = reports[-1]
    if last_day >= at:
        return Forecast(last, at, ForecastMethod.REPORTED_AFTER_DEADLINE)
    if len(reports) >= 2:
        (first_day, first), method = reports[-2], ForecastMethod.LINEAR_FROM_LAST_TWO_REPORTS
    else:
        first_day, first = trajectory.baseline_date, trajectory.baseline_value
        method = ForecastMethod.LINEAR_FROM_BASELINE_AND_ONLY_REPORT
        if last_day <= first_day:
            return Forecast(None, at, ForecastMethod.NONE_YET)
    slope = (last - first) / Decimal((last_day - first_day).days)
    return Forecast((last + slope * Decimal((at - last_day).days)).quantize(Decimal("0.01")), at, method)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _report_days(figures: Iterable[Figure], on: date) -> list[date]:
    return sorted({d for f in figures for d, _ in f.reports if d <= on})


def performance(figures: Sequence[Figure], on: date, thresholds: Thresholds, *,
                interval: ReportingInterval = DEFAULT_INTERVAL, since: date | None = None) -> Performance:
    """RAG, direction of travel, forecast out-turn and staleness of ``figures`` at ``on`` (the rules above).

    ``since``: the date to compare the shortfall with for the direction of travel (a previous pack's end); by
    default the report before the latest one at ``on``."""
    shortfall = _weighted_shortfall(figures, on)
    days = _report_days(figures, on)
    latest = days[-1] if days else None
    previous = since if since is not None else (days[-2] if len(days) >= 2 else None)
    recorded = recorded_shortfall(shortfall)
    direction = _direction(recorded_shortfall(_weighted_shortfall(figures, previous)) if previous is not None
                           else None, recorded)
    anchor = latest if latest is not None else min((f.trajectory.baseline_date for f in figures), default=on)
    stale = add_months(anchor, interval.months) < on
    return Performance(
        on=on, rag=rag_for(shortfall, thresholds), shortfall_percent=recorded, direction=direction, stale=stale,
        latest_reported_on=latest, interval=interval,
        figures=tuple(FigurePerformance(expected=f.trajectory.expected_at(on), actual=f.actual_at(on),
                                        shortfall_percent=f.shortfall_at(on), forecast=_forecast(f, on))
                      for f in figures))
