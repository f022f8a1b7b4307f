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
replay that response once it is there. A claim is held for ``request_timeout_s``, the
deadline of the ingest it guards: a claim older than that belongs to a request that has
already answered 503, or to a process that died, and the next request with the key takes
it over. Taking over never writes twice, because ingestion is idempotent by content:
documents already committed come back ``unchanged``. A request that fails drops its
claim, so a retry runs anew.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable
from typing import TypeVar

import anyio
import msgspec
from anyio import to_thread

from service.errors import IdempotencyConflictError, InvalidInputError, StoreError
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


def run_claimed(store: Store, claim: IdempotencyRecord, status: int, run: Callable[[], R]) -> R:
    """``run()`` under an owned claim; its result is stored as the response to replay.

    Runs in the worker thread with the write itself, so the response is recorded even
    when the request has answered 503 at its deadline meanwhile.
    """
    try:
        result = run()
    except BaseException:
        with contextlib.suppress(StoreError):  # else the lease frees the key
            store.release_idempotency_key(claim)
        raise
    store.finish_idempotency_key(claim, status, msgspec.json.encode(result))
    return result
