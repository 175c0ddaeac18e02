"""The RAG thresholds are a rule of record (#23): when the board narrows green from within 10 % to within 5 % by a
decision of 1 July 2012, a report dated before it is judged on the thresholds before (green at 8 % short), one
dated on or after it on the new ones (amber at the same shortfall), whenever either was entered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.projects.application import ProjectsApplication
from shared.contracts import Decision
from shared.contracts.projects import Rag
from shared.contracts.tasking import RagThresholdsChanged
from tests.copies import BOARD_TABLE, OFFICER, TaskingFeed
from tests.harness import settings_for
from tests.unit.projects.conftest import LEAD
from tests.unit.projects.test_delivery_index import known, opened

NARROWED_ON = date(2012, 7, 1)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[ProjectsApplication]:
    application = ProjectsApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def _narrow(app: ProjectsApplication) -> None:
    feed = TaskingFeed(app.known_taskings.store)
    for organisation in BOARD_TABLE:
        feed.seat("worcestershire-partnership", organisation)
    board = Decision(**feed.meeting("worcestershire-partnership", NARROWED_ON, BOARD_TABLE, "Green means on track"))
    feed.partnership_change(2, RagThresholdsChanged(
        actor=OFFICER, correlation_id="c", decision=board, green_within_percent=5, amber_within_percent=20,
        previous_green_within_percent=10, previous_amber_within_percent=25))


def test_a_report_is_judged_by_the_rag_thresholds_in_force_on_its_own_date(app: ProjectsApplication) -> None:
    first, second = opened(app, known(app).id), opened(app, known(app).id)
    _narrow(app)
    assert app.thresholds_on(date(2012, 6, 30)).green_within_percent == 10
    assert app.thresholds_on(NARROWED_ON).green_within_percent == 5
    # 0 -> 1,000 jobs over 2012 (a leap year): 494.5 due on 30 June, 500 on 2 July; 8 % short on each day.
    before = app.report_progress(LEAD, app.project(first), reported_on=date(2012, 6, 30),
                                 values={"jobs": Decimal("454.94")}, narrative="Recruiting")
    after = app.report_progress(LEAD, app.project(second), reported_on=date(2012, 7, 2),
                                values={"jobs": Decimal(460)}, narrative="Recruiting")
    assert before.derived_rag is Rag.GREEN
    assert after.derived_rag is Rag.AMBER
