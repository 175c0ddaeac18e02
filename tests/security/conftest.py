"""Shared by the security tests: one embedded system (SQLite, embedded log) with its workers, and a way to put
counts in the test report whether or not output is captured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime import System
from tests.harness import Harness, settings_for


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    system = System(settings_for(data_dir=Path(tmp_path_factory.mktemp("security"))))
    system.start_workers()
    try:
        yield Harness(system)
    finally:
        system.close()


@pytest.fixture
def say(capsys: pytest.CaptureFixture[str]) -> object:
    """Print a line past output capture, so counts of what was tried are in every test run's output."""

    def write(text: str) -> None:
        with capsys.disabled():
            print(f"\n{text}", flush=True)

    return write
