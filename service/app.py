"""The app factory: every route, dependency, plugin and the lifespan in one place."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from litestar import Litestar, Response
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import SecurityScheme
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Middleware, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from service import errors
from service.api import (
    CheckController,
    DocumentController,
    FeedbackController,
    live,
    metrics,
    provide_engine,
    provide_runner,
    ready,
    split,
)
from service.auth import PUBLIC_PREFIXES, ApiKeyMiddleware, KeyRing, load_keys, rate_limit_config
from service.bodies import json_request_class, no_nul_in_path
from service.engine import Engine
from service.lifecycle import lifespan_for
from service.schemas import Request
from service.settings import Settings
from service.telemetry import (
    REQUEST_ID_HEADER,
    RequestContextMiddleware,
    add_request_id_header,
    log_exception,
)

# The newsroom panel (an iframe page) and the script a CMS loads to embed it: plain files.
WEB_DIR = Path(__file__).resolve().parent / "web"
# Swagger UI's own files (Apache-2.0, from the swagger-ui-bundle-v2 package), served by the
# app under the public /schema prefix: the docs page loads nothing from a CDN.
DOCS_ASSETS = "/schema/assets"


def _problem(exc: errors.FactCheckError) -> ProblemDetailsException:
    status = errors.http_status(exc)
    extra: dict[str, object] = {}
    headers = {}
    if isinstance(exc, errors.InvalidInputError) and exc.field:
        extra["field"] = exc.field
    if isinstance(exc, errors.OverloadedError):
        headers["Retry-After"] = str(exc.retry_after)
        extra["limit"] = exc.limit
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
    headers = dict(exc.headers or {})
    if exc.status_code == 429 and "RateLimit-Reset" in headers:
        headers["Retry-After"] = headers["RateLimit-Reset"]
        extra = {**(extra or {}), "limit": "rate_limit"}
    return ProblemDetailsException(
        status_code=exc.status_code,
        title=HTTPStatus(exc.status_code).phrase,
        detail=detail,
        extra=extra,
        headers=headers or None,
    )


def _internal_problem(exc: Exception) -> ProblemDetailsException:
    """A bug as problem+json like every other error, without its internals (they are logged)."""
    return ProblemDetailsException(
        status_code=500,
        title=HTTPStatus(500).phrase,
        detail="internal error; the request id names it in the service's log",
        type_="urn:factcheck:error:Internal",
    )


def frame_ancestors(settings: Settings) -> Callable[[Response[Any]], Response[Any]]:
    """Only the CMS origins allowed to call the API may frame the panel (no clickjacking)."""
    policy = " ".join(["frame-ancestors 'self'", *settings.cors_origins])

    def add_policy(response: Response[Any]) -> Response[Any]:
        response.headers["Content-Security-Policy"] = policy
        return response

    return add_policy


def create_app(
    settings: Settings | None = None, *, engine_factory: Callable[[Settings], Engine] = Engine.open
) -> Litestar:
    """Build the service. Tests pass their own settings (and may share one engine)."""
    settings = settings or Settings.from_env()
    problem_map = {cls: _problem for cls in errors.HTTP_STATUS} | {
        HTTPException: _http_problem,
        Exception: _internal_problem,
    }
    keys = load_keys(settings)
    rate_limit = rate_limit_config(settings)
    middleware: list[Middleware] = [RequestContextMiddleware()]  # outermost first
    if keys:
        middleware.append(ApiKeyMiddleware(KeyRing(keys)))
    if rate_limit:
        middleware.append(rate_limit.middleware)
    allow = AllowHeader()
    app = Litestar(
        route_handlers=[
            DocumentController,
            CheckController,
            FeedbackController,
            split,
            live,
            ready,
            metrics,
            create_static_files_router(
                path=DOCS_ASSETS,
                directories=[Path(str(swagger_ui_path))],
                name="docs-assets",
                include_in_schema=False,
            ),
            create_static_files_router(
                path="/panel",
                directories=[WEB_DIR],
                html_mode=True,
                name="panel",
                guards=[no_nul_in_path],
                after_request=frame_ancestors(settings),
            ),
        ],
        dependencies={
            "engine": Provide(provide_engine),
            "runner": Provide(provide_runner, sync_to_thread=False),
        },
        lifespan=[lifespan_for(settings, engine_factory)],
        middleware=middleware,
        before_send=[add_request_id_header, allow],
        after_exception=[log_exception],
        logging_config=None,  # logs go through the root logger (JSON in `factcheck serve`)
        plugins=[
            ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=problem_map))
        ],
        cors_config=cors_config(settings),
        request_max_body_size=settings.max_body_bytes,
        request_class=json_request_class(settings.max_json_depth),
        openapi_config=OpenAPIConfig(
            title="factcheck",
            version="1.0.0",
            description=(
                "Check statements against a newsroom corpus: the passages that support or "
                "contradict them, with a verdict."
            ),
            path="/schema",
            use_handler_docstrings=True,  # each handler's docstring is its operation's description
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' href='{DOCS_ASSETS}/favicon-32x32.png'>",
                )
            ],
        ),
    )
    allow.methods = {
        route.path_format: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }
    close_request_schemas(app)
    document_security(app, required=bool(keys))
    # Before routing, which no Litestar middleware runs ahead of.
    app.asgi_handler = keep_encoded_ids(app.asgi_handler)
    return app


DOCUMENTS_PATH = "/v1/documents/"


def keep_encoded_ids(app: ASGIApp) -> ASGIApp:
    """Route ``/v1/documents/{doc_id}/...`` on the id segment as sent, still percent-encoded.

    ASGI servers decode ``%2F`` in ``path`` before the router splits it, so an id with a
    slash (``news%2F2024%2F05%2Fbudget-vote``) would become several segments. The id segment
    is taken from ``raw_path`` instead, in a normal percent-encoding; the handlers decode it
    (``api.path_id``). The other segments are decoded as usual.
    """

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["path"].startswith(DOCUMENTS_PATH):
            raw = scope.get("raw_path")
            segments = (raw.decode("latin-1") if raw else quote(scope["path"])).split("/")
            if len(segments) > 3 and segments[3]:
                segments = [
                    quote(unquote(part), safe="") if i == 3 else unquote(part)
                    for i, part in enumerate(segments)
                ]
                scope["path"] = "/".join(segments)
        await app(scope, receive, send)

    return route


class AllowHeader:
    """``before_send`` hook: automatic OPTIONS answers name every method of the path.

    Litestar 2.25 builds that answer for the first handlers registered on a path and misses
    the later ones (``GET /v1/documents`` answered ``Allow: OPTIONS, POST``).
    """

    def __init__(self) -> None:
        self.methods: dict[str, str] = {}

    async def __call__(self, message: Message, scope: Scope) -> None:
        """Rewrite ``Allow`` on OPTIONS responses that carry one."""
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        headers = MutableScopeHeaders.from_message(message)
        methods = self.methods.get(str(scope.get("path_template", "")))
        if methods and "allow" in headers:
            headers["Allow"] = methods


def close_request_schemas(app: Litestar) -> None:
    """Declare ``additionalProperties: false`` on request bodies, which reject unknown fields.

    Litestar does not derive it from msgspec's ``forbid_unknown_fields``.
    """
    request_types = set()
    pending = [Request]
    while pending:
        cls = pending.pop()
        request_types.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    schemas = app.openapi_schema.components.schemas or {}
    for name, schema in schemas.items():
        if name in request_types:
            schema.additional_properties = False


def document_security(app: Litestar, *, required: bool) -> None:
    """Declare the API-key schemes, and on every operation that needs a key, when ``required``.

    The schemes are always declared, so that the schema says how a deployment with keys
    takes them.
    """
    schema = app.openapi_schema
    schema.components.security_schemes = {
        "BearerAuth": SecurityScheme(
            type="http",
            scheme="bearer",
            description="`Authorization: Bearer <key>`, a key of `FACTCHECK_API_KEYS` "
            "(reader keys read and check; writer keys also change the corpus).",
        ),
        "ApiKeyHeader": SecurityScheme(
            type="apiKey",
            name="X-API-Key",
            security_scheme_in="header",
            description="The same key in an `X-API-Key` header.",
        ),
    }
    if not required:
        return
    for path, item in (schema.paths or {}).items():
        if path.startswith(PUBLIC_PREFIXES):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            if operation := getattr(item, method):
                operation.security = [{"BearerAuth": []}, {"ApiKeyHeader": []}]


def cors_config(settings: Settings) -> CORSConfig | None:
    """CORS for the CMS origins: the headers browsers must be allowed to send and to read."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "X-API-Key",
            REQUEST_ID_HEADER,
            "Idempotency-Key",
        ],
        expose_headers=[REQUEST_ID_HEADER, "Retry-After", "RateLimit-Limit", "RateLimit-Remaining"],
        max_age=600,
    )
