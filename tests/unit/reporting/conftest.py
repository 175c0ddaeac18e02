"""What the reporting unit tests share: a fresh reporting read model on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.reporting.projections import read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from shared.readstore import ReadStore
from tests.harness import settings_for


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ReportingReadModel]:
    """Every read model's tables in a new store (a test's own directory)."""
    store = ReadStore(settings_for(data_dir=tmp_path), "reporting")
    try:
        yield ReportingReadModel(store, read_model_ddl())
    finally:
        store.close()
