"""Batch and stream checking: items validated one by one, results in order, NDJSON framing.

A batch (``POST /v1/check/batch``) and a stream (``POST /v1/check/stream``) both carry
items that are check requests with an optional caller ``id``. Each item is validated
on its own, so one bad item gets an error in its place and never fails the others. Good
items go to the engine's micro-batcher; results come back in input order.

The stream reads NDJSON as it arrives (lines may be split across chunks; blank lines are
skipped; a line longer than the limit is an error line) and writes one result line per
item as soon as it and the items before it are done. At most ``window`` items of one
stream are in flight, so neither side holds a large job in memory; when the shared queue
is full the stream waits for room rather than failing lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from concurrent.futures import Future
from http import HTTPStatus

import msgspec
from litestar.types import Receive

from service.bodies import FIELD, BodyError, decode_json, strict_convert
from service.engine import Engine
from service.errors import FactCheckError, OverloadedError, http_status, problem_type
from service.schemas import BatchItem, BatchResponse, CheckResponse, ItemError, ItemResult
from service.telemetry import error_log

Outcome = CheckResponse | ItemError
_RETRY_S = 0.01  # how often a stream retries a full queue

_encoder = msgspec.json.Encoder()


# An item cancelled because its client went away; the line is never written.
_CLIENT_GONE = ItemError(
    status=499,
    type="urn:factcheck:error:ClientClosedRequest",
    title="Client Closed Request",
    detail="the client closed the connection",
)


def item_error(exc: Exception) -> ItemError:
    """An exception as the problem+json fields of one item's error."""
    if isinstance(exc, FactCheckError):
        status = http_status(exc)
        field = getattr(exc, "field", None)
        return ItemError(
            status=status,
            type=problem_type(exc),
            title=HTTPStatus(status).phrase,
            detail=str(exc),
            field=field,
        )
    if isinstance(exc, msgspec.ValidationError):
        return ItemError(
            status=422,
            type="urn:factcheck:error:InvalidItem",
            title=HTTPStatus(422).phrase,
            detail=str(exc),
            field=match.group(1) if (match := FIELD.search(str(exc))) else None,
        )
    if isinstance(exc, BodyError):
        return ItemError(
            status=400,
            type="urn:factcheck:error:InvalidJSON",
            title=HTTPStatus(400).phrase,
            detail=str(exc),
        )
    return ItemError(
        status=500,
        type="urn:factcheck:error:Internal",
        title=HTTPStatus(500).phrase,
        detail="internal error while checking this item",
    )


def _caller_id(raw: object) -> str | int | None:
    """The ``id`` of an item that failed validation, when it has a usable one."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def parse_item(raw: object) -> BatchItem | ItemError:
    """One item of a batch body, or the reason it is not a valid check request."""
    try:
        result: BatchItem = strict_convert(raw, BatchItem)
        return result
    except msgspec.ValidationError as exc:
        return item_error(exc)


def parse_line(line: bytes, max_depth: int) -> tuple[BatchItem | ItemError, str | int | None]:
    """One NDJSON line as an item (or its error), with the caller's id when it has one."""
    try:
        raw = decode_json(line, max_depth, "line")
    except BodyError as exc:
        return item_error(exc), None
    item = parse_item(raw)
    return item, item.id if isinstance(item, BatchItem) else _caller_id(raw)


def item_result(
    index: int, caller_id: str | int | None, outcome: Outcome, line: int | None = None
) -> ItemResult:
    """The result entry of one item."""
    if isinstance(outcome, ItemError):
        return ItemResult(index=index, id=caller_id, line=line, error=outcome)
    return ItemResult(index=index, id=caller_id, line=line, result=outcome)


async def _outcome(future: Future[CheckResponse]) -> Outcome:
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        if not future.cancelled():
            raise  # this task was cancelled, not the item
        return _CLIENT_GONE
    except Exception as exc:  # the item's own error; others in the batch are unaffected
        if not isinstance(exc, FactCheckError):  # a bug: logged here, once, with the request id
            error_log.error("unhandled %s while checking an item", type(exc).__name__, exc_info=exc)
        return item_error(exc)


def merge(parsed: Sequence[BatchItem | ItemError], outcomes: Iterable[Outcome]) -> list[Outcome]:
    """Outcomes of the valid items put back between the errors of the invalid ones."""
    valid = iter(outcomes)
    return [next(valid) if isinstance(item, BatchItem) else item for item in parsed]


def check_now(engine: Engine, raw_items: Sequence[object]) -> list[Outcome]:
    """Check items in this thread with one model call each for embedding and stance."""
    parsed = [parse_item(raw) for raw in raw_items]
    results = engine.check_many([item for item in parsed if isinstance(item, BatchItem)])
    return merge(parsed, (r if isinstance(r, CheckResponse) else item_error(r) for r in results))


async def check_batch(engine: Engine, raw_items: Sequence[object], *, caller: str) -> BatchResponse:
    """Validate each item, check the valid ones together, and answer in input order.

    Raises:
        OverloadedError: The queue has no room for the batch (nothing was queued).
    """
    parsed = [parse_item(raw) for raw in raw_items]
    valid = [item for item in parsed if isinstance(item, BatchItem)]
    futures = engine.submit(valid, caller=caller)
    outcomes = merge(parsed, [await _outcome(f) for f in futures])
    results = [
        item_result(i, item.id if isinstance(item, BatchItem) else _caller_id(raw), outcome)
        for i, (raw, item, outcome) in enumerate(zip(raw_items, parsed, outcomes, strict=True))
    ]
    failed = sum(r.error is not None for r in results)
    return BatchResponse(results=results, succeeded=len(results) - failed, failed=failed)


async def ndjson_lines(
    chunks: AsyncIterable[bytes], max_line_bytes: int
) -> AsyncIterator[tuple[int, bytes | ItemError]]:
    """Non-blank lines of an NDJSON body as ``(line number, bytes)``, however it is chunked.

    A line longer than ``max_line_bytes`` is reported as an error in its place and skipped
    without being buffered; a last line without a newline still counts.
    """
    number, buffer, skipping = 0, bytearray(), False
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            number += 1
            if not skipping:
                buffer += chunk[start:end]
                if len(buffer) > max_line_bytes:
                    yield number, _too_long(max_line_bytes)
                elif buffer.strip():
                    yield number, bytes(buffer)
            buffer.clear()
            skipping = False
            start = end + 1
        if not skipping:
            buffer += chunk[start:]
            if len(buffer) > max_line_bytes:
                buffer.clear()
                skipping = True
                yield number + 1, _too_long(max_line_bytes)
    if buffer.strip() and not skipping:
        yield number + 1, bytes(buffer)


def _too_long(limit: int) -> ItemError:
    return ItemError(
        status=413,
        type="urn:factcheck:error:LineTooLong",
        title=HTTPStatus(413).phrase,
        detail=f"the line is longer than {limit} bytes",
    )


async def _submit_waiting(
    engine: Engine, item: BatchItem, caller: str, stream: str
) -> Future[CheckResponse]:
    """Queue one item, waiting for room: a stream has answered 200 and cannot 503 a line.

    Room in the queue, and within the caller's and the stream's own shares of it.
    """
    while True:
        try:
            return engine.submit([item], caller=caller, stream=stream)[0]
        except OverloadedError:
            await asyncio.sleep(_RETRY_S)


_Entry = tuple[int, int, str | int | None, Future[CheckResponse] | ItemError]


async def check_stream(
    engine: Engine,
    receive: Receive,
    *,
    caller: str,
    window: int,
    max_line_bytes: int,
    max_depth: int,
) -> AsyncIterator[bytes]:
    """NDJSON result lines for the NDJSON request body that ``receive`` delivers, in order.

    A client that goes away stops its work. Writes to a closed connection fail silently,
    so a pump reads the ASGI messages on its own, handing body chunks to the reader (two at
    most waiting) and, between chunks and once the body is read, seeing the disconnect at
    once: every queued item of the stream is then cancelled (the micro-batcher skips them
    at its next model call), the reader stops and the response ends.
    """
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=2)
    pending: asyncio.Queue[_Entry | None] = asyncio.Queue(maxsize=window)
    in_flight: set[Future[CheckResponse]] = set()
    gone = asyncio.Event()
    stream = f"{caller}/{uuid.uuid4().hex}"  # this stream's own quota

    async def pump() -> None:
        while (message := await receive())["type"] == "http.request":
            if body := message["body"]:
                await chunks.put(body)
            if not message.get("more_body", False):
                await chunks.put(None)
        gone.set()  # also when the response is complete: nothing is in flight then
        _cancel(in_flight)
        with contextlib.suppress(asyncio.QueueFull):
            chunks.put_nowait(None)  # wakes a reader waiting for the body

    async def body() -> AsyncIterator[bytes]:
        while (chunk := await chunks.get()) is not None:
            yield chunk

    async def read() -> None:
        index = 0
        async for line_no, line in ndjson_lines(body(), max_line_bytes):
            if gone.is_set():
                break
            if isinstance(line, ItemError):
                entry: _Entry = (index, line_no, None, line)
            else:
                item, caller_id = parse_line(line, max_depth)
                queued = (
                    await _submit_waiting(engine, item, caller, stream)
                    if isinstance(item, BatchItem)
                    else item
                )
                if isinstance(queued, Future):
                    in_flight.add(queued)
                    queued.add_done_callback(in_flight.discard)
                entry = (index, line_no, caller_id, queued)
            await pending.put(entry)
            index += 1
        await pending.put(None)

    tasks = [asyncio.create_task(pump()), asyncio.create_task(read())]
    try:
        while (entry := await pending.get()) is not None and not gone.is_set():
            index, line_no, caller_id, waiting = entry
            outcome = waiting if isinstance(waiting, ItemError) else await _outcome(waiting)
            if gone.is_set():
                return  # nobody reads the rest
            yield _encoder.encode(item_result(index, caller_id, outcome, line_no)) + b"\n"
    finally:
        for task in tasks:
            task.cancel()
        _cancel(in_flight)


def _cancel(futures: set[Future[CheckResponse]]) -> None:
    for future in list(futures):  # done callbacks remove them from another thread
        future.cancel()
