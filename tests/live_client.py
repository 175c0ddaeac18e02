"""A subscriber to the gateway's live updates through the ``gql`` client's websockets transport (an outside judge
of our ``graphql-transport-ws``): runs in a thread of its own, keeps every update it receives with when it came."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

UPDATES = """
subscription($after: String, $kinds: [UpdateKind!]) {
  updates(after: $after, kinds: $kinds) {
    cursor kind subjectId subjectType version eventType committedAt district organisation title rag previousRag
    status previousStatus decision { body reason }
  }
}
"""


@dataclass
class Subscriber:
    """Subscribes to ``updates`` at ``ws_url`` with ``token`` (in connection_init), from ``after``."""

    ws_url: str
    token: str | None
    after: str | None = None
    kinds: list[str] | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _task: asyncio.Task[None] | None = None
    _started: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Subscriber:
        self._thread = threading.Thread(target=self._run, daemon=True, name="live-subscriber")
        self._thread.start()
        self._started.wait(10)
        return self

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        self._task = loop.create_task(self._subscribe())
        self._started.set()
        try:
            loop.run_until_complete(self._task)
        except (asyncio.CancelledError, Exception):
            pass
        finally:
            loop.close()

    async def _subscribe(self) -> None:
        from gql import Client, gql
        from gql.transport.websockets import WebsocketsTransport

        payload = {"authorization": f"Bearer {self.token}"} if self.token else {}
        transport = WebsocketsTransport(url=self.ws_url, init_payload=payload,
                                        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
        request = gql(UPDATES)
        request.variable_values = {"after": self.after, "kinds": self.kinds}
        try:
            async with Client(transport=transport) as session:
                async for result in session.subscribe(request):
                    self.arrived.append(time.time())
                    self.received.append(result["updates"])
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # kept for the test to assert on (a refusal, a closed connection)
            self.errors.append(error)

    def stop(self) -> None:
        if self._loop is not None and self._task is not None and not self._task.done():
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(15)

    @property
    def cursors(self) -> list[str]:
        return [update["cursor"] for update in self.received]
