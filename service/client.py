"""A Python client for the factcheck API: :class:`FactCheckClient` and its async twin.

Both have a method for every route and speak the API's own types: results are decoded
into the msgspec Structs of :mod:`service.schemas` (``CheckResponse``, ``DocumentOut``,
``FeedbackOut``, ``Health``, ...). Document ids are percent-encoded for the path, so any id
works as it is (``fc.get_document("news/2024/05/budget vote")``)::

    with FactCheckClient("http://127.0.0.1:8000", api_key="...") as fc:
        result = fc.check("Xi visited Moscow in 2022", top_k=5)
        print(result.verdict, result.evidence[0].text)

Requests that got no answer because the connection failed, and answers 429 and 503,
are retried with exponential backoff (``Retry-After`` is honoured, capped at
``max_delay``); nothing else is retried. Errors are raised as this tree::

    ClientError                    base of everything the client raises
    ├── ServiceUnreachableError    no HTTP answer: connection refused or broken, timeout
    └── APIError                   the service answered with an error (``status``, ``detail``)
        ├── InvalidRequestError    400, 413, 422: the request was refused as sent
        ├── AuthenticationError    401, 403: missing, unknown or under-privileged API key
        ├── DocumentNotFoundError  404
        └── ServiceBusyError       429, 503 still after the retries (``retry_after``)
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from service.schemas import (
    BatchResponse,
    CheckRequest,
    CheckResponse,
    DocumentIn,
    DocumentOut,
    DocumentPage,
    DocumentVersion,
    FeedbackOut,
    FeedbackPage,
    FeedbackRequest,
    Health,
    IngestResponse,
    ItemResult,
    SplitResponse,
)

T = TypeVar("T")
Item = str | CheckRequest | dict[str, Any]
"""A statement to check: its text, a request (``BatchItem`` carries an ``id``), or a raw dict."""

DEFAULT_URL = "http://127.0.0.1:8000"
_RETRY_STATUS = frozenset({429, 503})
_CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)


class ClientError(Exception):
    """Base of everything the client raises."""


class ServiceUnreachableError(ClientError):
    """The request got no HTTP answer (connection refused or broken, or a timeout)."""


class APIError(ClientError):
    """The service answered with an error; ``problem`` holds its problem+json body."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: float | None = None):
        self.status = status
        self.problem = problem
        self.detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        self.retry_after = retry_after
        super().__init__(f"{status}: {self.detail}")


class InvalidRequestError(APIError):
    """400, 413 or 422: the request was refused as sent."""


class AuthenticationError(APIError):
    """401 or 403: the API key is missing, unknown or not allowed this operation."""


class DocumentNotFoundError(APIError):
    """404: no such document."""


class ServiceBusyError(APIError):
    """429 or 503 even after the retries; ``retry_after`` says when to come back."""


_ERRORS: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    413: InvalidRequestError,
    422: InvalidRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: DocumentNotFoundError,
    429: ServiceBusyError,
    503: ServiceBusyError,
}


class Retry(msgspec.Struct, frozen=True, kw_only=True):
    """Retries: ``attempts`` tries in all, waiting ``backoff · 2^n`` (at most ``max_delay``)."""

    attempts: int = 4
    backoff: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``Retry-After`` wins when given)."""
        wait = retry_after if retry_after is not None else self.backoff * 2**attempt
        return min(max(wait, 0.0), self.max_delay)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return float(value)
    except ValueError:
        return None  # absent, or an HTTP date: fall back to the backoff


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        problem = response.json()
    except ValueError:
        problem = {"detail": response.text[:500]}
    if not isinstance(problem, dict):
        problem = {"detail": str(problem)}
    cls = _ERRORS.get(response.status_code, APIError)
    raise cls(response.status_code, problem, _retry_after(response))


def _decode(response: httpx.Response, type_: type[T]) -> T:
    _raise_for(response)
    return msgspec.json.decode(response.content, type=type_)


def _item(item: Item) -> Any:
    return {"statement": item} if isinstance(item, str) else item


def _check_body(statement: str | CheckRequest, options: dict[str, Any]) -> bytes:
    req = statement if isinstance(statement, CheckRequest) else CheckRequest(statement=statement)
    return msgspec.json.encode(msgspec.structs.replace(req, **options) if options else req)


def _ingest_body(docs: DocumentIn | Sequence[DocumentIn]) -> bytes:
    return msgspec.json.encode(docs if isinstance(docs, DocumentIn) else list(docs))


def _ndjson(items: Iterable[Item]) -> Iterator[bytes]:
    for item in items:
        yield msgspec.json.encode(_item(item)) + b"\n"


_result_decoder = msgspec.json.Decoder(ItemResult)
_JSON = {"content-type": "application/json"}


def _ingest_headers(key: str | None) -> dict[str, str]:
    """One Idempotency-Key per ingest call (given, or a random one), kept across its retries."""
    return {**_JSON, "idempotency-key": key or uuid.uuid4().hex}


_NDJSON = {"content-type": "application/x-ndjson"}


class _Call(NamedTuple):
    """One request of a simple route and the type of its answer (None: no body)."""

    method: str
    url: str
    type: Any
    params: dict[str, Any] | None = None
    body: Any = None


def _document(doc_id: str, suffix: str = "") -> str:
    """The path of a document: its id percent-encoded as one segment (``/`` as ``%2F``)."""
    return f"/v1/documents/{quote(doc_id, safe='')}{suffix}"


def _list_documents(limit: int, offset: int, source: str | None) -> _Call:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if source is not None:
        params["source"] = source
    return _Call("GET", "/v1/documents", DocumentPage, params=params)


def _retract(doc_id: str, reason: str) -> _Call:
    return _Call("POST", _document(doc_id, "/retract"), DocumentOut, body={"reason": reason})


def _feedback(judgement: FeedbackRequest) -> _Call:
    return _Call("POST", "/v1/feedback", FeedbackOut, body=judgement)


def _split(text: str) -> _Call:
    return _Call("POST", "/v1/split", SplitResponse, body={"text": text})


def _request_options(call: _Call) -> dict[str, Any]:
    options: dict[str, Any] = {"params": call.params}
    if call.body is not None:
        options |= {"content": msgspec.json.encode(call.body), "headers": _JSON}
    return options


def _result(call: _Call, response: httpx.Response) -> Any:
    if call.type is None:
        _raise_for(response)
        return None
    return _decode(response, call.type)


def _health(response: httpx.Response) -> Health:
    """A health answer, 503 included: it says why the service is not ready."""
    if response.status_code == 503:
        try:
            return msgspec.json.decode(response.content, type=Health)
        except msgspec.DecodeError:
            pass  # not the service's own answer (a proxy's): raised below as busy
    return _decode(response, Health)


class _Base:
    """Configuration shared by both clients."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: Retry | None = None,
        transport: Any = None,
    ) -> None:
        self.retry = retry or Retry()
        headers = {"accept": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._options: dict[str, Any] = {
            "base_url": base_url.rstrip("/"),
            "headers": headers,
            "timeout": timeout,
        }
        if transport is not None:
            self._options["transport"] = transport

    def _after(
        self, attempt: int, response: httpx.Response | None, error: httpx.TransportError | None
    ) -> float | None:
        """Seconds to wait before retrying try ``attempt``, or None when it is final.

        Raises:
            ServiceUnreachableError: The try got no answer and will not be retried.
        """
        last = attempt + 1 >= self.retry.attempts
        if error is not None:
            if last or not isinstance(error, _CONNECT_ERRORS):
                raise ServiceUnreachableError(str(error) or type(error).__name__) from error
            return self.retry.delay(attempt, None)
        if response is not None and response.status_code in _RETRY_STATUS and not last:
            return self.retry.delay(attempt, _retry_after(response))
        return None


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


async def _asleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class FactCheckClient(_Base):
    """Synchronous client; use it as a context manager or call :meth:`close`."""

    def __init__(self, base_url: str = DEFAULT_URL, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.Client(**self._options)

    def __enter__(self) -> FactCheckClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for attempt in itertools.count():
            response, error = None, None
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                error = exc
            wait = self._after(attempt, response, error)
            if wait is None and response is not None:
                return response
            _sleep(wait or 0.0)
        raise AssertionError("unreachable")

    def check(self, statement: str | CheckRequest, **options: Any) -> CheckResponse:
        """Check one statement; ``options`` are fields of ``CheckRequest`` (``top_k``...)."""
        body = _check_body(statement, options)
        return _decode(self._send("POST", "/v1/check", content=body, headers=_JSON), CheckResponse)

    def check_batch(self, items: Sequence[Item]) -> BatchResponse:
        """Check a batch; results in input order, a bad item gets an error in its place."""
        body = msgspec.json.encode({"items": [_item(i) for i in items]})
        response = self._send("POST", "/v1/check/batch", content=body, headers=_JSON)
        return _decode(response, BatchResponse)

    def check_stream(self, items: Iterable[Item]) -> Iterator[ItemResult]:
        """Stream items (of any number) and yield their results as they come, in order.

        Only a failed connection is retried: the items may be a one-shot iterator.
        """
        attempt = 0
        while True:
            try:
                with self._http.stream(
                    "POST", "/v1/check/stream", content=_ndjson(items), headers=_NDJSON
                ) as response:
                    if not response.is_success:
                        response.read()
                        _raise_for(response)
                    for line in response.iter_lines():
                        if line:
                            yield _result_decoder.decode(line)
                    return
            except httpx.TransportError as exc:
                _sleep(self._after(attempt, None, exc) or 0.0)
            attempt += 1

    def ingest(
        self, docs: DocumentIn | Sequence[DocumentIn], *, idempotency_key: str | None = None
    ) -> IngestResponse:
        """Ingest one document or a list, exactly once however often a retry re-sends it."""
        body = _ingest_body(docs)
        headers = _ingest_headers(idempotency_key)
        response = self._send("POST", "/v1/documents", content=body, headers=headers)
        return _decode(response, IngestResponse)

    def _call(self, call: _Call) -> Any:
        return _result(call, self._send(call.method, call.url, **_request_options(call)))

    def list_documents(
        self, *, limit: int = 50, offset: int = 0, source: str | None = None
    ) -> DocumentPage:
        """A page of documents, newest publication date first."""
        page: DocumentPage = self._call(_list_documents(limit, offset, source))
        return page

    def get_document(self, doc_id: str) -> DocumentOut:
        """A stored document with its claims (any id: it is encoded for the path)."""
        doc: DocumentOut = self._call(_Call("GET", _document(doc_id), DocumentOut))
        return doc

    def versions(self, doc_id: str) -> list[DocumentVersion]:
        """Earlier versions of a corrected document, oldest first."""
        rows: list[DocumentVersion] = self._call(
            _Call("GET", _document(doc_id, "/versions"), list[DocumentVersion])
        )
        return rows

    def retract(self, doc_id: str, reason: str = "") -> DocumentOut:
        """Keep a document for the record but never use it as evidence."""
        doc: DocumentOut = self._call(_retract(doc_id, reason))
        return doc

    def unretract(self, doc_id: str) -> DocumentOut:
        """Use a retracted document as evidence again."""
        doc: DocumentOut = self._call(_Call("POST", _document(doc_id, "/unretract"), DocumentOut))
        return doc

    def delete(self, doc_id: str) -> None:
        """Delete a document (its claims, vectors and versions)."""
        self._call(_Call("DELETE", _document(doc_id), None))

    def split(self, text: str) -> SplitResponse:
        """Every sentence of a draft with its offsets."""
        sentences: SplitResponse = self._call(_split(text))
        return sentences

    def feedback(self, judgement: FeedbackRequest) -> FeedbackOut:
        """Store an editor's accept/reject judgement on an evidence link."""
        stored: FeedbackOut = self._call(_feedback(judgement))
        return stored

    def list_feedback(self, *, limit: int = 50, offset: int = 0) -> FeedbackPage:
        """A page of judgements, newest first."""
        params = {"limit": limit, "offset": offset}
        page: FeedbackPage = self._call(_Call("GET", "/v1/feedback", FeedbackPage, params=params))
        return page

    def health(self, *, ready: bool = True) -> Health:
        """``/health/ready`` (or ``/health/live``), asked once: a 503 answer is returned too."""
        try:
            response = self._http.get("/health/ready" if ready else "/health/live")
        except httpx.TransportError as exc:
            raise ServiceUnreachableError(str(exc) or type(exc).__name__) from exc
        return _health(response)


class AsyncFactCheckClient(_Base):
    """Asynchronous client; use it as an async context manager or await :meth:`aclose`."""

    def __init__(self, base_url: str = DEFAULT_URL, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.AsyncClient(**self._options)

    async def __aenter__(self) -> AsyncFactCheckClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for attempt in itertools.count():
            response, error = None, None
            try:
                response = await self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                error = exc
            wait = self._after(attempt, response, error)
            if wait is None and response is not None:
                return response
            await _asleep(wait or 0.0)
        raise AssertionError("unreachable")

    async def check(self, statement: str | CheckRequest, **options: Any) -> CheckResponse:
        """Check one statement; ``options`` are fields of ``CheckRequest`` (``top_k``...)."""
        body = _check_body(statement, options)
        response = await self._send("POST", "/v1/check", content=body, headers=_JSON)
        return _decode(response, CheckResponse)

    async def check_batch(self, items: Sequence[Item]) -> BatchResponse:
        """Check a batch; results in input order, a bad item gets an error in its place."""
        body = msgspec.json.encode({"items": [_item(i) for i in items]})
        response = await self._send("POST", "/v1/check/batch", content=body, headers=_JSON)
        return _decode(response, BatchResponse)

    async def check_stream(
        self, items: Iterable[Item] | AsyncIterable[Item]
    ) -> AsyncIterator[ItemResult]:
        """Stream items and yield their results as they come, in order (see the sync client)."""
        attempt = 0
        while True:
            try:
                async with self._http.stream(
                    "POST", "/v1/check/stream", content=_andjson(items), headers=_NDJSON
                ) as response:
                    if not response.is_success:
                        await response.aread()
                        _raise_for(response)
                    async for line in response.aiter_lines():
                        if line:
                            yield _result_decoder.decode(line)
                    return
            except httpx.TransportError as exc:
                await _asleep(self._after(attempt, None, exc) or 0.0)
            attempt += 1

    async def ingest(
        self, docs: DocumentIn | Sequence[DocumentIn], *, idempotency_key: str | None = None
    ) -> IngestResponse:
        """Ingest one document or a list, exactly once however often a retry re-sends it."""
        body = _ingest_body(docs)
        headers = _ingest_headers(idempotency_key)
        response = await self._send("POST", "/v1/documents", content=body, headers=headers)
        return _decode(response, IngestResponse)

    async def _call(self, call: _Call) -> Any:
        return _result(call, await self._send(call.method, call.url, **_request_options(call)))

    async def list_documents(
        self, *, limit: int = 50, offset: int = 0, source: str | None = None
    ) -> DocumentPage:
        """A page of documents, newest publication date first."""
        page: DocumentPage = await self._call(_list_documents(limit, offset, source))
        return page

    async def get_document(self, doc_id: str) -> DocumentOut:
        """A stored document with its claims (any id: it is encoded for the path)."""
        doc: DocumentOut = await self._call(_Call("GET", _document(doc_id), DocumentOut))
        return doc

    async def versions(self, doc_id: str) -> list[DocumentVersion]:
        """Earlier versions of a corrected document, oldest first."""
        rows: list[DocumentVersion] = await self._call(
            _Call("GET", _document(doc_id, "/versions"), list[DocumentVersion])
        )
        return rows

    async def retract(self, doc_id: str, reason: str = "") -> DocumentOut:
        """Keep a document for the record but never use it as evidence."""
        doc: DocumentOut = await self._call(_retract(doc_id, reason))
        return doc

    async def unretract(self, doc_id: str) -> DocumentOut:
        """Use a retracted document as evidence again."""
        call = _Call("POST", _document(doc_id, "/unretract"), DocumentOut)
        doc: DocumentOut = await self._call(call)
        return doc

    async def delete(self, doc_id: str) -> None:
        """Delete a document (its claims, vectors and versions)."""
        await self._call(_Call("DELETE", _document(doc_id), None))

    async def split(self, text: str) -> SplitResponse:
        """Every sentence of a draft with its offsets."""
        sentences: SplitResponse = await self._call(_split(text))
        return sentences

    async def feedback(self, judgement: FeedbackRequest) -> FeedbackOut:
        """Store an editor's accept/reject judgement on an evidence link."""
        stored: FeedbackOut = await self._call(_feedback(judgement))
        return stored

    async def list_feedback(self, *, limit: int = 50, offset: int = 0) -> FeedbackPage:
        """A page of judgements, newest first."""
        params = {"limit": limit, "offset": offset}
        call = _Call("GET", "/v1/feedback", FeedbackPage, params=params)
        page: FeedbackPage = await self._call(call)
        return page

    async def health(self, *, ready: bool = True) -> Health:
        """``/health/ready`` (or ``/health/live``), asked once: a 503 answer is returned too."""
        try:
            response = await self._http.get("/health/ready" if ready else "/health/live")
        except httpx.TransportError as exc:
            raise ServiceUnreachableError(str(exc) or type(exc).__name__) from exc
        return _health(response)


async def _andjson(items: Iterable[Item] | AsyncIterable[Item]) -> AsyncIterator[bytes]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield msgspec.json.encode(_item(item)) + b"\n"
    else:
        for line in _ndjson(items):
            yield line


__all__ = [
    "APIError",
    "AsyncFactCheckClient",
    "AuthenticationError",
    "ClientError",
    "DocumentNotFoundError",
    "FactCheckClient",
    "InvalidRequestError",
    "Retry",
    "ServiceBusyError",
    "ServiceUnreachableError",
]
