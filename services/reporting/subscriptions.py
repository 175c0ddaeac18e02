"""Live updates: GraphQL subscriptions (``graphql-transport-ws``) fed by what the reporting projection commits.

The projection appends each change to the change feed in the transaction that writes the read model
(``services.reporting.change_feed``) and announces the commit. One ``Broadcaster`` per gateway process wakes on
that announcement (in the process: ``ChangeSignal``; from a worker process: PostgreSQL ``LISTEN``), reads the feed
once after the last position it read, and hands each new change to every subscriber that may see it: no
subscriber reads tables while live. A subscriber that gives ``after`` (the cursor of the last change it received)
first reads what it missed from the feed, once, up to where the broadcaster stands, then continues live; every
change is delivered once, in the feed's (commit) order, and only once its read-model rows are committed, so a query
made on receiving it sees them. Authentication is the ``connection_init`` payload's bearer token
(``CachingGraphQLRouter.on_ws_connect``); who sees which change is ``may_see``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting import change_feed
from services.reporting.change_feed import ChangeKind
from services.reporting.graphql_common import (
    Decision,
    IsAuthenticated,
    bad_input,
    decision_from,
    decode_cursor,
    encode_cursor,
    read_model,
)
from services.reporting.readmodel import ReportingReadModel
from shared.auth import Principal, Role

log = logging.getLogger(__name__)

UpdateKind = strawberry.enum(ChangeKind, name="UpdateKind",
                             description="What a live update announces.")

QUEUE_LIMIT = 10_000
"""Changes held for one subscriber that does not keep up; beyond it, it reads what it missed from the feed."""
FALLBACK_SECONDS = 2.0
"""While anyone is subscribed, the broadcaster also reads the feed this often (one read for the process, not per
subscriber): a lost LISTEN connection costs at most this much lag."""


@strawberry.type(description="A change the read model has just committed: a decision recorded, progress reported, "
                             "a project's RAG or a project's or tasking's status changed, a tasking issued or "
                             "retasked. Pass `cursor` as `after` to resume after it.")
class Update:
    cursor: str
    kind: UpdateKind  # type: ignore[valid-type]
    subject_id: strawberry.ID = strawberry.field(description="The aggregate the event changed (a project, a "
                                                             "tasking, ...): query it for its state now.")
    subject_type: str = strawberry.field(description="project, tasking or other.")
    version: int = strawberry.field(description="The aggregate's version the event made.")
    event_type: str
    occurred_at: datetime = strawberry.field(description="When the owning service recorded the event.")
    committed_at: datetime = strawberry.field(description="When the read model committed it.")
    district: str | None
    theme_group: str | None
    organisation: str | None = strawberry.field(description="The lead partner.")
    title: str | None
    rag: str | None
    previous_rag: str | None
    status: str | None
    previous_status: str | None
    decision: Decision | None
    position: strawberry.Private[int]

    @property
    def shared_key(self) -> str:
        """Names this change among all (its cursor holds the feed's epoch): subscribers alike share one answer to
        it (``graphql_execution.SharedEvents``)."""
        return self.cursor


def may_see(principal: Principal, district: str | None, theme_group: str | None, organisation: str | None) -> bool:
    """The subscriptions' one visibility rule, on the grants the commands authorize by (``shared.auth``): the
    partnership-wide roles see every change; a district's coordinator or programme manager its district's; a theme
    group's lead its group's; a partner officer its organisation's projects and taskings. A change of no district,
    group or organisation (a county-wide decision) is every signed-in role's. The public sees none (not open data)."""
    if principal.is_public:
        return False
    if any(principal.has(role) for role in (Role.PARTNERSHIP_OFFICER, Role.AUDITOR, Role.SCRUTINY_MEMBER)):
        return True
    if district is None and theme_group is None and organisation is None:
        return True
    if district is not None and district in {*principal.scopes(Role.DISTRICT_COORDINATOR),
                                             *principal.scopes(Role.PROGRAMME_MANAGER)}:
        return True
    if theme_group is not None and theme_group in principal.scopes(Role.THEME_GROUP_LEAD):
        return True
    return organisation is not None and principal.has(Role.PARTNER_OFFICER) and organisation in {
        principal.organisation, *principal.scopes(Role.PARTNER_OFFICER)}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def update_of(row: dict[str, Any], epoch: str) -> Update:
    return Update(
        cursor=encode_cursor([epoch, int(row["position"])]), kind=ChangeKind(row["kind"]),
        subject_id=strawberry.ID(row["subject"]), subject_type=row["subject_type"], version=int(row["version"]),
        event_type=row["event_type"], occurred_at=_moment(row["occurred_at"]),
        committed_at=_moment(row["committed_at"]), district=row["district"], theme_group=row["theme_group"],
        organisation=row["organisation"], title=row["title"], rag=row["rag"], previous_rag=row["previous_rag"],
        status=row["status"], previous_status=row["previous_status"], decision=decision_from(row["decision"]),
        position=int(row["position"]))


_OVERFLOW = object()


@dataclass(eq=False)
class Subscriber:
    wants: Callable[[Update], bool]
    head: int = 0
    """The broadcaster's position when it joined: it hands this subscriber every change after it."""
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    overflowed: bool = False

    def offer(self, update: Update) -> None:
        if self.overflowed or not self.wants(update):
            return
        if self.queue.qsize() >= QUEUE_LIMIT:  # it reads the rest from the feed (``updates``)
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(_OVERFLOW)
            return
        self.queue.put_nowait(update)


class Broadcaster:
    """One per gateway process and read model: reads the feed once per announcement, for every subscriber."""

    def __init__(self, model: ReportingReadModel) -> None:
        self.model = model
        self.store = model.store
        self.last = 0
        self.epoch = ""
        self._subscribers: set[Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._start_lock: asyncio.Lock | None = None
        self._stop_listening: Callable[[], None] | None = None
        self._listener_stop: threading.Event | None = None

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def subscribe(self, wants: Callable[[Update], bool]) -> Subscriber:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new event loop (a restarted server): start afresh
            self._loop, self._start_lock, self._task, self._subscribers = loop, asyncio.Lock(), None, set()
        assert self._start_lock is not None
        async with self._start_lock:
            if self._task is None or self._task.done():
                self.epoch = await asyncio.to_thread(change_feed.feed_epoch, self.store)
                self.last = await asyncio.to_thread(change_feed.head, self.store)
                self._wake = asyncio.Event()
                self._start_listening(loop)
                self._task = loop.create_task(self._run())
        subscriber = Subscriber(wants, head=self.last)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers and self._wake is not None:
            self._wake.set()  # the loop ends, and stops listening

    def _start_listening(self, loop: asyncio.AbstractEventLoop) -> None:
        wake = self._wake
        assert wake is not None

        def woken() -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(wake.set)

        self._stop_listening = self.model.changes.listen(woken)
        settings = self.store.settings
        if self.store.postgres and settings.database_url:
            from shared.relay import StoredSignal

            stop = self._listener_stop = threading.Event()
            signal = StoredSignal(settings.database_url, change_feed.notify_channel(self.store),
                                  fallback=FALLBACK_SECONDS)

            def listen() -> None:
                try:
                    while not stop.is_set():
                        signal.wait(stop)
                        woken()
                finally:
                    signal.close()

            threading.Thread(target=listen, name="subscriptions:listen", daemon=True).start()

    def _stop(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        if self._listener_stop is not None:
            self._listener_stop.set()
            self._listener_stop = None

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        try:
            while self._subscribers:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), FALLBACK_SECONDS)
                wake.clear()
                if not self._subscribers:
                    break
                try:
                    await self._drain()
                except Exception:  # the store is away: the next announcement (or the fallback) tries again
                    log.warning("reading the change feed failed", exc_info=True)
        finally:
            self._stop()

    async def _drain(self) -> None:
        while True:
            rows = await asyncio.to_thread(change_feed.read_after, self.store, self.last, 500)
            for row in rows:
                update = update_of(row, self.epoch)
                self.last = update.position
                for subscriber in list(self._subscribers):
                    subscriber.offer(update)
            if len(rows) < 500:
                return


_BROADCASTERS: dict[int, Broadcaster] = {}
_BROADCASTERS_LOCK = threading.Lock()


def broadcaster_for(model: ReportingReadModel) -> Broadcaster:
    with _BROADCASTERS_LOCK:
        found = _BROADCASTERS.get(id(model))
        if found is None or found.model is not model:
            found = _BROADCASTERS[id(model)] = Broadcaster(model)
        return found


def _start_position(after: str | None, epoch: str) -> int | None:
    if after is None:
        return None
    cursor = decode_cursor(after)
    if len(cursor) != 2 or not isinstance(cursor[1], int) or not isinstance(cursor[0], str):
        raise bad_input("`after` is not a cursor of this feed: pass an Update's `cursor`", "after")
    if cursor[0] != epoch:
        raise bad_input("`after` is a cursor of another change feed (the read model was rebuilt since): subscribe "
                        "without `after`, and read the current state by query", "after")
    return int(cursor[1])


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The cursor of the last change the read model committed. Asked in the same query "
                                  "as the state a dashboard shows (one query reads one snapshot), then passed as "
                                  "`after` to `updates`: the dashboard misses no change and sees none twice.")
    def updates_cursor(self, info: Info) -> str:
        store = read_model(info).store
        return encode_cursor([change_feed.feed_epoch(store), change_feed.head(store)])


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Changes as the read model commits them, that the caller's grants let it see (a district's "
                    "officers their district's, a theme group's lead its group's, a partner its own projects and "
                    "taskings; the partnership-wide roles all), in commit order, each once. `after`: the cursor of "
                    "the last update received, to resume after it (a gateway restart loses nothing); without it, "
                    "from now. `kinds`: only these kinds.")
    async def updates(self, info: Info, after: str | None = None,
                      kinds: list[UpdateKind] | None = None) -> AsyncGenerator[Update, None]:  # type: ignore[valid-type]
        principal: Principal = info.context["principal"]
        model = read_model(info)
        chosen = frozenset(kinds) if kinds else None

        def wants(update: Update) -> bool:
            return ((chosen is None or update.kind in chosen)
                    and may_see(principal, update.district, update.theme_group, update.organisation))

        broadcaster = broadcaster_for(model)
        epoch = await asyncio.to_thread(change_feed.feed_epoch, model.store)
        start = _start_position(after, epoch)
        subscriber = await broadcaster.subscribe(wants)
        try:
            last = subscriber.head if start is None else start
            catch_up = start is not None
            while True:
                if catch_up:
                    catch_up, subscriber.overflowed = False, False
                    upto = broadcaster.last
                    while last < upto:
                        rows = await asyncio.to_thread(change_feed.read_after, model.store, last, 500, upto)
                        if not rows:
                            break
                        for row in rows:
                            update = update_of(row, epoch)
                            last = update.position
                            if wants(update):
                                yield update
                item = await subscriber.queue.get()
                if item is _OVERFLOW:
                    catch_up = True
                    continue
                if item.position <= last:
                    continue
                last = item.position
                yield item
        finally:
            broadcaster.unsubscribe(subscriber)
