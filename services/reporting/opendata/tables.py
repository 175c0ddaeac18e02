"""The open-data read model's tables: released periods, the projects' public facts and their reported figures."""

from __future__ import annotations

from services.reporting.declaration import Table

RELEASES = Table(
    "open_releases",
    "starts_on TEXT NOT NULL, ends_on TEXT NOT NULL, released_at TEXT NOT NULL, body TEXT NOT NULL,"
    " decided_on TEXT NOT NULL, reason TEXT NOT NULL, reference TEXT, decision TEXT NOT NULL,"
    " PRIMARY KEY (starts_on, ends_on)")
"""``decision`` is the whole decision (JSON), so that only a release that resolves to a recorded quorate meeting or
a scheme of delegation publishes its period."""
PROJECTS = Table(
    "open_projects",
    "project_id TEXT PRIMARY KEY, title TEXT NOT NULL, district TEXT NOT NULL, lead_partner TEXT NOT NULL,"
    " outcomes TEXT NOT NULL")
PROGRESS = Table(
    "open_progress",
    "project_id TEXT NOT NULL, version INTEGER NOT NULL, reported_on TEXT NOT NULL, outcome_id TEXT NOT NULL,"
    " actual TEXT NOT NULL, rag TEXT NOT NULL, shortfall_percent TEXT NOT NULL, correction INTEGER NOT NULL,"
    " numerator TEXT, denominator TEXT, PRIMARY KEY (project_id, version, outcome_id)",
    indexes=(("reported_on", "(reported_on)"),))
"""``numerator``, ``denominator``: a ratio outcome's parts (``actual`` is their ratio in its unit); NULL otherwise."""

WITHDRAWALS = Table(
    "open_withdrawals",
    "project_id TEXT NOT NULL, version INTEGER NOT NULL, reported_on TEXT NOT NULL, corrected_to TEXT,"
    " recorded_at TEXT NOT NULL, PRIMARY KEY (project_id, version)")
"""Reports withdrawn or corrected as mistakes (their figures of that date, recorded before, are published no more);
the reason is the lead partner's own words, so it stays out of open data."""

TABLES = (RELEASES, PROJECTS, PROGRESS, WITHDRAWALS)
