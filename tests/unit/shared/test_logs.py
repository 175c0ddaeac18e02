"""The JSON log handler follows ``sys.stderr``: a command run in-process leaves no handler on a closed stream."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from shared import logs


@pytest.fixture
def configured() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.configure()
    yield
    root.handlers[:], root.level = handlers, level


def test_a_record_goes_to_the_stderr_of_the_moment_it_is_logged(configured: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logging.getLogger("partnership.test").warning("to the first")
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("partnership.test").warning("to the second")
    assert [json.loads(line)["message"] for line in first.getvalue().splitlines()] == ["to the first"]
    assert [json.loads(line)["message"] for line in second.getvalue().splitlines()] == ["to the second"]


def test_a_stream_closed_after_configure_breaks_no_later_record(configured: None, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    seen_at_configure = io.StringIO()
    monkeypatch.setattr(sys, "stderr", seen_at_configure)
    logs.configure()
    seen_at_configure.close()
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)
    logging.getLogger("kafka.net").error("Connection failed: %s", "refused")
    assert json.loads(later.getvalue())["message"] == "Connection failed: refused"
