"""factcheck: check statements against a newsroom corpus over HTTP.

The public API: the app factory and its settings, the API types, and the exceptions.
"""

from service.app import create_app
from service.errors import (
    FactCheckError,
    InvalidInputError,
    ModelMismatchError,
    NotFoundError,
    OverloadedError,
    StoreError,
)
from service.schemas import CheckRequest, CheckResponse, DocumentIn, Evidence, IngestResponse
from service.settings import Settings

__all__ = [
    "CheckRequest",
    "CheckResponse",
    "DocumentIn",
    "Evidence",
    "FactCheckError",
    "IngestResponse",
    "InvalidInputError",
    "ModelMismatchError",
    "NotFoundError",
    "OverloadedError",
    "Settings",
    "StoreError",
    "create_app",
]
