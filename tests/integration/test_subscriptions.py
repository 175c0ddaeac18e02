"""Live updates through GraphQL subscriptions (graphql-transport-ws), received by the ``gql`` client's websockets
transport: a progress report committed through the REST API reaches the reporting projection (the embedded log
and SQLite; Kafka and PostgreSQL with the gateway apart from the workers), and the subscribers its grants let see
it receive it, once, in order, after a gateway restart too; a bad token is refused by the protocol's close codes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.reporting import change_feed
from services.reporting.readmodel import ReportingReadModel
from services.reporting.subscriptions import broadcaster_for, may_see
from services.runtime import System
from shared.auth import Principal
from tests.harness import Harness, running_system, serving, settings_for, wait_until
from tests.integration.test_projects_delivery import COLLEGE, report
from tests.live_client import Subscriber

pytestmark = pytest.mark.integration

WORCESTER = {"role": "district_coordinator", "org": "worcester-city-council", "district": "worcester"}
WYCHAVON = {"role": "programme_manager", "org": "wychavon-district-council", "district": "wychavon"}


def token(h: Harness, who: dict[str, str]) -> str:
    claims = {k: v for k, v in who.items() if k not in {"role", "org"}}
    return h.token(who["role"], who["org"], **claims)


def ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/graphql"


def wait_subscribed(model: ReportingReadModel, count: int) -> None:
    wait_until(lambda: broadcaster_for(model).subscribers >= count, 30, f"{count} subscribers at the gateway")


@contextmanager
def subscribed(url: str, *tokens: str, after: str | None = None,
               model: ReportingReadModel) -> Iterator[list[Subscriber]]:
    before = broadcaster_for(model).subscribers
    subscribers = [Subscriber(ws(url), t, after=after).start() for t in tokens]
    try:
        wait_subscribed(model, before + len(tokens))
        yield subscribers
    finally:
        for subscriber in subscribers:
            subscriber.stop()


def progress_updates(subscriber: Subscriber, project_id: str) -> list[dict[str, Any]]:
    return [u for u in subscriber.received if u["kind"] == "PROGRESS_REPORTED" and u["subjectId"] == project_id]


def close_code(url: str, init: dict[str, Any] | None, subscribe_first: bool = False) -> tuple[int | None, str]:
    """Opens a graphql-transport-ws connection by hand and returns how the server closed it."""
    import websockets

    async def run() -> tuple[int | None, str]:
        async with websockets.connect(ws(url), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            if subscribe_first:
                await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                              "payload": {"query": "subscription { updates { cursor } }"}}))
            else:
                await socket.send(json.dumps({"type": "connection_init", "payload": init or {}}))
            try:
                while True:
                    await asyncio.wait_for(socket.recv(), 10)
            except websockets.ConnectionClosed as closed:
                return (closed.rcvd.code if closed.rcvd else None), (closed.rcvd.reason if closed.rcvd else "")

    return asyncio.run(run())


def test_embedded_progress_report_reaches_the_subscribers_its_grants_allow_and_bad_auth_is_refused(
        tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h, serving(h.system.asgi()) as url:
        assert h.system.load_demo_data(timeout=120)
        model = h.system.read_model
        assert model is not None
        academy = str(h.system.demo_ids["academy_project"])
        # The demo's own reports of the academy are projected first (loading returns once its commands are in, not
        # once reporting has them): else one of them may follow the cursor and reach the late subscriber too.
        wait_until(lambda: h.graphql("query($id: ID!) { deliveryProject(id: $id) { lastReportedOn } }",
                                     {"id": academy})["data"]["deliveryProject"]["lastReportedOn"] == "2013-04-01",
                   60, "reporting to have the demo's reports of the academy")
        # A dashboard reads its state and the feed's cursor in one query (one snapshot), then subscribes after it.
        state = h.graphql("{ updatesCursor programmes(district: \"worcester\") { projects } }", role="auditor")
        cursor = state["data"]["updatesCursor"]
        with subscribed(url, token(h, WORCESTER), token(h, WYCHAVON), model=model) as (worcester, wychavon):
            reported = report(h, academy, COLLEGE, "2013-10-01", 300)
            assert reported.status_code == 200, reported.text
            wait_until(lambda: progress_updates(worcester, academy), 30, "Worcester's subscriber to hear of it")
            with subscribed(url, token(h, WORCESTER), after=cursor, model=model) as (late,):
                wait_until(lambda: progress_updates(late, academy), 30, "the late subscriber to catch up")
                # What Worcester's live subscriber got, in the same order, once each (after what committed between
                # the cursor and its joining, which only the late one asked for).
                wait_until(lambda: set(worcester.cursors) <= set(late.cursors), 30, "the late one to have them all")
                positions = [_position_of(c) for c in late.cursors]
                assert positions == sorted(set(positions)) and len(progress_updates(late, academy)) == 1
            update = progress_updates(worcester, academy)[0]
            assert (update["district"], update["organisation"], update["subjectType"]) == (
                "worcester", "worcester-college", "project")
            # Announced once it is in the read model: a query made on receiving it sees the report.
            seen = h.graphql("""query($d: String) { deliveryProjects(district: $d) { id lastReportedOn } }""",
                             {"d": "worcester"})
            assert {p["id"]: p["lastReportedOn"] for p in seen["data"]["deliveryProjects"]}[academy] == "2013-10-01"
            # Every update Worcester's coordinator got is a change of Worcester; Wychavon's manager got none of them.
            assert worcester.received and all(u["district"] == "worcester" for u in worcester.received)
            assert not any(u["district"] == "worcester" for u in wychavon.received)
            assert not worcester.errors and not wychavon.errors

        # Refusals, by the protocol's close codes: a bad token and no token at connection_init (4403), a subscribe
        # before connection_init (4401); the public may not subscribe (not open data).
        assert close_code(url, {"authorization": "Bearer not-a-token"}) == (4403, "Forbidden")
        assert close_code(url, {}) == (4403, "Forbidden")
        assert close_code(url, None, subscribe_first=True) == (4401, "Unauthorized")
        over_http = h.client.post("/graphql", json={"query": "subscription { updates { cursor } }"},
                                  headers=h.headers("auditor"))
        assert over_http.status_code == 400 and over_http.json()["errors"][0]["extensions"]["code"] == \
            "SUBSCRIPTION_OVER_HTTP"
        public = Subscriber(ws(url), h.token("public", "public")).start()
        wait_until(lambda: public.errors, 30, "the public's subscription to be refused")
        public.stop()
        assert "FORBIDDEN" in repr(public.errors[0]) or "public may not" in repr(public.errors[0])


def test_may_see_follows_the_grants() -> None:
    from shared.auth import Grant, Role

    def who(*grants: Grant, org: str = "worcestershire-cc") -> Principal:
        return Principal("u", org, frozenset(grants))

    officer = who(Grant(Role.PARTNERSHIP_OFFICER))
    worcester = who(Grant(Role.DISTRICT_COORDINATOR, "worcester"))
    pstg = who(Grant(Role.THEME_GROUP_LEAD, "pstg"))
    college = who(Grant(Role.PARTNER_OFFICER, "worcester-college"), org="worcester-college")
    public = who(Grant(Role.PUBLIC))
    project = ("worcester", None, "worcester-college")
    assert [may_see(p, *project) for p in (officer, worcester, pstg, college, public)] == [
        True, True, False, True, False]
    tasking = ("wychavon", "pstg", "wychavon-district-council")
    assert [may_see(p, *tasking) for p in (officer, worcester, pstg, college, public)] == [
        True, False, True, False, False]
    county = (None, None, None)
    assert [may_see(p, *county) for p in (officer, worcester, pstg, college, public)] == [True, True, True, True, False]


def _feed_after(model: ReportingReadModel, cursor: str) -> list[dict[str, Any]]:
    from services.reporting.graphql_common import decode_cursor

    return change_feed.read_after(model.store, int(decode_cursor(cursor)[1]), 10_000)


def test_distributed_a_separate_gateway_delivers_once_in_order_and_resumes_after_a_restart(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    """The workers (every service, the reporting projection) in one System; the gateway a second System that runs
    no worker: its subscribers are woken by PostgreSQL NOTIFY from the projection's transactions."""
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings) as h:
        assert h.system.load_demo_data(timeout=180)
        academy = str(h.system.demo_ids["academy_project"])
        park = str(h.system.demo_ids["business_park_project"])
        chamber = {"role": "partner_officer", "org": "chamber-of-commerce"}

        gateway = System(settings, services=("reporting",))
        try:
            model = gateway.read_model
            assert model is not None
            with serving(gateway.reporting_asgi()) as url, \
                    subscribed(url, token(h, WORCESTER), token(h, WYCHAVON), model=model) as (worcester, wychavon):
                assert report(h, academy, COLLEGE, "2013-10-01", 300).status_code == 200
                wait_until(lambda: progress_updates(worcester, academy), 60, "Worcester's subscriber to hear of it")
                seen = httpx.post(f"{url}/graphql", headers={"authorization": f"Bearer {token(h, WORCESTER)}"},
                                  json={"query": "{ deliveryProjects(district: \"worcester\") { id lastReportedOn } }"})
                assert {p["id"]: p["lastReportedOn"] for p in seen.json()["data"]["deliveryProjects"]}[academy] \
                    == "2013-10-01"
                assert not any(u["district"] == "worcester" for u in wychavon.received)
                last = worcester.received[-1]["cursor"]
        finally:
            gateway.close()

        # The gateway is down: two more reports (and the park's RAG) commit meanwhile.
        assert report(h, academy, COLLEGE, "2013-12-01", 340).status_code == 200
        assert report(h, park, chamber, "2013-10-01", 420).status_code == 200
        main_model = h.system.read_model
        assert main_model is not None
        wait_until(lambda: len([r for r in _feed_after(main_model, last) if r["kind"] == "progress_reported"]) >= 2,
                   60, "the projection to commit the reports made while the gateway was down")

        gateway = System(settings, services=("reporting",))
        try:
            model = gateway.read_model
            assert model is not None
            with serving(gateway.reporting_asgi()) as url, \
                    subscribed(url, token(h, WORCESTER), after=last, model=model) as (resumed,):
                missed = [r for r in _feed_after(model, last)
                          if may_see(Principal("u", "worcester-city-council", h.system.tokens.verify(
                              token(h, WORCESTER)).grants), r["district"], r["theme_group"], r["organisation"])]
                wait_until(lambda: len(resumed.received) >= len(missed), 60, "the missed updates")
                # Then one more, live, after the catch-up.
                assert report(h, academy, COLLEGE, "2014-01-10", 360).status_code == 200
                # (the academy's report made while the gateway was down, then this one)
                wait_until(lambda: len(progress_updates(resumed, academy)) >= 2, 60, "the live update after them")
                positions = [int(json.loads(_b64(c))[1]) for c in resumed.cursors]
                assert positions == sorted(set(positions)), "each update once, in commit order"
                assert resumed.cursors[:len(missed)] == [u.cursor for u in _updates(missed, model)]
                assert [u["version"] for u in progress_updates(resumed, academy)] == sorted(
                    u["version"] for u in progress_updates(resumed, academy))
                assert {u["subjectId"] for u in resumed.received if u["kind"] == "PROGRESS_REPORTED"} >= {academy, park}
                assert last not in resumed.cursors
        finally:
            gateway.close()


def _b64(cursor: str) -> str:
    import base64

    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def _updates(rows: list[dict[str, Any]], model: ReportingReadModel) -> list[Any]:
    from services.reporting.subscriptions import update_of

    epoch = change_feed.feed_epoch(model.store)
    return [update_of(row, epoch) for row in rows]


def test_a_subscriber_that_falls_behind_reads_the_rest_from_the_feed_once_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for one held update, the demo's burst overflows the subscriber's queue again and again: each time
    it reads what it missed from the feed, and still gets every update once, in order."""
    from services.reporting import subscriptions

    monkeypatch.setattr(subscriptions, "QUEUE_LIMIT", 1)
    overflows = []
    offer = subscriptions.Subscriber.offer

    def counted(self: subscriptions.Subscriber, update: Any) -> None:
        was = self.overflowed
        offer(self, update)
        if self.overflowed and not was:
            overflows.append(update.position)

    monkeypatch.setattr(subscriptions.Subscriber, "offer", counted)
    with running_system(settings_for(data_dir=tmp_path)) as h, serving(h.system.asgi()) as url:
        model = h.system.read_model
        assert model is not None
        with subscribed(url, h.token("partnership_officer"), model=model) as (officer,):
            assert h.system.load_demo_data(timeout=120)
            # The projection may still be applying the demo's last events: wait until it has all been delivered.
            def caught_up() -> list[dict[str, Any]] | None:
                feed = change_feed.read_after(model.store, 0, 100_000)
                return feed if len(feed) > 20 and len(officer.received) >= len(feed) else None

            feed = wait_until(caught_up, 60, "every update of the demo")
            assert [_position_of(c) for c in officer.cursors][:len(feed)] == [int(r["position"]) for r in feed]
            assert not officer.errors
            assert overflows, "the queue never overflowed: the catch-up was not exercised"


def _position_of(cursor: str) -> int:
    return int(json.loads(_b64(cursor))[1])
