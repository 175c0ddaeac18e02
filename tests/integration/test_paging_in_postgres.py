"""The paging tests of ``tests/unit/reporting/test_relay_paging.py`` and the decision log's of
``test_decision_log_paged.py`` on PostgreSQL: a page read in the database (row-value comparisons, counts, the page
by key, in one REPEATABLE READ snapshot; the decision's JSON read with PostgreSQL's operators) is the page the
specification's algorithm gives over the whole list in memory, with the same refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.readstore import ReadStore
from tests.harness import settings_for
from tests.unit.reporting.test_decision_log_paged import (  # noqa: F401  (collected here, on this module's fixture)
    fill,
    test_pages_of_the_log_walk_it_once_in_order,
    test_the_database_keeps_what_the_rule_keeps_in_order,
)
from tests.unit.reporting.test_relay_paging import (  # noqa: F401  (collected here, on this module's fixture)
    Pager,
    stored_rows,
    test_after_and_before_bound_a_window_that_first_or_last_then_cut,
    test_bad_paging_is_a_bad_user_input_error_naming_its_argument,
    test_every_window_is_the_same_in_the_database_as_in_memory,
    test_last_alone_is_the_end_of_the_list,
    test_walking_forward_and_backward_meets_every_row_once_in_order,
)


@pytest.fixture
def postgres_store(postgres_url: str, tmp_path: Path) -> Iterator[ReadStore]:
    made = ReadStore(settings_for(data_dir=tmp_path, postgres_url=postgres_url), "paging")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(postgres_store: ReadStore) -> Pager:
    return stored_rows(postgres_store)


@pytest.fixture
def store(postgres_store: ReadStore) -> ReadStore:
    return fill(postgres_store)
