"""The strategy read model's tables: objectives, targets, district chapters and priorities, evidence, SCS reviews.

Every table: one row per (id, version), valid from the event's time until the next version's, with who changed it
and under which decision."""

from __future__ import annotations

from services.reporting.declaration import Table, Tracked

_ACCOUNTABLE = (" changed_by TEXT NOT NULL, changed_by_organisation TEXT NOT NULL, changed_by_role TEXT NOT NULL,"
                " decision TEXT, added_at TEXT NOT NULL, valid_from TEXT NOT NULL, valid_to TEXT,"
                " in_force_from TEXT NOT NULL,"
                " PRIMARY KEY (id, version)")
_LISTED = ("listed", "(added_at, id) WHERE valid_to IS NULL")
"""A page of a list as it is now (``objectivesConnection``, ``targetsConnection``: in the order added, then id) is
read from this index, ten rows for ten, not sorted out of every open row (1.3 ms at 3,000 rows, 5.5 at 30,000;
0.3 and 0.6 from the index)."""

OBJECTIVES = Table(
    "objectives",
    "id TEXT NOT NULL, version INTEGER NOT NULL, title TEXT NOT NULL, level TEXT NOT NULL, strategy TEXT NOT NULL,"
    " parent_id TEXT, status TEXT NOT NULL, status_reason TEXT," + _ACCOUNTABLE,
    temporal=True, indexes=(("current", "(valid_to, id)"), _LISTED), tracked=Tracked("objective", "{title}"))
TARGETS = Table(
    "targets",
    "id TEXT NOT NULL, version INTEGER NOT NULL, objective_id TEXT NOT NULL, metric TEXT NOT NULL,"
    " unit TEXT NOT NULL, baseline_value TEXT NOT NULL, baseline_date TEXT NOT NULL, target_value TEXT NOT NULL,"
    " deadline TEXT NOT NULL, data_source TEXT NOT NULL, owner_organisation TEXT NOT NULL, status TEXT NOT NULL,"
    " status_reason TEXT," + _ACCOUNTABLE,
    temporal=True, indexes=(("current", "(valid_to, objective_id)"), _LISTED), tracked=Tracked("target", "{metric}"))
DISTRICT_CHAPTERS = Table(
    "district_chapters",
    "id TEXT NOT NULL, version INTEGER NOT NULL, district TEXT NOT NULL, agreed_count INTEGER NOT NULL,"
    + _ACCOUNTABLE,
    temporal=True, indexes=(("current", "(valid_to, district)"),),
    tracked=Tracked("district chapter", "{district}", districts=("district",)))
DISTRICT_PRIORITIES = Table(
    "district_priorities",
    "id TEXT NOT NULL, version INTEGER NOT NULL, district TEXT NOT NULL, title TEXT NOT NULL,"
    " rationale TEXT NOT NULL, objective_id TEXT NOT NULL, evidence_refs TEXT NOT NULL, status TEXT NOT NULL,"
    " status_reason TEXT, reconfirmed_in TEXT," + _ACCOUNTABLE,
    temporal=True, indexes=(("current", "(valid_to, district)"),),
    tracked=Tracked("district priority", "{title}", districts=("district",)))
EVIDENCE = Table(
    "evidence",
    "id TEXT NOT NULL, version INTEGER NOT NULL, district TEXT NOT NULL, title TEXT NOT NULL,"
    " summary TEXT NOT NULL, source TEXT NOT NULL, evidence_date TEXT NOT NULL, figures TEXT NOT NULL,"
    " objective_ids TEXT NOT NULL, priority_ids TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT,"
    + _ACCOUNTABLE,
    temporal=True, indexes=(("current", "(valid_to, district)"),),
    tracked=Tracked("evidence", "{title}", districts=("district",)))
SCS_REVIEWS = Table(
    "scs_reviews",
    "id TEXT NOT NULL, version INTEGER NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,"
    " outstanding TEXT NOT NULL," + _ACCOUNTABLE,
    temporal=True, tracked=Tracked("SCS review", "SCS review {number}"))

TABLES = (OBJECTIVES, TARGETS, DISTRICT_CHAPTERS, DISTRICT_PRIORITIES, EVIDENCE, SCS_REVIEWS)
