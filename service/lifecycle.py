"""Start-up, readiness and graceful shutdown.

The lifespan loads the engine (models, store, optional demo corpus) in the background, so
the process answers ``/health/live`` at once and ``/health/ready`` says 503 until the engine
is there. Requests that need the engine meanwhile wait for it up to ``request_timeout_s``,
then get a 503 problem.

On SIGTERM, :class:`DrainingServer` first turns readiness to 503 and keeps serving for
``drain_s`` seconds (so load balancers stop sending new work), then lets uvicorn stop:
it stops accepting connections, finishes in-flight requests (each write commits in its
own transaction) and runs the lifespan's shutdown, which closes the store.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import FrameType
from typing import ClassVar

import anyio
import uvicorn
from anyio import to_thread
from litestar import Litestar
from litestar.datastructures import State
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.corpus import demo_documents
from service.engine import Engine
from service.errors import OverloadedError, StoreError
from service.runner import ModelRunner
from service.settings import Settings

log = logging.getLogger("factcheck.lifecycle")
_FILES_KEPT_OPEN = 128  # store and WAL files, model files, sockets to a database, logs


def _load(settings: Settings, engine_factory: Callable[[Settings], Engine]) -> Engine:
    engine = engine_factory(settings)
    if settings.load_demo:
        engine.ingest(demo_documents(settings.demo_path))
    # The models and spaCy leave ~570k objects the cyclic collector would walk in every
    # full collection (~150-300 ms here, landing in some check's latency). They live as long
    # as the process: move them out of its sight (undone at shutdown).
    gc.freeze()
    return engine


async def _load_into(
    state: State, settings: Settings, engine_factory: Callable[[Settings], Engine]
) -> None:
    try:
        state.engine = await to_thread.run_sync(_load, settings, engine_factory)
        log.info("engine ready: models %s", state.engine.models)
    except Exception as exc:  # reported by the health routes; the process stays up to say so
        log.exception("start-up failed")
        state.startup_error = f"{type(exc).__name__}: {exc}"
    finally:
        state.loaded.set()


def lifespan_for(
    settings: Settings, engine_factory: Callable[[Settings], Engine]
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The lifespan: load the engine in the background; at shutdown, drain and close it."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        state = app.state
        state.settings = settings
        state.runner = ModelRunner(settings.model_threads, settings.request_timeout_s)
        state.engine, state.startup_error, state.draining = None, None, False
        state.loaded = anyio.Event()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_load_into, state, settings, engine_factory)
            try:
                yield
            finally:
                state.draining = True  # a load still running finishes before the store closes
        engine, state.engine = state.engine, None
        if engine is not None:
            engine.close()
            gc.unfreeze()  # an app made again in this process (tests) frees the old one

    return lifespan


async def wait_for_engine(state: State) -> Engine:
    """The loaded engine; waits up to ``request_timeout_s`` for start-up, then 503."""
    with anyio.move_on_after(state.settings.request_timeout_s):
        await state.loaded.wait()
    engine: Engine | None = state.engine
    if engine is not None:
        return engine
    if state.startup_error:
        raise StoreError(f"the service failed to start: {state.startup_error}")
    raise OverloadedError(
        "the service is starting: models are still loading", retry_after=5, limit="starting"
    )


class SlowClientProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with deadlines for slow clients, which uvicorn lacks.

    A request's head (request line and headers) must arrive within ``header_timeout_s``
    of its first byte (of the connection, for the first one), and while the app waits for
    the body, each piece of it within ``body_timeout_s`` of the last; else the connection
    is closed. So a client that drips bytes (slowloris) holds a connection, a file
    descriptor and, for a body, a request task only that long. Set on a subclass by
    :func:`protocol_class`.
    """

    header_timeout_s: ClassVar[float] = 10.0
    body_timeout_s: ClassVar[float] = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the first request's head deadline."""
        super().connection_made(transport)
        self._timer: asyncio.TimerHandle | None = None
        self._arm(self.header_timeout_s)

    def data_received(self, data: bytes) -> None:
        """Feed the parser, then set the deadline for what the request still owes."""
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self._timer is None:  # the first bytes of a kept-alive connection's next
            self._arm(self.header_timeout_s)
        before = self.cycle
        super().data_received(data)
        if self.cycle is not before or not idle:  # a head completed, or body arrived
            self._disarm()
            if self.cycle is not None and self.cycle.more_body and not self.cycle.disconnected:
                self._arm(self.body_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, delay: float) -> None:
        self._timer = self.loop.call_later(delay, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self.flow.read_paused:  # the app has not read what came: not the client's delay
            self._arm(self.body_timeout_s)
        elif not self.transport.is_closing():
            log.info("closing a connection: its request did not arrive in time")
            self.transport.close()


def protocol_class(settings: Settings) -> type[SlowClientProtocol]:
    """:class:`SlowClientProtocol` with this deployment's deadlines."""
    return type(
        "SlowClientProtocol",
        (SlowClientProtocol,),
        {"header_timeout_s": settings.header_timeout_s, "body_timeout_s": settings.body_timeout_s},
    )


def connection_limit(settings: Settings) -> int:
    """Connections (and request tasks) served at once; beyond, uvicorn answers 503.

    The setting, else the open-file limit less what the store, the models and the logs
    hold open, so that accepting one more connection never fails with EMFILE.
    """
    if settings.max_connections:
        return settings.max_connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, min(soft, 65_536) - _FILES_KEPT_OPEN)


class DrainingServer(uvicorn.Server):
    """uvicorn's server, but SIGTERM/SIGINT first turn readiness to 503 for ``drain_s``."""

    def __init__(self, config: uvicorn.Config, app: Litestar, drain_s: float) -> None:
        super().__init__(config)
        self.app_state = app.state
        self.drain_s = drain_s
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """First signal: start draining, stop later. A second signal: stop now."""
        if self._draining or not self.drain_s:
            super().handle_exit(sig, frame)
            return
        self._draining = True
        self.app_state.draining = True
        log.info("draining: readiness is 503 for %.1f s, then the server stops", self.drain_s)
        timer = threading.Timer(self.drain_s, super().handle_exit, (sig, frame))
        timer.daemon = True
        timer.start()
