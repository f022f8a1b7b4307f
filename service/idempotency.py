"""Idempotent writes: the ``Idempotency-Key`` request header of ``POST /v1/documents``.

A client that may retry an ingest (a timeout, a lost connection) sends a key of its
choosing with it, fresh for each new request (after draft-ietf-httpapi-idempotency-key-
header):

* the same key with the same body (compared as a hash of the canonical, validated body)
  answers the first response again, status and body, and writes nothing more;
* the same key with another body is an :class:`IdempotencyConflictError` (422);
* keys belong to the caller (the API key's name when keys are on), so two clients never
  collide, and expire ``idempotency_ttl_s`` after their claim; expiry is lazy: every
  claim first deletes the expired keys.

Keys live in the store, so every replica on a shared store sees them and they survive a
restart. Concurrent requests with one key: the first claims it with one insert that the
store's (scope, key) unique constraint lets only one of them win, then ingests and
stores its response; the others poll the store (every 25 ms, backing off to 0.4 s) and
replay that response once it is there. A claim holds a lease of ``request_timeout_s``
that a heartbeat renews for as long as its work runs, even past the request's 503 at its
deadline (the work stops at its next model call, then drops the claim): a retry never
runs a second copy beside it. Only the claim of a process that died runs out of lease
and is taken over by the next request with the key; taking over never writes twice,
because ingestion is idempotent by content (documents already committed come back
``unchanged``). A request that fails drops its claim, so a retry runs anew; one whose
work finished after its 503 records that work's response, which a retry replays.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

import anyio
import msgspec
from anyio import to_thread

from service.errors import (
    IdempotencyConflictError,
    InvalidInputError,
    StoreError,
    WorkCancelledError,
)
from service.runner import Work
from service.schemas import IdempotencyKey
from service.store import IdempotencyRecord, Store

HEADER = "Idempotency-Key"
POLL_FIRST_S, POLL_MAX_S = 0.025, 0.4

R = TypeVar("R")


def parse_key(value: str) -> str:
    """The header's value if it is a valid key, else InvalidInputError naming the header."""
    try:
        return msgspec.convert(value, IdempotencyKey)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(f"`{HEADER}`: {exc}", field=HEADER) from None


def request_hash(body: object) -> str:
    """SHA-256 of the validated body as canonical JSON (sorted keys, defaults filled in)."""
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()


async def claim(
    store: Store, scope: str, key: str, body_hash: str, *, ttl_s: float, lease_s: float
) -> IdempotencyRecord:
    """Claim the key, or wait for its holder's response.

    Returns a record with a status (the response to replay) or one without (the key is
    now the caller's: run the request with :func:`run_claimed`).
    """
    mine = IdempotencyRecord(scope=scope, key=key, request_hash=body_hash, token=uuid.uuid4().hex)
    delay = POLL_FIRST_S
    while True:
        found = await to_thread.run_sync(store.claim_idempotency_key, mine, ttl_s, lease_s)
        if found.request_hash != body_hash:
            raise IdempotencyConflictError(
                f"`{HEADER}` {key!r} was used for a request with another body; "
                "send a new key for a new request",
                field=HEADER,
            )
        if found.status is not None or found.token == mine.token:
            return found
        await anyio.sleep(delay)
        delay = min(2 * delay, POLL_MAX_S)


def run_claimed(
    store: Store,
    claim: IdempotencyRecord,
    status: int,
    run: Callable[[], R],
    work: Work,
    lease_s: float,
) -> R:
    """``run()`` under an owned claim; its result is stored as the response to replay.

    Runs in the worker thread with the write itself, so the response is recorded even
    when the request has answered 503 at its deadline meanwhile: a replay reports what
    was really done. While ``run()`` runs, a heartbeat thread renews the claim's lease
    every third of it, so no retry takes the key over while the work still runs (only
    once its process died); work cancelled at its deadline stops at its next model call
    and then drops the claim. Work whose claim was taken over (its lease ran out while
    it waited for a worker) does not start, or stops.
    """
    if not store.renew_idempotency_key(claim):
        raise WorkCancelledError(f"`{HEADER}` {claim.key!r} was taken over by a retry")
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(lease_s / 3):
            with contextlib.suppress(StoreError):  # a missed beat: the next one renews
                if not store.renew_idempotency_key(claim):
                    work.cancel()
                    return

    beat = threading.Thread(target=heartbeat, name="idempotency-heartbeat", daemon=True)
    beat.start()
    try:
        result = run()
    except BaseException:
        with contextlib.suppress(StoreError):  # else the lease frees the key
            store.release_idempotency_key(claim)
        raise
    finally:
        stop.set()
    store.finish_idempotency_key(claim, status, msgspec.json.encode(result))
    return result
