"""factcheck: check statements against a newsroom corpus over HTTP.

The public API: the app factory and its settings, the API types, the exceptions, and
the Python client (:mod:`service.client`).
"""

from service.app import create_app
from service.client import (
    APIError,
    AsyncFactCheckClient,
    AuthenticationError,
    ClientError,
    DocumentNotFoundError,
    FactCheckClient,
    InvalidRequestError,
    Retry,
    ServiceBusyError,
    ServiceUnreachableError,
)
from service.errors import (
    FactCheckError,
    InvalidInputError,
    ModelMismatchError,
    NotFoundError,
    OverloadedError,
    StoreError,
)
from service.schemas import (
    BatchItem,
    BatchResponse,
    CheckRequest,
    CheckResponse,
    DocumentIn,
    DocumentOut,
    DocumentPage,
    DocumentVersion,
    Evidence,
    FeedbackOut,
    FeedbackPage,
    FeedbackRequest,
    Health,
    IngestResponse,
    ItemResult,
    SplitResponse,
)
from service.settings import Settings

__all__ = [
    "APIError",
    "AsyncFactCheckClient",
    "AuthenticationError",
    "BatchItem",
    "BatchResponse",
    "CheckRequest",
    "CheckResponse",
    "ClientError",
    "DocumentIn",
    "DocumentNotFoundError",
    "DocumentOut",
    "DocumentPage",
    "DocumentVersion",
    "Evidence",
    "FactCheckClient",
    "FactCheckError",
    "FeedbackOut",
    "FeedbackPage",
    "FeedbackRequest",
    "Health",
    "IngestResponse",
    "InvalidInputError",
    "InvalidRequestError",
    "ItemResult",
    "ModelMismatchError",
    "NotFoundError",
    "OverloadedError",
    "Retry",
    "ServiceBusyError",
    "ServiceUnreachableError",
    "Settings",
    "SplitResponse",
    "StoreError",
    "create_app",
]
