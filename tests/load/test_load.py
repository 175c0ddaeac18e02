"""The one-minute load run of CI: ``bench.load`` at 20 commands/s (and as many reads) for 60 s through every
service's own web and worker processes on real Kafka and PostgreSQL; nothing accepted may be lost or doubled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.load import report_text, run

pytestmark = [pytest.mark.load, pytest.mark.timeout(300)]

RATE = 20.0
SECONDS = 60.0


def test_a_minute_of_mixed_load_loses_nothing(tmp_path: Path, kafka_bootstrap: str, postgres_url: str,
                                              say: Callable[[str], None]) -> None:
    result = run(kafka_bootstrap, postgres_url, rate=RATE, duration=SECONDS, reads=1.0, threads=16, work=tmp_path,
                 quiet=True)
    say(report_text(result))
    assert result.reconciled, result.differences
    assert result.lost == 0
    assert result.command_errors == 0 and not result.refused, result.refused
    assert result.commands_accepted >= 0.8 * RATE * SECONDS  # the rate was kept
