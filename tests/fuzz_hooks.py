"""Schemathesis hooks for tests/test_fuzz.py, loaded through ``SCHEMATHESIS_HOOKS``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import schemathesis

IDEMPOTENCY_KEY = "Idempotency-Key"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Give each body of a generated ingest its own ``Idempotency-Key``, as clients do.

    Hypothesis reuses generated values across cases, and the same key with another body is
    a 422 by design, which the positive-data check would report as a valid request
    rejected. The key keeps its generated characters and gets the body's hash appended, so
    an identical request (a retry) still carries the same key. Negative cases are left
    alone: they may be testing an invalid key.
    """
    key = (case.headers or {}).get(IDEMPOTENCY_KEY)
    if key is None or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    body = json.dumps(case.body, sort_keys=True, default=repr).encode()
    case.headers[IDEMPOTENCY_KEY] = f"{key[:238]}-{hashlib.sha256(body).hexdigest()[:16]}"
