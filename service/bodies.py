"""What every request body must be before a handler sees it (hostile input).

Litestar decodes a JSON body to Python objects and converts them to the handler's type in
lax mode, where ``"top_k": "5"`` passes as 5. :class:`JsonRequest` (the app's request
class) checks, for every route that takes a body:

* the media type is JSON, else 415: a browser sends ``text/plain`` and form bodies
  cross-site without a CORS preflight, so a service without keys would take writes from
  any page its users visit;
* the body is UTF-8 (400);
* it is nested at most ``max_json_depth`` deep (400), checked before decoding, which
  recurses: a body nested 100,000 deep would exhaust the stack (a 500, or a dead stream);
* it converts to the handler's type strictly (400): integers are JSON integers (``5`` or,
  as JSON Schema has it, ``5.0``; never ``"5"``).

The NDJSON stream reads its body itself and applies the same checks per line
(:func:`decode_line`).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, ValidationException
from litestar.handlers import BaseRouteHandler

JSON_MEDIA_TYPES = frozenset({"application/json"})
STREAM_MEDIA_TYPES = frozenset({"application/x-ndjson", "application/json"})

# A JSON string (escapes included) or one bracket: brackets inside strings do not count.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPEN = frozenset(b"[{")
FIELD = re.compile(r"at `\$\.([A-Za-z_]+)")  # msgspec names the field: "... - at `$.top_k`"


class BodyError(ValueError):
    """A body (or stream line) that is not acceptable JSON; the message says why."""


def nested_deeper_than(data: bytes, limit: int) -> bool:
    """Whether the JSON text ``data`` nests arrays and objects more than ``limit`` deep."""
    if data.count(b"[") + data.count(b"{") <= limit:  # the common case, at C speed
        return False
    depth = 0
    for match in _TOKENS.finditer(data):
        first = match.group()[0]
        if first in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif first != ord('"'):
            depth -= 1
    return False


def decode_json(data: bytes, max_depth: int, what: str = "body") -> Any:
    """``data`` as Python objects, or BodyError when it is too deep, not UTF-8 or not JSON."""
    if nested_deeper_than(data, max_depth):
        raise BodyError(f"the {what} is nested more than {max_depth} levels deep")
    try:
        return msgspec.json.decode(data)
    except UnicodeDecodeError:
        raise BodyError(f"the {what} is not valid UTF-8") from None
    except msgspec.DecodeError as exc:
        raise BodyError(f"the {what} is not valid JSON: {exc}") from None


def require_media_type(
    connection: ASGIConnection[Any, Any, Any, Any], allowed: frozenset[str]
) -> None:
    """415 unless the request has no body or its ``Content-Type`` is one of ``allowed``."""
    headers = connection.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return  # no body (HTTP/1.1: neither a length nor chunks): nothing to misread
    media_type = connection.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in allowed:
        raise ClientException(
            status_code=415,
            detail=f"Content-Type must be {' or '.join(sorted(allowed))}, "
            f"got {media_type or 'none'}",
        )


class JsonRequest(Request[Any, Any, Any]):
    """The app's request class: JSON bodies checked as the module docstring says."""

    max_depth: ClassVar[int] = 64

    async def json(self) -> Any:
        """The body decoded, after the media type, depth, encoding and strict type checks."""
        require_media_type(self, JSON_MEDIA_TYPES)
        try:
            value = decode_json(await self.body(), self.max_depth)
        except BodyError as exc:
            raise ClientException(str(exc)) from None
        data = self.route_handler.parsed_data_field
        if data is not None:
            try:
                strict_convert(value, data.annotation)
            except msgspec.ValidationError as exc:
                if not _lax_accepts(value, data.annotation):
                    return value  # invalid either way: Litestar's own validation says why
                field = match.group(1) if (match := FIELD.search(str(exc))) else "data"
                raise ValidationException(
                    detail=f"Validation failed for {self.method} {self.url.path}",
                    extra=[{"message": str(exc), "key": field, "source": "body"}],
                ) from None
        return value


def strict_convert(value: Any, annotation: Any) -> Any:
    """``value`` converted to ``annotation`` in strict mode, integral floats as integers.

    JSON Schema counts ``5.0`` as an integer, so the service does too; msgspec's strict
    mode does not, and its lax mode would also take ``"5"``.
    """
    try:
        return msgspec.convert(value, annotation, strict=True)
    except msgspec.ValidationError:
        return msgspec.convert(_integral_floats_as_ints(value), annotation, strict=True)


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    return value


def _lax_accepts(value: Any, annotation: Any) -> bool:
    try:
        msgspec.convert(value, annotation, strict=False)
    except msgspec.ValidationError:
        return False
    return True


def json_request_class(max_depth: int) -> type[JsonRequest]:
    """:class:`JsonRequest` with this deployment's depth limit."""
    return type("JsonRequest", (JsonRequest,), {"max_depth": max_depth})


def no_nul_in_path(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a path with a NUL is a bad request (the file system would raise on it)."""
    if "\x00" in connection.scope["path"]:
        raise ClientException("the path contains a NUL character")
