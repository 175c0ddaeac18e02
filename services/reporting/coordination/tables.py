"""The coordination read model's tables: taskings and the links of their retasking chains, the decisions taken on
them, meetings, memberships, partners' district commitments and agreed actions."""

from __future__ import annotations

from services.reporting.declaration import Table, Tracked

_CHANGED_BY = "changed_by TEXT NOT NULL, changed_by_organisation TEXT NOT NULL, changed_by_role TEXT NOT NULL"

TASKINGS = Table(
    "taskings",
    "id TEXT NOT NULL, version INTEGER NOT NULL, target_id TEXT NOT NULL, theme_group TEXT NOT NULL,"
    " district TEXT NOT NULL, share TEXT NOT NULL, unit TEXT NOT NULL, deadline TEXT NOT NULL,"
    " lead_partner TEXT NOT NULL, commissioning_level TEXT NOT NULL, status TEXT NOT NULL, retasked_from TEXT,"
    " achieved TEXT, status_reason TEXT, " + _CHANGED_BY + ", decision TEXT,"
    " valid_from TEXT NOT NULL, valid_to TEXT, in_force_from TEXT NOT NULL, PRIMARY KEY (id, version)",
    temporal=True, indexes=(("current", "(valid_to, district)"),),
    tracked=Tracked("tasking", "{district}: {share} {unit}", districts=("district",), groups=("theme_group",)))
# One row per assignment change (issue or retasking): the links of the retasking chains.
TASKING_CHANGES = Table(
    "tasking_changes",
    "tasking_id TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, district TEXT NOT NULL,"
    " lead_partner TEXT NOT NULL, share TEXT NOT NULL, deadline TEXT NOT NULL, previous_district TEXT,"
    " previous_lead_partner TEXT, previous_share TEXT, previous_deadline TEXT, retasked_from TEXT,"
    " decision TEXT, decision_key TEXT, " + _CHANGED_BY + ", at TEXT NOT NULL, in_force_from TEXT NOT NULL,"
    " PRIMARY KEY (tasking_id, version)",
    indexes=(("from", "(retasked_from)"),))
COORDINATION_DECISIONS = Table(
    "coordination_decisions",
    "subject TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,"
    " decided_on TEXT NOT NULL, reason TEXT NOT NULL, meeting_id TEXT, reference TEXT, " + _CHANGED_BY + ","
    " at TEXT NOT NULL, PRIMARY KEY (subject, version)",
    indexes=(("body", "(body, decided_on)"),))
MEETINGS = Table(
    "meetings",
    "id TEXT PRIMARY KEY, body TEXT NOT NULL, body_kind TEXT NOT NULL, held_on TEXT NOT NULL,"
    " present TEXT NOT NULL, title TEXT NOT NULL, " + _CHANGED_BY + ", at TEXT NOT NULL")
MEMBERSHIPS = Table(
    "memberships",
    "id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, body_kind TEXT NOT NULL,"
    " organisation TEXT NOT NULL, nominated_by TEXT, is_member INTEGER NOT NULL, reason TEXT,"
    " " + _CHANGED_BY + ", decision TEXT, valid_from TEXT NOT NULL, valid_to TEXT,"
    " in_force_from TEXT NOT NULL, PRIMARY KEY (id, version)",
    temporal=True, indexes=(("current", "(valid_to, body)"),),
    tracked=Tracked("membership", "{organisation} at {body}", districts=("body",), groups=("body",)))
DISTRICT_COMMITMENTS = Table(
    "district_commitments",
    "id TEXT NOT NULL, version INTEGER NOT NULL, organisation TEXT NOT NULL, districts TEXT NOT NULL,"
    " " + _CHANGED_BY + ", valid_from TEXT NOT NULL, valid_to TEXT,"
    " in_force_from TEXT NOT NULL, PRIMARY KEY (id, version)",
    temporal=True, tracked=Tracked("district commitment", "{organisation}"))
AGREED_ACTIONS = Table(
    "agreed_actions",
    "id TEXT NOT NULL, version INTEGER NOT NULL, meeting_id TEXT NOT NULL, body TEXT NOT NULL,"
    " description TEXT NOT NULL, owner TEXT NOT NULL, due_on TEXT NOT NULL, done_on TEXT, note TEXT,"
    " " + _CHANGED_BY + ", valid_from TEXT NOT NULL, valid_to TEXT,"
    " in_force_from TEXT NOT NULL, PRIMARY KEY (id, version)",
    temporal=True, indexes=(("current", "(valid_to, due_on)"),),
    tracked=Tracked("agreed action", "{description}", districts=("body",), groups=("body",)))
PUBLISHED_PACKS = Table(
    "published_scrutiny_packs",
    "id TEXT PRIMARY KEY, committee TEXT NOT NULL, meeting_on TEXT NOT NULL, starts_on TEXT NOT NULL,"
    " ends_on TEXT NOT NULL, districts TEXT NOT NULL, theme_groups TEXT NOT NULL, records_as_of TEXT NOT NULL,"
    " positions TEXT NOT NULL, sha256 TEXT NOT NULL, renderer_version TEXT NOT NULL, papers_public INTEGER NOT NULL,"
    " decision TEXT NOT NULL, " + _CHANGED_BY + ", at TEXT NOT NULL")
"""Scrutiny packs published for committee meetings (``ScrutinyPackPublished``): what reporting rebuilds and serves
at the pack's URL."""

PARTNERSHIP_RULES = Table(
    "partnership_rules",
    "id TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, bodies TEXT NOT NULL, districts TEXT NOT NULL,"
    " schemes_of_delegation TEXT NOT NULL, green_within_percent REAL NOT NULL, amber_within_percent REAL NOT NULL,"
    " max_agreed_priorities_per_district INTEGER NOT NULL, " + _CHANGED_BY + ", decision TEXT,"
    " valid_from TEXT NOT NULL, valid_to TEXT, in_force_from TEXT NOT NULL, PRIMARY KEY (id, version)",
    temporal=True, tracked=Tracked("partnership rules", "{name}"))
"""The partnership's rules (tasking's ``Partnership``): one entity, a version per founding or change, so a committee
sees a quorum, district, scheme, RAG threshold or priority limit changed like any other entity. Bodies, districts
and schemes are JSON objects by id."""

TABLES = (TASKINGS, TASKING_CHANGES, COORDINATION_DECISIONS, MEETINGS, MEMBERSHIPS, DISTRICT_COMMITMENTS,
          AGREED_ACTIONS, PUBLISHED_PACKS, PARTNERSHIP_RULES)
