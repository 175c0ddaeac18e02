"""Reconciliation: every service's event store against what its topic holds and against every read model.

The oracle of the fault and load tests, and an operator's check after an incident. For each service it reads the
store (the truth), the topic (at-least-once: a relay may publish an event twice, never a different one) and each
consumer's tables, and reports every difference:

- an event in a store that its topic does not hold, or holds with other content (a per-aggregate digest over type,
  time, actor, correlation id and data, computed the same way from the store, the topic and the event log);
- a message on a topic that no store holds (a phantom);
- a consumer that has not seen every event of its topic (``seen_events``), or has not reached the end of it (stuck);
  a relay whose position lags its store;
- the reporting ``event_log`` missing or adding an event, or with another digest; ``event_counts`` (a counter, so a
  double application shows) differing from the store's count per type;
- a read-model row naming a version of an aggregate that no store holds; an entity with several current rows, or
  whose current row is not its newest, or several current in-force segments on one day; tasking's
  ``known_targets`` and projects' ``known_taskings`` behind the store;
- a good event (one a store holds) on a dead-letter topic. Garbage there is counted, not a difference.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.reporting.temporal import in_force_table
from shared.envelope import Envelope, MalformedMessage, decode, wrap
from shared.readstore import ReadStore
from shared.relay import passes_over, published_event
from shared.settings import Settings
from shared.transport import Transport

PAGE = 2000
Key = tuple[str, int]  # (aggregate id, version)


def _utc(moment: datetime | str) -> str:
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_digest(type_name: str, time: datetime | str, actor: str, organisation: str, role: str,
                 correlation_id: str, data: Any) -> str:
    """One event's content, the same whether read from a store, a topic or the event log."""
    canonical = json.dumps([type_name, _utc(time), actor, organisation, role, correlation_id, data],
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def envelope_digest(envelope: Envelope) -> str:
    return event_digest(envelope.type, envelope.time, envelope.actor, envelope.actororganisation,
                        envelope.actorrole, envelope.correlationid, envelope.data)


def aggregate_digests(events: dict[Key, str]) -> dict[str, str]:
    """A digest per aggregate over its events' digests in version order."""
    by_aggregate: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (subject, version), digest in events.items():
        by_aggregate[subject].append((version, digest))
    return {subject: hashlib.sha256("".join(f"{v}:{d}\n" for v, d in sorted(items)).encode()).hexdigest()
            for subject, items in by_aggregate.items()}


@dataclass
class Difference:
    where: str
    what: str
    count: int = 1
    examples: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        more = f" (e.g. {', '.join(self.examples[:3])})" if self.examples else ""
        return f"{self.where}: {self.what}{more}"


@dataclass
class ServiceFacts:
    """One service's store as the truth: event digests by (aggregate id, version) and counts by type."""

    name: str
    topic: str
    events: dict[Key, str] = field(default_factory=dict)
    types: dict[Key, str] = field(default_factory=dict)
    head: int = 0

    def last_versions(self) -> dict[str, int]:
        last: dict[str, int] = {}
        for subject, version in self.events:
            last[subject] = max(version, last.get(subject, 0))
        return last


@dataclass
class Report:
    differences: list[Difference] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences

    def differ(self, where: str, what: str, keys: list[Any] | None = None) -> None:
        keys = keys or []
        self.differences.append(Difference(where, what, max(len(keys), 1), [str(k) for k in keys[:5]]))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts,
                "differences": [{"where": d.where, "what": d.what, "count": d.count, "examples": d.examples}
                                for d in self.differences]}


def read_topic(transport: Transport, topic: str, timeout: float = 30.0) -> Iterator[tuple[int, int, bytes]]:
    """Every message on ``topic`` up to its end as of now: (partition, offset, value)."""
    import time

    ends = transport.end_offsets(topic)
    remaining = {p: end for p, end in ends.items() if end > 0}
    if not remaining:
        return
    reader = transport.reader(topic, dict.fromkeys(ends, 0))
    deadline = time.monotonic() + timeout
    try:
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout:.0f}s")
            for message in reader.poll(PAGE, 0.5):
                partition, offset = message.position.partition, message.position.offset
                if offset >= ends.get(partition, 0):
                    continue
                if offset == ends[partition] - 1:
                    remaining.pop(partition, None)
                yield partition, offset, message.value
    finally:
        reader.close()


class Reconciler:
    """Reads a running (or stopped) system's stores, topics and read models through the composition root."""

    def __init__(self, settings: Settings) -> None:
        from services.runtime import System

        self.settings = settings
        self.system = System(settings)
        if self.system.read_model is not None:
            # Compared as stored and published: free text sealed, as the topics carry it (shared.audit.people).
            self.system.read_model.store.opener = None

    def close(self) -> None:
        self.system.close()

    # -- the truth ---------------------------------------------------------------------------------------------
    def store_facts(self) -> dict[str, ServiceFacts]:
        facts: dict[str, ServiceFacts] = {}
        for name, app in self.system.applications.items():
            spec = self.system.specs[name]
            service = ServiceFacts(name, self.settings.topic(spec.topic))
            position = 0
            while page := app.recorder.select_notifications(start=position, limit=PAGE, inclusive_of_start=False):
                for notification in page:
                    envelope = wrap(published_event(app.mapper, notification), source=f"/services/{name}")
                    if passes_over(envelope.type):
                        continue  # never on a topic, by design: not a difference
                    key = (envelope.subject, envelope.sequence)
                    service.events[key] = envelope_digest(envelope)
                    service.types[key] = envelope.type
                position = page[-1].id
            service.head = position
            facts[name] = service
        return facts

    # -- the whole check ---------------------------------------------------------------------------------------
    def run(self) -> Report:
        report = Report()
        facts = self.store_facts()
        by_topic = {f.topic: f for f in facts.values()}
        every_event: dict[Key, str] = {k: d for f in facts.values() for k, d in f.events.items()}
        report.counts["events"] = {name: len(f.events) for name, f in facts.items()}
        report.counts["aggregates"] = {name: len(f.last_versions()) for name, f in facts.items()}
        report.counts["store_digest"] = {
            name: hashlib.sha256("".join(f"{a}:{d}\n" for a, d in sorted(aggregate_digests(f.events).items()))
                                 .encode()).hexdigest()[:16] for name, f in facts.items()}
        for service in facts.values():
            self._check_topic(report, service)
        self._check_relays(report, facts)
        self._check_consumers(report, by_topic)
        self._check_event_log(report, facts)
        self._check_read_model_versions(report, facts)
        self._check_known_tables(report, facts)
        self._check_dead_letters(report, every_event)
        return report

    def _check_topic(self, report: Report, service: ServiceFacts) -> None:
        seen: Counter[Key] = Counter()
        digests: dict[Key, str] = {}
        garbage = 0
        for _, _, value in read_topic(self.system.transport, service.topic):
            try:
                envelope = decode(value)
            except MalformedMessage:
                garbage += 1
                continue
            key = (envelope.subject, envelope.sequence)
            seen[key] += 1
            digest = envelope_digest(envelope)
            if key in digests and digests[key] != digest:
                report.differ(service.topic, "one event published twice with different content", [key])
            digests[key] = digest
        where = f"{service.topic} (topic)"
        missing = sorted(set(service.events) - set(seen))
        phantom = sorted(set(seen) - set(service.events))
        if missing:
            report.differ(where, f"{len(missing)} stored event(s) never published", missing)
        if phantom:
            report.differ(where, f"{len(phantom)} published event(s) that the {service.name} store does not hold",
                          phantom)
        _compare_digests(report, where, service.events, digests)
        report.counts.setdefault("topic_messages", {})[service.topic] = sum(seen.values()) + garbage
        report.counts.setdefault("topic_redeliveries", {})[service.topic] = sum(n - 1 for n in seen.values())

    def _check_relays(self, report: Report, facts: dict[str, ServiceFacts]) -> None:
        for relay in self.system.relays:
            published = relay.app.process_recorder.max_tracking_id(relay.tracking_name) or 0
            head = facts[relay.app.service].head
            if published < head:
                report.differ(f"relay {relay.topic}", f"position {published} lags the store's head {head}")

    def _check_consumers(self, report: Report, by_topic: dict[str, ServiceFacts]) -> None:
        seen_by: dict[tuple[int, str], tuple[ReadStore, set[Key]]] = {}
        for consumer in self.system.consumers:
            where = f"consumer {consumer.name} on {consumer.topic}"
            ends = self.system.transport.end_offsets(consumer.topic)
            behind = {}
            for partition, end in ends.items():
                last = consumer._last_position(consumer._tracking_name(partition))
                done = 0 if last is None else last + 1
                if done < end:
                    behind[partition] = end - done
            if behind:
                report.differ(where, f"stuck or behind: {sum(behind.values())} message(s) not applied "
                                     f"(per partition {behind})")
            store: ReadStore | None = getattr(consumer, "store", None)
            upstream = by_topic.get(consumer.topic)
            if store is None or upstream is None:
                continue  # a policy runner: its effects are events in its own store, checked there
            # One consumer name may follow several topics (reporting): its seen events are their union.
            seen_by.setdefault((id(store), consumer.name), (store, set()))[1].update(upstream.events)
        for (_, name), (store, expected) in seen_by.items():
            rows = store.query("SELECT subject, version FROM seen_events WHERE consumer = ?", [name])
            seen = {(r["subject"], int(r["version"])) for r in rows}
            missing = sorted(expected - seen)
            phantom = sorted(seen - expected)
            where = f"consumer {name} ({store.schema})"
            if missing:
                report.differ(where, f"{len(missing)} event(s) never applied", missing)
            if phantom:
                report.differ(where, f"{len(phantom)} applied event(s) that no store holds", phantom)

    def _check_event_log(self, report: Report, facts: dict[str, ServiceFacts]) -> None:
        read_model = self.system.read_model
        if read_model is None:
            return
        where = "reporting event_log"
        logged: dict[Key, str] = {}
        for row in read_model.store.query(
                "SELECT subject, version, type, time, actor, actor_organisation, actor_role, correlation_id, data"
                " FROM event_log"):
            logged[(row["subject"], int(row["version"]))] = event_digest(
                row["type"], row["time"], row["actor"], row["actor_organisation"], row["actor_role"],
                row["correlation_id"], json.loads(row["data"]))
        stored = {k: d for f in facts.values() for k, d in f.events.items()}
        missing = sorted(set(stored) - set(logged))
        phantom = sorted(set(logged) - set(stored))
        if missing:
            report.differ(where, f"{len(missing)} event(s) missing", missing)
        if phantom:
            report.differ(where, f"{len(phantom)} event(s) no store holds", phantom)
        _compare_digests(report, where, stored, logged)
        counted = read_model.event_counts()
        truth = Counter(t for f in facts.values() for t in f.types.values())
        wrong = sorted(f"{t}: applied {counted.get(t, 0)}, stored {truth.get(t, 0)}"
                       for t in set(counted) | set(truth) if counted.get(t, 0) != truth.get(t, 0))
        if wrong:
            report.differ("reporting event_counts", "events applied a different number of times than stored", wrong)
        report.counts["event_log"] = len(logged)

    def _check_read_model_versions(self, report: Report, facts: dict[str, ServiceFacts]) -> None:
        """Every reporting table keyed by (aggregate id, version): no phantom version; temporal tables: one current
        row per entity, and it is the newest; their in-force segments: one current segment per entity and day."""
        read_model = self.system.read_model
        if read_model is None:
            return
        stored = {k for f in facts.values() for k in f.events}
        aggregates = {subject for subject, _ in stored}
        checked = 0
        tables = self._versioned_tables(read_model.store)
        segment_tables = {in_force_table(table) for table, _, temporal in tables if temporal}
        for table, id_column, temporal in tables:
            segments = table in segment_tables
            rows = read_model.store.query(
                f"SELECT {id_column} AS id, version{', valid_to' if temporal else ''}"
                f"{', in_force_from' if segments else ''} FROM {table}")
            phantom = sorted({(r["id"], int(r["version"])) for r in rows
                              if r["id"] in aggregates and (r["id"], int(r["version"])) not in stored})
            if phantom:
                report.differ(f"reporting {table}", f"{len(phantom)} row(s) for a version no store holds", phantom)
            checked += len(rows)
            if not temporal:
                continue
            if segments:  # an entity has a current segment per day it changed on: one each, never two
                self._check_segments(report, table, rows)
                continue
            newest: dict[str, int] = {}
            current: dict[str, list[int]] = defaultdict(list)
            for r in rows:
                newest[r["id"]] = max(int(r["version"]), newest.get(r["id"], 0))
                if r["valid_to"] is None:
                    current[r["id"]].append(int(r["version"]))
            doubled = sorted(i for i, versions in current.items() if len(versions) > 1)
            stale = sorted(i for i, versions in current.items() if len(versions) == 1 and versions[0] != newest[i])
            if doubled:
                report.differ(f"reporting {table}", f"{len(doubled)} entit(ies) with several current rows", doubled)
            if stale:
                report.differ(f"reporting {table}", f"{len(stale)} entit(ies) whose current row is not the newest",
                              stale)
        report.counts["read_model_rows_checked"] = checked

    @staticmethod
    def _check_segments(report: Report, table: str, rows: list[dict[str, Any]]) -> None:
        current = Counter((r["id"], r["in_force_from"]) for r in rows if r["valid_to"] is None)
        doubled = sorted({entity for (entity, _), n in current.items() if n > 1})
        if doubled:
            report.differ(f"reporting {table}", f"{len(doubled)} entit(ies) with several current segments on a day",
                          doubled)

    @staticmethod
    def _versioned_tables(store: ReadStore) -> list[tuple[str, str, bool]]:
        if store.postgres:
            rows = store.query("SELECT table_name AS t, column_name AS c FROM information_schema.columns"
                               " WHERE table_schema = ?", [store.schema])
        else:
            tables = store.query("SELECT name AS t FROM sqlite_master WHERE type = 'table'")
            rows = [{"t": t["t"], "c": c["name"]} for t in tables
                    for c in store.query(f"PRAGMA table_info({t['t']})")]
        columns: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            columns[row["t"]].add(row["c"])
        found: list[tuple[str, str, bool]] = []
        for table, names in sorted(columns.items()):
            if "version" not in names or table in {"seen_events"}:
                continue
            id_column = next((c for c in ("id", "subject", "project_id", "tasking_id") if c in names), None)
            if id_column is not None:
                found.append((table, id_column, "valid_to" in names))
        return found

    def _check_known_tables(self, report: Report, facts: dict[str, ServiceFacts]) -> None:
        """The upstream facts tasking and projects keep: each known entity at its newest upstream version."""
        checks = [("tasking", "known_targets", "priorities", ("priorities.Target",)),
                  ("projects", "known_taskings", "tasking", ("tasking.Tasking",))]
        for owner, table, upstream, prefixes in checks:
            app = self.system.applications.get(owner)
            source = facts.get(upstream)
            if app is None or source is None:
                continue
            store: ReadStore | None = getattr(app, "local", None) or getattr(
                getattr(app, "known_taskings", None), "store", None)
            if store is None:
                continue
            expected: dict[str, int] = {}
            for (subject, version), type_name in source.types.items():
                if type_name.startswith(prefixes):
                    expected[subject] = max(version, expected.get(subject, 0))
            known = {r["id"]: int(r["version"]) for r in store.query(f"SELECT id, version FROM {table}")}
            behind = sorted(f"{i}: {known.get(i)} < {v}" for i, v in expected.items() if known.get(i, 0) < v)
            phantom = sorted(set(known) - set(expected))
            if behind:
                report.differ(f"{owner} {table}", f"{len(behind)} row(s) missing or behind {upstream}", behind)
            if phantom:
                report.differ(f"{owner} {table}", f"{len(phantom)} row(s) {upstream} never recorded", phantom)

    def _check_dead_letters(self, report: Report, every_event: dict[Key, str]) -> None:
        dead_letter_topics = sorted({c.dead_letter_topic for c in self.system.consumers})
        good, garbage = [], 0
        for topic in dead_letter_topics:
            for _, _, value in read_topic(self.system.transport, topic):
                try:
                    envelope = decode(value)
                except MalformedMessage:
                    garbage += 1
                    continue
                key = (envelope.subject, envelope.sequence)
                if every_event.get(key) == envelope_digest(envelope):
                    good.append(f"{topic}: {key}")
                else:
                    garbage += 1
        if good:
            report.differ("dead-letter topics", f"{len(good)} good event(s) dead-lettered", good)
        report.counts["dead_letters"] = {"good": len(good), "garbage": garbage}


def _compare_digests(report: Report, where: str, truth: dict[Key, str], other: dict[Key, str]) -> None:
    """Per aggregate: its events present on both sides must carry the same content (the digest over them)."""
    differing = sorted({subject for (subject, version), digest in other.items()
                        if (subject, version) in truth and truth[(subject, version)] != digest})
    if differing:
        report.differ(where, f"{len(differing)} aggregate(s) whose events differ from the store's", differing)


def reconcile(settings: Settings, wait: float = 0.0) -> Report:
    """Reconcile once, or until there is no difference or ``wait`` seconds passed (to let a system converge)."""
    import time

    deadline = time.monotonic() + wait
    reconciler = Reconciler(settings)
    try:
        while True:
            report = reconciler.run()
            if report.ok or time.monotonic() >= deadline:
                return report
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
    finally:
        reconciler.close()
