"""API types: the request and response bodies of the HTTP API, the client and the CLI.

Limits are written once as ``Annotated`` aliases so that msgspec validates them and
Litestar documents them in the OpenAPI schema from the same source. Requests forbid
unknown fields; response fields added later get defaults so old clients keep working.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from service.mismatch import Mismatch

# -- named limits ---------------------------------------------------------------------------

# "Not only white space", written with ASCII white space so that Python (msgspec) and
# JSON Schema (ECMA regex) agree on it: their \s differ on characters such as U+0085.
_NOT_BLANK = r"[^ \t\n\r\f\v]"

DocumentId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$",
        description="Caller-chosen document id; derived from the content when absent.",
        examples=["seed-000"],
    ),
]
Title = Annotated[str, Meta(max_length=1_000, description="Headline of the article.")]
# Text that is not all white space (see _NOT_BLANK).
ArticleText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=2_000_000,
        pattern=_NOT_BLANK,
        description="Full text of the article.",
    ),
]
Url = Annotated[str, Meta(max_length=2_000, description="Where the article was published.")]
SourceName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        description="The publisher; two articles of one source are not independent evidence.",
        examples=["reuters"],
    ),
]
LanguageCode = Annotated[str, Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$", examples=["en"])]
# ISO 8601 calendar dates (leap years included) with an optional time: what parse_date
# accepts, so that the schema admits no string the service rejects. [0-9], not \d: Python's
# \d matches every Unicode digit.
_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9][0-9]|[1-9][0-9]{3})"
_LEAP_YEAR = r"(?:[0-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_TIME = (
    r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?"
)
DateString = Annotated[
    str,
    Meta(
        max_length=40,
        pattern=rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29){_TIME}$",
        description="ISO 8601 date or datetime, e.g. 2023-03-17 or 2023-03-17T09:30:00Z.",
        examples=["2023-03-17"],
    ),
]
Statement = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=2_000,
        pattern=_NOT_BLANK,
        description="The statement to check.",
        examples=["Xi visited Moscow in 2022"],
    ),
]
TopK = Annotated[int, Meta(ge=1, le=50, description="How many passages to judge and return.")]
# Item constraints inside lists do not reach the OpenAPI schema (Litestar drops them), so
# filter lists take any strings: a value that matches nothing simply narrows to nothing.
FilterValues = Annotated[
    list[str], Meta(max_length=100, description="Keep passages matching any of these values.")
]
# The Idempotency-Key header: any visible ASCII (UUIDs, random tokens, the draft standard's
# quoted strings). No example: one example key sent with each documented body would conflict.
IdempotencyKey = Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[!-~]+$")]
PageLimit = Annotated[int, Meta(ge=1, le=500)]
PageOffset = Annotated[int, Meta(ge=0)]
Probability = Annotated[float, Meta(ge=0.0, le=1.0)]

Stance = Literal["supports", "neutral", "contradicts"]
Verdict = Literal["supported", "refuted", "conflicting", "not_enough_info"]
DocumentStatus = Literal["active", "corrected", "retracted"]


def parse_date(value: str, field: str) -> dt.date:
    """Parse an ISO date or datetime string to a date, naming ``field`` when it fails."""
    text = value.strip()
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"`{field}` is not an ISO 8601 date or datetime: {value!r}") from None


class Base(msgspec.Struct, kw_only=True):
    """Base of every API type."""


class Request(Base, forbid_unknown_fields=True):
    """Base of request bodies: unknown fields are an error, not silently dropped."""


class Problem(Base):
    """An error as RFC 9457 problem details, sent as ``application/problem+json``."""

    status: Annotated[int, Meta(ge=400, le=599, examples=[422])]
    title: Annotated[str, Meta(examples=["Unprocessable Entity"])]
    detail: Annotated[str, Meta(examples=["`statement` is longer than 2000 characters"])] = ""
    type: Annotated[
        str, Meta(description="urn:factcheck:error:<name> for the service's own errors")
    ] = "about:blank"
    field: Annotated[str, Meta(description="The offending field, when one is to blame")] = ""
    errors: list[dict[str, Any]] = msgspec.field(default_factory=list)


# -- documents ------------------------------------------------------------------------------


class DocumentIn(Request):
    """An article to ingest."""

    text: ArticleText
    id: DocumentId | None = None
    title: Title = ""
    url: Url | None = None
    source: SourceName | None = None
    published_at: DateString | None = None
    language: LanguageCode = "en"
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    # "article": scraped text, cleaned of site furniture and split into sentences.
    # "lines": curated text, one passage per line, each line kept whole.
    layout: Literal["article", "lines"] = "article"

    def __post_init__(self) -> None:
        if self.published_at is not None:
            parse_date(self.published_at, "published_at")


DocumentBatch = Annotated[
    list[DocumentIn],
    Meta(
        min_length=1,
        description="Documents ingested in order, each committed on its own; at most "
        "`max_documents_per_request` (1000 by default).",
    ),
]


class DroppedLine(Base):
    """A line of the article that cleaning kept out of the evidence, and why."""

    start: int
    end: int
    text: str
    reason: str


class IngestResult(Base):
    """What happened to one ingested document."""

    id: str
    status: Literal["created", "unchanged", "replaced"]
    version: int
    claims: int
    dropped: list[DroppedLine] = msgspec.field(default_factory=list)


class IngestResponse(Base):
    """The result of ``POST /v1/documents``."""

    documents: list[IngestResult]
    index_version: str


class DocumentRef(Base):
    """Where a passage comes from."""

    id: str
    title: str
    url: str | None = None
    source: str | None = None
    published_at: str | None = None


class ClaimOut(Base):
    """A claim (sentence) of a stored document."""

    id: int
    text: str
    start: int
    end: int


class DocumentOut(Base):
    """A stored document."""

    id: str
    title: str
    text: str
    url: str | None
    source: str | None
    published_at: str | None
    language: str
    metadata: dict[str, Any]
    status: DocumentStatus
    version: int
    created_at: str
    updated_at: str
    claims: list[ClaimOut] = msgspec.field(default_factory=list)
    retraction_reason: str | None = None


class DocumentSummary(Base):
    """A document in a listing."""

    id: str
    title: str
    source: str | None
    published_at: str | None
    status: DocumentStatus
    version: int
    claims: int


class DocumentPage(Base):
    """One page of ``GET /v1/documents``."""

    items: list[DocumentSummary]
    total: int
    limit: int
    offset: int


class DocumentVersion(Base):
    """An earlier version of a corrected document, kept for audit."""

    version: int
    title: str
    text: str
    published_at: str | None
    replaced_at: str


class RetractRequest(Request):
    """Why a document is retracted."""

    reason: Annotated[str, Meta(max_length=2_000)] = ""


# -- check ----------------------------------------------------------------------------------


class CheckRequest(Request):
    """A statement to check against the corpus."""

    statement: Statement
    top_k: TopK = 5
    sources: FilterValues | None = None
    document_ids: FilterValues | None = None
    published_after: DateString | None = None
    published_before: DateString | None = None
    as_of: DateString | None = None

    def __post_init__(self) -> None:
        for name in ("published_after", "published_before", "as_of"):
            value = getattr(self, name)
            if value is not None:
                parse_date(value, name)


class StanceProbabilities(Base):
    """The stance model's probabilities for one passage."""

    supports: Probability
    neutral: Probability
    contradicts: Probability


class Evidence(Base):
    """One retrieved and judged passage."""

    claim_id: int
    text: str
    context: str
    document: DocumentRef
    start: int
    end: int
    similarity: float
    stance: Stance
    rank: int
    # The stance model's output; null for an off-topic passage (similarity under the verdict
    # rule's floor, 0.30), which the model is not run on because the verdict ignores it.
    probabilities: StanceProbabilities | None = None
    retrieved_by: list[Literal["dense", "lexical"]] = msgspec.field(default_factory=list)
    # A time, number or named-entity conflict with the statement that the stance model
    # does not weigh; when present the passage counts as contradicting (see verdict.py).
    mismatch: Mismatch | None = None


class Timings(Base):
    """Milliseconds spent in each step of a check."""

    embed_ms: float
    retrieve_ms: float
    judge_ms: float
    total_ms: float
    # Statements that shared the embedding and stance calls timed above (micro-batching).
    batch_size: int = 1


class ModelInfo(Base):
    """The models a result was computed with."""

    embedding: str
    stance: str


class CheckResponse(Base):
    """The verdict on a statement with its evidence."""

    statement: str
    verdict: Verdict
    confidence: Probability
    evidence: list[Evidence]
    models: ModelInfo
    index_version: str
    timings: Timings
    reasons: list[str] = msgspec.field(default_factory=list)


# -- split and feedback (the newsroom panel) -------------------------------------------------

Draft = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200_000,
        description="A paragraph or a whole draft, split into sentences as written.",
        examples=["Xi visited Moscow in 2022. He met Putin."],
    ),
]
Judgement = Literal["accept", "reject"]
EditorId = Annotated[str, Meta(min_length=1, max_length=200, examples=["desk-7"])]
Comment = Annotated[str, Meta(max_length=2_000)]


class SplitRequest(Request):
    """A draft to cut into sentences."""

    text: Draft


class Sentence(Base):
    """One sentence of a draft: ``text == draft[start:end]``."""

    start: int
    end: int
    text: str


class SplitResponse(Base):
    """The sentences of a draft, in order."""

    sentences: list[Sentence]


class FeedbackRequest(Request):
    """An editor's judgement on one evidence link of a check."""

    statement: Statement
    claim_id: Annotated[
        int, Meta(ge=1, le=2**53, description="`evidence[].claim_id` of the check.")
    ]
    judgement: Judgement
    stance: Stance | None = None  # the stance the editor saw, when the client shows one
    editor_id: EditorId | None = None
    comment: Comment = ""


class FeedbackOut(Base):
    """A stored judgement, with the evidence it was about as it read at the time."""

    id: int
    statement: str
    claim_id: int
    document_id: str
    evidence_text: str
    judgement: Judgement
    stance: Stance | None
    editor_id: str | None
    comment: str
    created_at: str


class FeedbackPage(Base):
    """One page of ``GET /v1/feedback``, newest first."""

    items: list[FeedbackOut]
    total: int
    limit: int
    offset: int


# -- batch and stream -----------------------------------------------------------------------

ItemId = Annotated[
    str,
    Meta(min_length=1, max_length=200, description="The caller's id of an item, echoed back."),
]


class BatchItem(CheckRequest):
    """One statement of a batch or stream: a check request with the caller's optional id."""

    id: ItemId | int | None = None


class BatchRequest(Request):
    """The body of ``POST /v1/check/batch``."""

    items: Annotated[
        list[Any],
        Meta(
            min_length=1,
            description=(
                "Statements to check, each a `BatchItem` (a check request with an optional "
                "`id`). Items are validated one by one: a bad item gets an error in its "
                "place and the others are still checked."
            ),
        ),
    ]


class ItemError(Base):
    """Why one item of a batch or stream has no result (the fields of a problem+json)."""

    status: int
    type: str
    title: str
    detail: str
    field: str | None = None


class ItemResult(Base):
    """The outcome of one item: exactly the ``/v1/check`` result, or an error."""

    index: int  # 0-based position among the items (stream: among non-blank lines)
    id: str | int | None = None
    line: int | None = None  # stream only: 1-based line number of the input
    result: CheckResponse | None = None
    error: ItemError | None = None


class BatchResponse(Base):
    """The result of ``POST /v1/check/batch``, in input order."""

    results: list[ItemResult]
    succeeded: int
    failed: int
