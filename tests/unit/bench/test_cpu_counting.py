"""How ``bench.cpu`` counts a part's CPU between two snapshots, PostgreSQL's backends that end inside the window
included (their ticks move into the postmaster's reaped ticks when it waits for them)."""

from __future__ import annotations

import pytest

from bench.cpu import TICKS, cpu_seconds


def test_a_backend_that_ended_inside_the_window_is_counted_through_its_postmaster() -> None:
    # Postmaster 10 (its own ticks plus those it reaped), backend 11 lives on, backend 12 ends after 30 more ticks
    # (it had 50 at the start: 80 in all, which the postmaster holds as reaped once it has waited for it).
    before = {10: ("postgresql", 100), 11: ("postgresql", 200), 12: ("postgresql", 50)}
    after = {10: ("postgresql", 100 + 80), 11: ("postgresql", 260)}
    # The code before read no reaped ticks and counted live processes only: 60, the ended backend's 30 lost.
    assert cpu_seconds(before, after)["postgresql"] == pytest.approx((60 + 30) / TICKS)


def test_other_parts_count_per_process_from_zero_when_new() -> None:
    before = {20: ("web priorities", 300)}
    after = {20: ("web priorities", 350), 21: ("worker priorities", 25)}
    used = cpu_seconds(before, after)
    assert used == pytest.approx({"web priorities": 50 / TICKS, "worker priorities": 25 / TICKS})
