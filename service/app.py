"""The app factory: every route, dependency, plugin and the lifespan in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

import anyio
from anyio import to_thread
from litestar import Litestar, Response
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.static_files import create_static_files_router

from service import errors
from service.api import (
    CheckController,
    DocumentController,
    FeedbackController,
    live,
    provide_engine,
    provide_limiter,
    ready,
    split,
)
from service.corpus import demo_documents
from service.engine import Engine
from service.settings import Settings

# The newsroom panel (an iframe page) and the script a CMS loads to embed it: plain files.
WEB_DIR = Path(__file__).resolve().parent / "web"


def _problem(exc: errors.FactCheckError) -> ProblemDetailsException:
    status = errors.http_status(exc)
    extra: dict[str, object] = {}
    headers = {}
    if isinstance(exc, errors.InvalidInputError) and exc.field:
        extra["field"] = exc.field
    if isinstance(exc, errors.OverloadedError):
        headers["Retry-After"] = str(exc.retry_after)
    return ProblemDetailsException(
        status_code=status,
        title=HTTPStatus(status).phrase,
        detail=str(exc),
        type_=errors.problem_type(exc),
        extra=extra or None,
        headers=headers or None,
    )


def _describe(error: object) -> str:
    """One validation error as text, naming its field when msgspec gave it as a key."""
    if not isinstance(error, dict):
        return str(error)
    message, key = str(error.get("message", "")), error.get("key")
    return f"`{key}`: {message}" if key and key != "data" and f"`{key}`" not in message else message


def _http_problem(exc: HTTPException) -> ProblemDetailsException:
    """Litestar's own errors (validation, 404 route, 413 body) as problem+json.

    Validation errors carry msgspec's message, which names the field (``at `$.top_k```).
    """
    detail = exc.detail
    extra: dict[str, object] | None = None
    if isinstance(exc.extra, list) and exc.extra:
        detail = "; ".join(_describe(e) for e in exc.extra)
        extra = {"errors": exc.extra}
    return ProblemDetailsException(
        status_code=exc.status_code,
        title=HTTPStatus(exc.status_code).phrase,
        detail=detail,
        extra=extra,
        headers=exc.headers,
    )


def frame_ancestors(settings: Settings) -> Callable[[Response[Any]], Response[Any]]:
    """Only the CMS origins allowed to call the API may frame the panel (no clickjacking)."""
    policy = " ".join(["frame-ancestors 'self'", *settings.cors_origins])

    def add_policy(response: Response[Any]) -> Response[Any]:
        response.headers["Content-Security-Policy"] = policy
        return response

    return add_policy


def lifespan_for(
    settings: Settings, engine_factory: Callable[[Settings], Engine]
) -> Callable[[Litestar], object]:
    """The lifespan: open the engine (models, store) once, close it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.limiter = anyio.CapacityLimiter(settings.model_threads)
        engine = await to_thread.run_sync(engine_factory, settings)
        if settings.load_demo:
            await to_thread.run_sync(engine.ingest, demo_documents(settings.demo_path))
        app.state.engine = engine
        try:
            yield
        finally:
            app.state.engine = None
            engine.close()

    return lifespan


def create_app(
    settings: Settings | None = None, *, engine_factory: Callable[[Settings], Engine] = Engine.open
) -> Litestar:
    """Build the service. Tests pass their own settings (and may share one engine)."""
    settings = settings or Settings.from_env()
    problem_map = {cls: _problem for cls in errors.HTTP_STATUS} | {HTTPException: _http_problem}
    return Litestar(
        route_handlers=[
            DocumentController,
            CheckController,
            FeedbackController,
            split,
            live,
            ready,
            create_static_files_router(
                path="/panel",
                directories=[WEB_DIR],
                html_mode=True,
                name="panel",
                after_request=frame_ancestors(settings),
            ),
        ],
        dependencies={
            "engine": Provide(provide_engine, sync_to_thread=False),
            "limiter": Provide(provide_limiter, sync_to_thread=False),
        },
        lifespan=[lifespan_for(settings, engine_factory)],  # type: ignore[list-item]
        plugins=[
            ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=problem_map))
        ],
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins))
        if settings.cors_origins
        else None,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="factcheck",
            version="1.0.0",
            description=(
                "Check statements against a newsroom corpus: the passages that support or "
                "contradict them, with a verdict."
            ),
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
    )
