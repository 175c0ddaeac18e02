"""The one rule of how a figure is doing (``shared.performance``): RAG against the profile or the straight line,
direction of travel, forecast out-turn with its method named, and staleness at the date asked about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.contracts.projects import DirectionOfTravel, Rag
from shared.performance import (
    STALE,
    Figure,
    ForecastMethod,
    ReportingInterval,
    Thresholds,
    Trajectory,
    performance,
    profile_problems,
)

THRESHOLDS = Thresholds(Decimal(10), Decimal(25))
# The business park: 600 jobs from April 2012 to March 2014; the park opens in year two, so jobs come late.
PARK_LINE = Trajectory(date(2012, 4, 1), Decimal(0), date(2014, 3, 31), Decimal(600))
PARK_PROFILE = Trajectory(date(2012, 4, 1), Decimal(0), date(2014, 3, 31), Decimal(600),
                          profile=((date(2012, 10, 1), Decimal(40)), (date(2013, 4, 1), Decimal(100)),
                                   (date(2013, 10, 1), Decimal(300))))
PARK_REPORTS = ((date(2012, 10, 1), Decimal(60)), (date(2013, 4, 1), Decimal(150)))


def test_rag_against_a_profile_is_green_when_the_profile_expected_little_yet() -> None:
    for day, _ in PARK_REPORTS:
        assert performance([Figure(PARK_PROFILE, PARK_REPORTS)], day, THRESHOLDS).rag is Rag.GREEN


def test_the_same_early_reports_are_red_against_the_straight_line() -> None:
    for day, _ in PARK_REPORTS:
        judged = performance([Figure(PARK_LINE, PARK_REPORTS)], day, THRESHOLDS)
        assert judged.rag is Rag.RED and judged.shortfall_percent > 25


def test_a_profile_is_joined_by_straight_lines_and_holds_the_target_after_the_deadline() -> None:
    assert PARK_PROFILE.expected_at(date(2012, 4, 1)) == 0
    assert PARK_PROFILE.expected_at(date(2012, 10, 1)) == 40
    assert PARK_PROFILE.expected_at(date(2013, 1, 1)) == Decimal(40) + Decimal(60) * Decimal(92) / Decimal(182)
    assert PARK_PROFILE.expected_at(date(2015, 1, 1)) == 600
    assert PARK_PROFILE.expected_at(date(2011, 1, 1)) == 0


def test_a_profile_point_outside_the_baseline_to_target_span_is_refused() -> None:
    wrong = Trajectory(date(2012, 4, 1), Decimal(0), date(2014, 3, 31), Decimal(600),
                       profile=((date(2014, 6, 1), Decimal(600)), (date(2012, 10, 1), Decimal(1)),
                                (date(2012, 10, 1), Decimal(2))))
    fields = [p["field"] for p in profile_problems(wrong)]
    assert fields == ["profile[0].on", "profile[2].on"]


def test_the_forecast_is_linear_from_the_last_two_reports() -> None:
    judged = performance([Figure(PARK_LINE, PARK_REPORTS)], date(2013, 4, 1), THRESHOLDS)
    forecast = judged.forecast
    assert forecast is not None and forecast.method is ForecastMethod.LINEAR_FROM_LAST_TWO_REPORTS
    # 90 jobs in 182 days, 364 days more to the deadline: 150 + 90 x 364 / 182 = 330.
    assert forecast.value == (Decimal(150) + Decimal(90) / Decimal(182) * Decimal(364)).quantize(Decimal("0.01"))
    assert forecast.at == date(2014, 3, 31)


def test_the_forecast_from_one_report_runs_from_the_baseline() -> None:
    judged = performance([Figure(PARK_LINE, PARK_REPORTS[:1])], date(2012, 10, 1), THRESHOLDS)
    assert judged.forecast is not None
    assert judged.forecast.method is ForecastMethod.LINEAR_FROM_BASELINE_AND_ONLY_REPORT
    assert judged.forecast.value == (Decimal(60) / Decimal(183) * Decimal(729)).quantize(Decimal("0.01"))
    nothing = performance([Figure(PARK_LINE)], date(2012, 10, 1), THRESHOLDS).forecast
    assert nothing is not None and nothing.value is None and nothing.method is ForecastMethod.NONE_YET


def test_a_figure_is_stale_when_its_latest_report_is_older_than_its_interval() -> None:
    figure = Figure(PARK_LINE, PARK_REPORTS)
    assert not performance([figure], date(2013, 7, 1), THRESHOLDS).stale  # three months to the day: not yet
    late = performance([figure], date(2013, 7, 2), THRESHOLDS)
    assert late.stale and late.status == STALE and late.latest_reported_on == date(2013, 4, 1)
    annual = performance([figure], date(2013, 7, 2), THRESHOLDS, interval=ReportingInterval.ANNUAL)
    assert not annual.stale and annual.status == annual.rag.value


def test_a_figure_never_reported_is_stale_one_interval_after_its_baseline() -> None:
    assert not performance([Figure(PARK_LINE)], date(2012, 7, 1), THRESHOLDS).stale
    assert performance([Figure(PARK_LINE)], date(2012, 7, 2), THRESHOLDS).stale


def test_direction_of_travel_compares_with_the_report_before_or_the_date_asked() -> None:
    judged = performance([Figure(PARK_PROFILE, PARK_REPORTS)], date(2013, 4, 1), THRESHOLDS)
    # -50 % at the first report (60 of 40 expected), -50 % at the second (150 of 100): steady.
    assert judged.direction is DirectionOfTravel.STEADY
    line = performance([Figure(PARK_LINE, PARK_REPORTS)], date(2013, 4, 1), THRESHOLDS)
    assert line.direction is DirectionOfTravel.IMPROVING  # 60.2 % short, then 49.8 % short
    since = performance([Figure(PARK_LINE, PARK_REPORTS)], date(2013, 4, 1), THRESHOLDS, since=date(2012, 12, 1))
    assert since.direction is DirectionOfTravel.IMPROVING


def test_weights_weigh_figures_and_only_a_single_figure_has_one_forecast() -> None:
    full = Figure(PARK_LINE, ((date(2013, 4, 1), Decimal(300)),))
    half = Figure(PARK_LINE, ((date(2013, 4, 1), Decimal(0)),), weight=Decimal("0.5"))
    judged = performance([full, half], date(2013, 4, 1), THRESHOLDS)
    expected = PARK_LINE.expected_at(date(2013, 4, 1))
    shortfall_full = (expected - 300) / expected * 100
    assert judged.shortfall_percent == ((shortfall_full + Decimal(50)) / Decimal("1.5")).quantize(Decimal("0.01"))
    assert judged.forecast is None and len(judged.figures) == 2
