"""``tests/unit/reporting/test_delivery_projects_paged.py`` on PostgreSQL: deliveryProjectsConnection's pages, read
in the database from the lateral as-of rows and the in-force segments, are the pages of the whole list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.readstore import ReadStore
from tests.harness import settings_for
from tests.unit.reporting.test_delivery_projects_paged import (  # noqa: F401  (collected here, on this fixture)
    load,
    test_a_walk_of_pages_meets_every_project_once_in_order,
    test_every_page_on_every_axis_and_filter_is_the_page_of_the_whole_list,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def store(postgres_url: str, tmp_path: Path) -> Iterator[ReadStore]:
    made = load(settings_for(data_dir=tmp_path, postgres_url=postgres_url))
    try:
        yield made
    finally:
        made.close()
