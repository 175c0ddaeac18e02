"""A service's processes starting together each make sure of its PostgreSQL schema, and none fails for the other."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shared.readstore import ensure_schema
from shared.settings import Settings
from tests.harness import settings_for


@pytest.mark.integration
def test_processes_that_create_one_schema_at_once_all_start(postgres_url: str, tmp_path: Path) -> None:
    failures = list[Exception]()
    for _ in range(10):  # the window is narrow: ten systems, each a fresh schema, each with eight processes
        settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url)
        start = threading.Barrier(8)

        def starting_process(settings: Settings, start: threading.Barrier) -> None:
            start.wait()
            try:
                ensure_schema(settings, "priorities")
            except Exception as error:  # any failure is the finding
                failures.append(error)

        processes = [threading.Thread(target=starting_process, args=(settings, start)) for _ in range(8)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
    assert failures == []
