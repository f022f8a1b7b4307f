"""The service's exceptions: domain code raises these, never HTTP exceptions.

The HTTP layer maps each branch of the tree to one status code::

    FactCheckError                 base of everything the service raises on purpose
    ├── InvalidInputError          the request is well-formed but cannot be served   → 422
    │   └── IdempotencyConflictError an Idempotency-Key reused with another body     → 422
    ├── NotFoundError              a document (or other resource) does not exist     → 404
    ├── ModelMismatchError         the store was built with another embedding model  → 409
    ├── OverloadedError            the model queue is full; retry later              → 503
    │   └── QuotaExceededError     the caller (or stream) holds its share of it      → 429
    ├── WorkCancelledError         work stopped: past its deadline, or client gone   → 503
    └── StoreError                 the store failed (I/O, corruption, lost server)   → 503
"""

from __future__ import annotations


class FactCheckError(Exception):
    """Base class of the service's own exceptions."""


class InvalidInputError(FactCheckError, ValueError):
    """A request that passed schema validation but cannot be served as asked."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class IdempotencyConflictError(InvalidInputError):
    """An ``Idempotency-Key`` already used by the caller for a request with another body."""


class NotFoundError(FactCheckError, LookupError):
    """A resource named by the request does not exist."""


class ModelMismatchError(FactCheckError):
    """The store's embeddings come from another model than the configured one."""


class OverloadedError(FactCheckError):
    """Too much work is queued; the caller should retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int = 1, limit: str = "queue") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit  # which limit was hit, named in the problem+json


class QuotaExceededError(OverloadedError):
    """The caller's (or its stream's) share of the model queue is full; the caller waits."""


class WorkCancelledError(FactCheckError):
    """Work stopped at a model call because its request's deadline passed."""


class StoreError(FactCheckError):
    """The store could not complete an operation."""


HTTP_STATUS: dict[type[FactCheckError], int] = {
    IdempotencyConflictError: 422,
    InvalidInputError: 422,
    NotFoundError: 404,
    ModelMismatchError: 409,
    QuotaExceededError: 429,
    OverloadedError: 503,
    WorkCancelledError: 503,
    StoreError: 503,
    FactCheckError: 500,
}
"""The status code of each branch of the tree, most specific first."""


def http_status(exc: FactCheckError) -> int:
    """The HTTP status code an exception of the tree answers with."""
    return next(code for cls, code in HTTP_STATUS.items() if isinstance(exc, cls))


def problem_type(exc: FactCheckError) -> str:
    """The ``type`` URI of the problem+json an exception answers with."""
    return f"urn:factcheck:error:{type(exc).__name__}"
