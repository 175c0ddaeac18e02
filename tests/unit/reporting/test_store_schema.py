"""A reporting store made by other DDL than this code's (a release that added a column) is refused at start-up
with the command that rebuilds it, never left to fail at the first row that needs the column; a store this code
made, or rebuilt, opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.reporting.projections import read_model_ddl
from services.reporting.readmodel import DDL as EVENT_LOG_DDL
from services.reporting.readmodel import ReportingReadModel
from services.reporting.schema import ReadStoreOutdated, fingerprints
from shared.readstore import ReadStore
from tests.harness import settings_for

_OLD_TASKINGS = ("CREATE TABLE IF NOT EXISTS delivery_taskings (id TEXT NOT NULL, version INTEGER NOT NULL,"
                 " status TEXT NOT NULL, valid_from TEXT NOT NULL, valid_to TEXT, PRIMARY KEY (id, version))")


def _open(tmp_path: Path, ddl: list[str]) -> None:
    store = ReadStore(settings_for(data_dir=tmp_path), "reporting")
    try:
        ReportingReadModel(store, ddl)
    finally:
        store.close()


def test_a_store_made_by_this_code_opens_again(tmp_path: Path) -> None:
    _open(tmp_path, read_model_ddl())
    _open(tmp_path, read_model_ddl())


def test_a_store_whose_tables_differ_is_refused_naming_them_and_the_rebuild(tmp_path: Path) -> None:
    now = read_model_ddl()
    before = [_OLD_TASKINGS if s.startswith("CREATE TABLE IF NOT EXISTS delivery_taskings ") else s for s in now]
    assert before != now
    _open(tmp_path, before)
    with pytest.raises(ReadStoreOutdated) as refused:
        _open(tmp_path, now)
    assert "delivery_taskings" in str(refused.value) and "delivery_projects" not in str(refused.value)
    assert "partnership readmodel rebuild --into reporting" in str(refused.value)


def test_a_store_made_before_fingerprints_were_recorded_is_refused(tmp_path: Path) -> None:
    store = ReadStore(settings_for(data_dir=tmp_path), "reporting")
    try:
        store.migrate([*EVENT_LOG_DDL, *read_model_ddl()])  # as the previous release made it
        with pytest.raises(ReadStoreOutdated, match="records no fingerprint"):
            ReportingReadModel(store, read_model_ddl())
    finally:
        store.close()


def test_each_table_has_its_own_fingerprint() -> None:
    found = fingerprints([*EVENT_LOG_DDL, *read_model_ddl()])
    assert {"event_log", "event_counts", "delivery_taskings", "delivery_projects"} <= found.keys()
    assert found["delivery_taskings"] != fingerprints([_OLD_TASKINGS])["delivery_taskings"]
