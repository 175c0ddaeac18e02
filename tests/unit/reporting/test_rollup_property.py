"""The roll-up, for any tree of shares, projects and reports, through the real project aggregate and reporting's
projection: each share's actual, the county's actual and the county's figure at any date equal the plain sums
written here (for a ratio, the sum of the numerators over the sum of the denominators), and no figure the API
accepts makes the roll-up or its judging fail (#15 part 1)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.reporting.delivery import rollup
from shared.performance import STALE
from tests.unit.projects.conftest import LEAD, THRESHOLDS, TODAY, jobs_outcome, open_project, tasking
from tests.unit.reporting.test_profiled_figures import _county, _with_projects

START = date(2012, 4, 1)
_VALUES = st.one_of(st.integers(min_value=0, max_value=2000), st.integers(min_value=0, max_value=10**14 - 1))
_REPORTS = st.lists(st.tuples(st.integers(min_value=1, max_value=640), _VALUES), max_size=3)
_PROJECTS = st.lists(st.tuples(st.sampled_from(["1", "0.5"]), st.integers(min_value=0, max_value=100), _REPORTS),
                     min_size=0, max_size=2)
_DISTRICTS = st.dictionaries(st.sampled_from(["worcester", "wychavon", "malvern-hills"]),
                             st.tuples(st.integers(min_value=1, max_value=10**6), _PROJECTS), min_size=1, max_size=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_DISTRICTS, asked=st.integers(min_value=0, max_value=700))
def test_the_county_figure_is_the_plain_sum_of_its_shares_credits(
        tree: dict[str, tuple[int, list[tuple[str, int, list[tuple[int, int]]]]]], asked: int) -> None:
    history, target, taskings = _county({d: Decimal(share) for d, (share, _) in tree.items()})
    projects, expected_share, expected_at = [], {}, {}
    on = START + timedelta(days=asked)
    for district, (_, planned) in tree.items():
        known = tasking(tasking_id=taskings[district], district=district)
        expected_share[district] = Decimal(0)
        expected_at[district] = Decimal(0)
        for weight, baseline, reports in planned:
            project = open_project(known, district=district, outcomes=[jobs_outcome(
                known.id, baseline_value=Decimal(baseline), baseline_date=START, target_value=Decimal(baseline + 600),
                target_date=date(2014, 3, 31), weight=Decimal(weight))])
            latest = latest_by_then = None
            for offset, value in sorted({o: v for o, v in reports}.items()):
                day = START + timedelta(days=offset)
                project.report_progress(LEAD, reported_on=day, values={"jobs": Decimal(value)}, narrative="n",
                                        thresholds=THRESHOLDS, today=TODAY)
                latest = Decimal(value)
                if day <= on:
                    latest_by_then = Decimal(value)
            if latest is not None:
                expected_share[district] += Decimal(weight) * (latest - baseline)
            if latest_by_then is not None:
                expected_at[district] += Decimal(weight) * (latest_by_then - baseline)
            projects.append(project)
    store = _with_projects(history, *projects)

    [county] = rollup.rollups(store)
    actual = {s["district"]: s["actual"] for s in county["shares"]}
    assert actual == expected_share
    assert county["actual"] == sum(expected_share.values(), Decimal(0))
    assert county["tasked"] == sum((Decimal(share) for share, _ in tree.values()), Decimal(0))

    judged = rollup.performances(store, None, on, THRESHOLDS)[str(target)]
    assert judged["total"].figures[0].actual == sum(expected_at.values(), Decimal(0))
    for district, tasking_id in taskings.items():
        share = judged["shares"][str(tasking_id)]
        assert share.figures[0].actual == expected_at[district]
        assert share.status in ("green", "amber", "red", STALE)


_PARTS = st.integers(min_value=1, max_value=10**9).flatmap(
    lambda denominator: st.tuples(st.integers(min_value=0, max_value=denominator), st.just(denominator)))
_RATIO_REPORTS = st.lists(st.tuples(st.integers(min_value=1, max_value=640), _PARTS), max_size=3)
_RATIO_PROJECTS = st.lists(st.tuples(st.sampled_from(["1", "0.5"]), _RATIO_REPORTS), min_size=0, max_size=2)
_RATIO_DISTRICTS = st.dictionaries(st.sampled_from(["worcester", "wychavon", "malvern-hills"]),
                                   st.tuples(st.integers(min_value=1, max_value=100), _RATIO_PROJECTS),
                                   min_size=1, max_size=3)
RATIO = "percent (ratio)"


def _plain_ratio(parts: list[tuple[Decimal, Decimal, Decimal]]) -> Decimal | None:
    """sum(weight x numerator) / sum(weight x denominator) x 100, written out; None with nothing reported."""
    numerators = sum((w * n for w, n, _ in parts), Decimal(0))
    denominators = sum((w * d for w, _, d in parts), Decimal(0))
    return None if denominators == 0 else numerators / denominators * 100


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_RATIO_DISTRICTS, asked=st.integers(min_value=0, max_value=700))
def test_the_county_ratio_is_the_sum_of_the_numerators_over_the_sum_of_the_denominators(
        tree: dict[str, tuple[int, list[tuple[str, list[tuple[int, tuple[int, int]]]]]]], asked: int) -> None:
    history, target, taskings = _county({d: Decimal(share) for d, (share, _) in tree.items()},
                                        target_value=Decimal(70), baseline=Decimal(65), unit=RATIO)
    projects, latest_parts, parts_then = [], {}, {}
    on = START + timedelta(days=asked)
    for district, (_, planned) in tree.items():
        known = tasking(tasking_id=taskings[district], district=district, unit=RATIO)
        latest_parts[district], parts_then[district] = [], []
        for weight, reports in planned:
            project = open_project(known, district=district, outcomes=[jobs_outcome(
                known.id, id="employed", unit=RATIO, baseline_value=Decimal(65), baseline_date=START,
                target_value=Decimal(70), target_date=date(2014, 3, 31), weight=Decimal(weight))])
            latest = by_then = None
            for offset, (numerator, denominator) in sorted({o: p for o, p in reports}.items()):
                day = START + timedelta(days=offset)
                project.report_progress(LEAD, reported_on=day, values={}, narrative="n", thresholds=THRESHOLDS,
                                        today=TODAY, parts={"employed": (Decimal(numerator), Decimal(denominator))})
                latest = (Decimal(weight), Decimal(numerator), Decimal(denominator))
                if day <= on:
                    by_then = latest
            if latest is not None:
                latest_parts[district].append(latest)
            if by_then is not None:
                parts_then[district].append(by_then)
            projects.append(project)
    store = _with_projects(history, *projects)

    [county] = rollup.rollups(store)
    everything = [p for parts in latest_parts.values() for p in parts]
    assert county["actual"] == _plain_ratio(everything)
    assert county["tasked"] is None  # a ratio's shares are never summed
    for share in county["shares"]:
        assert share["actual"] == (_plain_ratio(latest_parts[share["district"]]) or 0)

    judged = rollup.performances(store, None, on, THRESHOLDS)[str(target)]
    then = [p for parts in parts_then.values() for p in parts]
    expected_then = _plain_ratio(then)
    assert judged["total"].figures[0].actual == (expected_then if expected_then is not None else Decimal(65))
    for district, tasking_id in taskings.items():
        share = judged["shares"][str(tasking_id)]
        expected = _plain_ratio(parts_then[district])
        assert share.figures[0].actual == (expected if expected is not None else Decimal(65))
        assert share.status in ("green", "amber", "red", STALE)
