"""API keys and per-key rate limits.

Keys come from the ``api_keys`` setting and/or the file named by ``api_keys_file``, one per
line (or comma-separated): ``name:role:secret``, role ``reader`` or ``writer``, the secret
plain or as ``sha256=<hex digest>`` so that a file at rest need not hold it. Only SHA-256
digests are kept in memory and a presented key is compared against every digest with
:func:`hmac.compare_digest`.

With keys configured, every route but ``/health/*``, ``/schema*`` and the panel's static
files under ``/panel`` (and CORS preflights,
which browsers send without credentials) needs ``Authorization: Bearer <key>`` or
``X-API-Key: <key>``: none or an unknown key is 401 with ``WWW-Authenticate``; a reader key
on a route marked ``opt={"writer": True}`` is 403.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Any

import msgspec
from litestar.connection import Request
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.middleware.rate_limit import DurationUnit, RateLimitConfig, get_remote_address
from litestar.types import ASGIApp, Receive, Scope, Send

from service.settings import Settings

# Health probes, the API docs and the panel's static files (the panel holds no data: its
# calls to the API carry the key the host page gives it) need no key.
PUBLIC_PREFIXES = ("/health/", "/schema", "/panel")
WRITER_OPT = "writer"  # route opt marking endpoints that change the corpus
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="factcheck"'}
_HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


class ApiKey(msgspec.Struct, frozen=True):
    """A configured key: who it is, what it may do, and the SHA-256 of its secret."""

    name: str
    writer: bool
    digest: bytes


def parse_keys(text: str, source: str = "api_keys") -> list[ApiKey]:
    """Parse ``name:role:secret`` entries (newline or comma separated; ``#`` starts a comment)."""
    keys = []
    entries = (raw.split("#", 1)[0].strip() for raw in re.split(r"[,\n]", text))
    for number, entry in enumerate((e for e in entries if e), start=1):
        parts = entry.split(":", 2)
        if len(parts) != 3 or parts[1] not in ("reader", "writer") or not parts[0] or not parts[2]:
            raise ValueError(
                f"{source}: API key entry {number} is not name:reader|writer:secret "
                f"(it reads {_redacted(parts)})"
            )
        name, role, secret = parts
        if secret.startswith("sha256="):
            if not _HEX_DIGEST.match(secret[7:]):
                raise ValueError(
                    f"{source}: API key entry {number} ({name!r}): sha256= needs 64 hex digits"
                )
            digest = bytes.fromhex(secret[7:])
        else:
            digest = hashlib.sha256(secret.encode()).digest()
        keys.append(ApiKey(name=name, writer=role == "writer", digest=digest))
    if len({k.name for k in keys}) != len(keys):
        raise ValueError("API key names must be unique")
    return keys


def _redacted(parts: list[str]) -> str:
    """A malformed entry's shape without its secret: name and role only where the role is one.

    Any other field may be a secret pasted in the wrong place, so none is shown.
    """
    if len(parts) == 1:
        return "one field, not shown"
    if parts[1] not in ("reader", "writer"):  # then the first field need not be a name
        return ":".join("***" for _ in parts)
    return ":".join([repr(parts[0]), parts[1], *("***" for _ in parts[2:])])


def load_keys(settings: Settings) -> list[ApiKey]:
    """Every key from the settings and the key file (empty: authentication is off)."""
    keys = parse_keys(settings.api_keys)
    if settings.api_keys_file:
        text = Path(settings.api_keys_file).read_text(encoding="utf-8")
        keys += parse_keys(text, source=settings.api_keys_file)
    if len({k.name for k in keys}) != len(keys):
        raise ValueError("API key names must be unique")
    return keys


def presented_key(request: Request[Any, Any, Any]) -> str | None:
    """The key a request carries, from ``Authorization: Bearer`` or ``X-API-Key``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


def is_public(scope: Scope) -> bool:
    """Health probes and the OpenAPI pages need no key and are never rate limited."""
    return scope["path"].startswith(PUBLIC_PREFIXES)


class KeyRing:
    """Finds the configured key matching a presented secret, in time independent of which."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = keys

    def find(self, secret: str) -> ApiKey | None:
        """The key whose digest equals the secret's, or None."""
        digest = hashlib.sha256(secret.encode()).digest()
        found = None
        for key in self.keys:  # no early exit: every digest is compared
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found


class ApiKeyMiddleware(ASGIMiddleware):
    """Authenticates requests by API key and keeps readers off writer routes."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self.should_bypass_for_scope = is_public

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Reject or pass the request on, naming the key in ``scope["state"]["api_key"]``."""
        request: Request[Any, Any, Any] = Request(scope)
        if request.method == "OPTIONS":  # CORS preflights carry no credentials
            await next_app(scope, receive, send)
            return
        secret = presented_key(request)
        if secret is None:
            raise NotAuthorizedException("an API key is required", headers=_CHALLENGE)
        key = self.ring.find(secret)
        if key is None:
            raise NotAuthorizedException("the API key is not valid", headers=_CHALLENGE)
        if scope["route_handler"].opt.get(WRITER_OPT) and not key.writer:
            raise PermissionDeniedException(f"API key {key.name!r} may not change the corpus")
        scope.setdefault("state", {})["api_key"] = key.name
        await next_app(scope, receive, send)


def caller_key(request: Request[Any, Any, Any]) -> str | None:
    """The name of the API key that authenticated the request; None when keys are off."""
    name: str | None = request.scope.get("state", {}).get("api_key")
    return name


def client_identity(request: Request[Any, Any, Any]) -> str:
    """Whom a rate limit counts: the authenticated key's name, else the client address."""
    name = caller_key(request)
    return f"key:{name}" if name else f"ip:{get_remote_address(request)}"


_UNITS: dict[str, DurationUnit] = {u: u for u in ("second", "minute", "hour", "day")}


def parse_rate(text: str) -> tuple[DurationUnit, int]:
    """``"600/minute"`` as Litestar's ``("minute", 600)``."""
    count, _, unit = (part.strip() for part in text.partition("/"))
    if not count.isdigit() or int(count) < 1 or unit not in _UNITS:
        raise ValueError(f"rate_limit is N/second|minute|hour|day, got {text!r}")
    return _UNITS[unit], int(count)


def rate_limit_config(settings: Settings) -> RateLimitConfig | None:
    """Litestar's rate limiter keyed by API key, sparing health and schema; None when off."""
    if not settings.rate_limit:
        return None
    return RateLimitConfig(
        rate_limit=parse_rate(settings.rate_limit),
        check_throttle_handler=lambda request: not is_public(request.scope),
        identifier_for_request=client_identity,
    )
