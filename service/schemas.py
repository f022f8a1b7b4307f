"""API types: the request and response bodies of the HTTP API, the client and the CLI.

Limits are written once as ``Annotated`` aliases so that msgspec validates them and
Litestar documents them in the OpenAPI schema from the same source. Requests forbid
unknown fields; response fields added later get defaults so old clients keep working.

Every field carries an example (``Meta(examples=...)``), all from one story: the demo
corpus's report of Xi Jinping's March 2023 visit to Moscow (``seed-003``) and a check of
"Xi visited Moscow in 2022" against it. The OpenAPI schema shows them, Swagger composes
whole bodies from them, and schemathesis sends them, so each must be valid for its field
(``tests/test_openapi.py`` checks that every request and response type has them).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from service.judge.coverage import Detail
from service.judge.mismatch import Mismatch

# -- the example story ----------------------------------------------------------------------

EXAMPLE_DOC = "seed-003"
EXAMPLE_TITLE = "Chinese President Xi Jinping visits President Putin in Moscow"
EXAMPLE_TEXT = (
    "Chinese President Xi Jinping visits President Putin in Moscow\n\n"
    "Chinese President Xi Jinping is scheduled to visit Russia from Monday to Wednesday, "
    "demonstrating his support for Russian President Vladimir Putin amid heightened "
    "East-West tensions over the Ukraine war, and Beijing's bold diplomatic move.\n\n"
    "Kremlin spokesman Dmitry Peskov said Putin and President Xi Jinping will meet "
    "one-on-one at an informal dinner on Monday."
)
EXAMPLE_STATEMENT = "Xi visited Moscow in 2022"
EXAMPLE_URL = "https://news.example.org/world/2023/03/17/xi-visits-putin-in-moscow"
EXAMPLE_PASSAGE = EXAMPLE_TITLE  # the headline is the document's first claim
EXAMPLE_TIME = "2023-03-17T09:30:00+00:00"  # when the store wrote something

# -- named limits ---------------------------------------------------------------------------

# "Not only white space": white space spelled out (Unicode's, and the zero-width characters
# that render as nothing) so that Python (msgspec) and JSON Schema (ECMA regex) agree on
# it: their \s differ on characters such as U+0085, and neither counts U+200B.
_NOT_BLANK = (
    r"[^ \t\n\r\f\v\u0085\u00a0\u1680\u180e\u2000-\u200d\u2028\u2029\u202f\u205f\u2060"
    r"\u3000\ufeff]"
)
# The end of the text. Python's `$` also matches before a final newline ("wire-17\n") and
# ECMA regex has no `\Z`, so the schema carries `$` and the newline is excluded explicitly.
_END = r"$(?!\n)"

# Document ids: any printable text (slashes, spaces, any script) without control
# characters, up to MAX_ID_CHARS. (?![\s\S]) is the end of the string in both Python and
# JSON Schema (ECMA) regexes; Python's $ would also match before a final newline.
MAX_ID_CHARS = 512
_CONTROL = r"\x00-\x1f\x7f-\x9f"
DOCUMENT_ID_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL} ][^{_CONTROL}]*(?![\s\S])"
DocumentId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_ID_CHARS,
        pattern=DOCUMENT_ID_PATTERN,
        description=(
            f"Caller-chosen document id, derived from the content when absent: any text of "
            f"1-{MAX_ID_CHARS} characters, not only spaces, without control characters "
            "(slashes, spaces and any script are fine). In a URL path it is percent-encoded "
            "as one segment: `news/2024/05/budget vote` is "
            "`/v1/documents/news%2F2024%2F05%2Fbudget%20vote`."
        ),
        examples=[EXAMPLE_DOC],
    ),
]
MAX_TITLE_CHARS = 1_000
Title = Annotated[
    str,
    Meta(
        max_length=MAX_TITLE_CHARS, description="Headline of the article.", examples=[EXAMPLE_TITLE]
    ),
]
# Text that is not all white space (see _NOT_BLANK).
ArticleText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=2_000_000,
        pattern=_NOT_BLANK,
        description="Full text of the article.",
        examples=[EXAMPLE_TEXT],
    ),
]
Url = Annotated[
    str,
    Meta(
        max_length=2_000,
        # a web link only: the panel renders it as one, and javascript: or data: would run
        pattern=rf"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f]+{_END}",
        description="Where the article was published (an http or https URL).",
        examples=[EXAMPLE_URL],
    ),
]
# As stored: documents ingested before URLs had to be web links may hold anything.
StoredUrl = Annotated[str | None, Meta(examples=[EXAMPLE_URL])]
SourceName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        description="The publisher; two articles of one source are not independent evidence.",
        examples=["reuters"],
    ),
]
DocumentLanguage = Annotated[
    str,
    Meta(
        pattern=rf"^[a-z]{{2,3}}(-[A-Za-z]{{2,4}})?{_END}",
        description="The text's language; detected when absent. The service checks "
        "English: passages of other languages are flagged in check results.",
        examples=["en"],
    ),
]
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
        pattern=rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29){_TIME}{_END}",
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
        examples=[EXAMPLE_STATEMENT],
    ),
]
TopK = Annotated[
    int, Meta(ge=1, le=50, description="How many passages to judge and return.", examples=[5])
]
# Item constraints inside lists do not reach the OpenAPI schema (Litestar drops them), so
# filter lists take any strings: a value that matches nothing simply narrows to nothing.
FilterValues = Annotated[
    list[str], Meta(max_length=100, description="Keep passages matching any of these values.")
]
# The Idempotency-Key header: any visible ASCII (UUIDs, random tokens, the draft standard's
# quoted strings). No example: one example key sent with each documented body would conflict.
IdempotencyKey = Annotated[str, Meta(min_length=1, max_length=255, pattern=rf"^[!-~]+{_END}")]
Probability = Annotated[float, Meta(ge=0.0, le=1.0)]
# Response fields: what the service fills in, with their examples.
Offset = Annotated[int, Meta(description="Character offset into the document's text.")]
Count = Annotated[int, Meta(examples=[5])]
ClaimId = Annotated[int, Meta(examples=[41])]
Version = Annotated[int, Meta(examples=[1])]
Timestamp = Annotated[str, Meta(description="ISO 8601, UTC.", examples=[EXAMPLE_TIME])]
IndexVersion = Annotated[
    str,
    Meta(description="The corpus a result was computed on; every change moves it.", examples=["5"]),
]
PageLimitOut = Annotated[int, Meta(examples=[50])]
PageOffsetOut = Annotated[int, Meta(examples=[0])]

Stance = Annotated[Literal["supports", "neutral", "contradicts"], Meta(examples=["contradicts"])]
Verdict = Annotated[
    Literal["supported", "refuted", "conflicting", "not_enough_info"],
    Meta(
        description=(
            "`supported`: independent sources together support the statement (noisy-OR of "
            "the strongest passage per source, weighted by relevance, at least 0.5) and none "
            "contradict it as strongly; `refuted`: they contradict it; `conflicting`: both "
            "support and contradiction pass 0.5; `not_enough_info`: neither does (no passage "
            "on the topic, or none decisive)."
        ),
        examples=["refuted"],
    ),
]
REASONS_DESCRIPTION = (
    "Why the verdict is what it is, as `code` or `code:count`: "
    "`supported_by_sources:N` / `contradicted_by_sources:N` (independent sources whose "
    "passages support / contradict past 0.5); `time_mismatch:N`, `number_mismatch:N`, "
    "`entity_mismatch:N`, `polarity_mismatch:N` (contradicting passages with a time, "
    "number, named-entity or did-not-happen conflict found by the rules); "
    "`outlets_disagree` (one source states the statement's detail, another contradicts "
    "it: the verdict is `conflicting`); `no_relevant_evidence` "
    "(no passage on the topic); `no_decisive_evidence` (on-topic passages, none decisive); "
    "`support_below_floor` (unverified although `supported` is the most probable verdict: "
    "its probability, in `scores.probabilities`, is under the support floor)."
)
CONFIDENCE_DESCRIPTION = (
    "The calibrated probability that the verdict is right: the fitted verdict model's "
    "probability of it (`scores.probabilities`), fitted on labelled claims never reported on. "
    "Of many results with confidence 0.7, about 70 % are right. A `conflicting` verdict "
    "said because outlets disagree (reason `outlets_disagree`) has as confidence the share "
    "of such training claims that were conflicting. An unverified statement that leans "
    "supported (reason `support_below_floor`) has a low confidence: it is probably true, "
    "but not probably enough to say so."
)
DocumentStatus = Annotated[Literal["active", "corrected", "retracted"], Meta(examples=["active"])]


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
    detail: Annotated[str, Meta(examples=["at most 256 items per batch, got 300"])] = ""
    type: Annotated[
        str,
        Meta(
            description="urn:factcheck:error:<name> for the service's own errors",
            examples=["urn:factcheck:error:InvalidInputError"],
        ),
    ] = "about:blank"
    field: Annotated[
        str, Meta(description="The offending field, when one is to blame", examples=["items"])
    ] = ""
    limit: Annotated[
        str,
        Meta(
            description="429 and 503: the limit that was hit (queue, batch_share, "
            "caller_share, stream_share, rate_limit, deadline, starting)",
            examples=["caller_share"],
        ),
    ] = ""
    errors: Annotated[
        list[dict[str, Any]],
        Meta(
            description="Schema validation errors (400), one per offending field.",
            examples=[[{"message": "Expected `int` <= 50", "key": "top_k", "source": "body"}]],
        ),
    ] = msgspec.field(default_factory=list)


# -- documents ------------------------------------------------------------------------------


class DocumentIn(Request):
    """An article to ingest."""

    text: ArticleText
    id: DocumentId | None = None
    title: Title = ""
    url: Url | None = None
    source: SourceName | None = None
    published_at: DateString | None = None
    language: DocumentLanguage | None = None
    metadata: Annotated[
        dict[str, Any], Meta(examples=[{"section": "world", "desk": "Moscow bureau"}])
    ] = msgspec.field(default_factory=dict)
    # "article": scraped text, cleaned of site furniture and split into sentences.
    # "lines": curated text, one passage per line, each line kept whole.
    layout: Annotated[Literal["article", "lines"], Meta(examples=["article"])] = "article"
    format: Annotated[
        Literal["text", "html"],
        Meta(
            description="`text`: plain text, cleaned line by line. `html`: a web page; the "
            "article text is extracted (navigation, ads, bylines, comments and footers left "
            "out) and stored as the document's text, with the page's title, date, author "
            "(`metadata.author`) and canonical URL where the request gives none.",
            examples=["text"],
        ),
    ] = "text"

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

    start: Annotated[Offset, Meta(examples=[67])]
    end: Annotated[Offset, Meta(examples=[81])]
    text: Annotated[str, Meta(examples=["Advertisements"])]
    reason: Annotated[str, Meta(examples=["widget, ad or credit"])]


class IngestResult(Base):
    """What happened to one ingested document."""

    id: Annotated[str, Meta(examples=[EXAMPLE_DOC])]
    status: Annotated[
        Literal["created", "unchanged", "replaced", "retracted", "failed"],
        Meta(
            description=(
                "`created`: new id. `unchanged`: same content as stored, nothing written. "
                "`replaced`: new content for an existing id (the old version is kept). "
                "`retracted`: same content as a retracted document, which stays retracted "
                "(`POST /v1/documents/{doc_id}/unretract` brings it back). `failed`: this "
                "document alone hit an internal error (in `error`); nothing of it was "
                "written, and the other documents of the request were ingested as usual."
            ),
            examples=["created"],
        ),
    ]
    version: Version
    claims: Annotated[int, Meta(examples=[38])]
    dropped: list[DroppedLine] = msgspec.field(default_factory=list)
    retracted: Annotated[
        bool,
        Meta(
            description="The document is retracted: stored, never evidence. A new version "
            "of a retracted document stays retracted.",
            examples=[False],
        ),
    ] = False
    error: ItemError | None = None


class IngestResponse(Base):
    """The result of ``POST /v1/documents``."""

    documents: list[IngestResult]
    index_version: IndexVersion


class DocumentRef(Base):
    """Where a passage comes from."""

    id: Annotated[str, Meta(examples=[EXAMPLE_DOC])]
    title: Annotated[str, Meta(examples=[EXAMPLE_TITLE])]
    url: StoredUrl = None
    source: Annotated[str | None, Meta(examples=["reuters"])] = None
    published_at: Annotated[str | None, Meta(examples=["2023-03-17"])] = None
    language: Annotated[
        str,
        Meta(
            description="The document's language (given at ingest, else detected). Not `en`: "
            "the passage was judged by English models and its stance means little.",
            examples=["en"],
        ),
    ] = "en"


class ClaimOut(Base):
    """A claim (sentence) of a stored document."""

    id: ClaimId
    text: Annotated[str, Meta(examples=[EXAMPLE_PASSAGE])]
    start: Annotated[Offset, Meta(examples=[4])]
    end: Annotated[Offset, Meta(examples=[65])]


class DocumentOut(Base):
    """A stored document."""

    id: Annotated[str, Meta(examples=[EXAMPLE_DOC])]
    title: Annotated[str, Meta(examples=[EXAMPLE_TITLE])]
    text: Annotated[str, Meta(examples=[EXAMPLE_TEXT])]
    url: StoredUrl
    source: Annotated[str | None, Meta(examples=["reuters"])]
    published_at: Annotated[str | None, Meta(examples=["2023-03-17"])]
    language: Annotated[str, Meta(examples=["en"])]
    metadata: Annotated[dict[str, Any], Meta(examples=[{"section": "world"}])]
    status: DocumentStatus
    version: Version
    created_at: Timestamp
    updated_at: Timestamp
    claims: list[ClaimOut] = msgspec.field(default_factory=list)
    retraction_reason: Annotated[
        str | None, Meta(examples=["The visit dates in this report were wrong."])
    ] = None


class DocumentSummary(Base):
    """A document in a listing."""

    id: Annotated[str, Meta(examples=[EXAMPLE_DOC])]
    title: Annotated[str, Meta(examples=[EXAMPLE_TITLE])]
    source: Annotated[str | None, Meta(examples=["reuters"])]
    published_at: Annotated[str | None, Meta(examples=["2023-03-17"])]
    status: DocumentStatus
    version: Version
    claims: Annotated[int, Meta(examples=[38])]


class DocumentPage(Base):
    """One page of ``GET /v1/documents``."""

    items: list[DocumentSummary]
    total: Count
    limit: PageLimitOut
    offset: PageOffsetOut


class DocumentVersion(Base):
    """An earlier version of a corrected document, kept for audit."""

    version: Version
    title: Annotated[str, Meta(examples=[EXAMPLE_TITLE])]
    text: Annotated[str, Meta(examples=[EXAMPLE_TEXT])]
    published_at: Annotated[str | None, Meta(examples=["2023-03-17"])]
    replaced_at: Timestamp


class RetractRequest(Request):
    """Why a document is retracted."""

    reason: Annotated[
        str, Meta(max_length=2_000, examples=["The visit dates in this report were wrong."])
    ] = ""


# -- check ----------------------------------------------------------------------------------


class CheckRequest(Request):
    """A statement to check against the corpus."""

    statement: Statement
    top_k: TopK = 5
    sources: Annotated[FilterValues, Meta(examples=[["reuters", "tass"]])] | None = None
    document_ids: Annotated[FilterValues, Meta(examples=[["seed-003", "seed-004"]])] | None = None
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

    supports: Annotated[Probability, Meta(examples=[0.0819])]
    neutral: Annotated[Probability, Meta(examples=[0.5907])]
    contradicts: Annotated[Probability, Meta(examples=[0.3274])]


class EvidenceWeights(Base):
    """What the passage counts for in the verdict (service/judge/verdict.py, step 1)."""

    relevance: Annotated[
        Probability,
        Meta(
            description="0 under the fitted relevance floor (off topic), 1 when clearly on topic.",
            examples=[1.0],
        ),
    ]
    supports: Annotated[
        Probability, Meta(description="P(supports) × relevance; 0 with a mismatch.", examples=[0.0])
    ]
    contradicts: Annotated[
        Probability,
        Meta(
            description="P(contradicts) × relevance; with a mismatch (a contradiction the "
            "rules point to) the relevance itself.",
            examples=[0.91],
        ),
    ]


class VerdictScores(Base):
    """The aggregate numbers behind the verdict."""

    support: Annotated[
        Probability,
        Meta(description="Noisy-OR over sources of the strongest support weight.", examples=[0.1]),
    ]
    contradiction: Annotated[
        Probability,
        Meta(
            description="Noisy-OR over sources of the strongest contradiction weight.",
            examples=[0.93],
        ),
    ]
    probabilities: Annotated[
        dict[str, float],
        Meta(
            description="The verdict model's probability of each verdict (empty without a fitted "
            "model); `confidence` is the verdict's own.",
            examples=[
                {"supported": 0.03, "refuted": 0.91, "conflicting": 0.02, "not_enough_info": 0.04}
            ],
        ),
    ] = msgspec.field(default_factory=dict)


class Evidence(Base):
    """One retrieved and judged passage.

    ``probabilities`` are the stance model's raw output; ``weights`` are what the verdict
    counted, after relevance and any mismatch; ``stance`` is read off ``weights``.
    """

    claim_id: ClaimId
    text: Annotated[str, Meta(examples=[EXAMPLE_PASSAGE])]
    context: Annotated[
        str,
        Meta(
            description="The passage with the sentences around it.",
            examples=[EXAMPLE_TEXT[: EXAMPLE_TEXT.index("\n\nKremlin")]],
        ),
    ]
    document: DocumentRef
    start: Annotated[Offset, Meta(examples=[4])]
    end: Annotated[Offset, Meta(examples=[65])]
    similarity: Annotated[float, Meta(description="Cosine similarity.", examples=[0.6593])]
    stance: Stance
    rank: Annotated[int, Meta(examples=[1])]
    # The stance model's output; null for an off-topic passage (similarity under the verdict
    # rule's floor, 0.30), which the model is not run on because the verdict ignores it.
    probabilities: StanceProbabilities | None = None
    retrieved_by: Annotated[
        list[Literal["dense", "lexical"]], Meta(examples=[["dense", "lexical"]])
    ] = msgspec.field(default_factory=list)
    # A time, number or named-entity conflict with the statement that the stance model
    # does not weigh; when present the passage counts as contradicting (see verdict.py).
    mismatch: Mismatch | None = None
    weights: EvidenceWeights | None = None
    on_topic: Annotated[
        bool,
        Meta(
            description="False under the relevance floor: shown apart, counted for nothing.",
            examples=[True],
        ),
    ] = True
    corroborated: Annotated[
        bool,
        Meta(
            description="The rules read the statement's event here with the same details.",
            examples=[False],
        ),
    ] = False
    agrees_on: Annotated[
        list[Literal["number", "time"]],
        Meta(
            description="Details the rules found stated here as the statement states them "
            "(a number of the same unit in the same role; a date of the statement's event "
            "that meets the statement's). Beside another outlet's mismatch on the same "
            "detail it makes the outlets disagree (verdict `conflicting`).",
            examples=[["number"]],
        ),
    ] = msgspec.field(default_factory=list)
    missing: Annotated[
        list[Detail],
        Meta(
            description="The statement's names, figures and dates this passage does not state "
            "(service/judge/coverage.py): a passage can only support what it states. Empty "
            "for an off-topic passage, which is not compared.",
            examples=[[{"kind": "name", "text": "Peng Liyuan"}]],
        ),
    ] = msgspec.field(default_factory=list)


class Timings(Base):
    """Milliseconds spent in each step of a check."""

    embed_ms: Annotated[float, Meta(examples=[10.3])]
    retrieve_ms: Annotated[float, Meta(examples=[1.2])]
    judge_ms: Annotated[float, Meta(examples=[129.7])]
    total_ms: Annotated[float, Meta(examples=[141.2])]
    # Statements that shared the embedding and stance calls timed above (micro-batching).
    batch_size: Annotated[int, Meta(examples=[1])] = 1


class ModelInfo(Base):
    """The models a result was computed with."""

    embedding: Annotated[str, Meta(examples=["sentence-transformers/all-MiniLM-L6-v2"])]
    stance: Annotated[str, Meta(examples=["factcheck-nli-minilm-l6-v2"])]


class CheckResponse(Base):
    """The verdict on a statement with its evidence."""

    statement: Annotated[str, Meta(examples=[EXAMPLE_STATEMENT])]
    verdict: Verdict
    confidence: Annotated[Probability, Meta(description=CONFIDENCE_DESCRIPTION, examples=[0.7258])]
    evidence: list[Evidence]
    models: ModelInfo
    index_version: IndexVersion
    timings: Timings
    reasons: Annotated[
        list[str],
        Meta(
            description=REASONS_DESCRIPTION,
            examples=[["contradicted_by_sources:3", "time_mismatch:2"]],
        ),
    ] = msgspec.field(default_factory=list)
    scores: VerdictScores | None = None
    language: Annotated[
        str,
        Meta(
            description="The statement's language (ISO 639-1) when it is surely not English, "
            "else `en`. The service checks English only: for another language the verdict "
            "means little.",
            examples=["en"],
        ),
    ] = "en"


# -- health ---------------------------------------------------------------------------------


class Health(Base, omit_defaults=True):
    """What ``/health/live`` and ``/health/ready`` answer (200, or 503 with the reason)."""

    status: Annotated[
        Literal["ok", "ready", "starting", "draining", "failed", "store unavailable"],
        Meta(
            description="live: `ok` or `failed` (start-up failed: restart). ready: `ready`, "
            "or `starting`, `draining`, `failed`, `store unavailable` with 503.",
            examples=["ready"],
        ),
    ]
    claims: Annotated[
        int | None, Meta(description="Searchable claims (ready only).", examples=[38])
    ] = None
    index_version: Annotated[IndexVersion | None, Meta(examples=["5"])] = None
    detail: Annotated[
        str | None,
        Meta(description="Why it is not ready.", examples=["StoreError: the store is gone"]),
    ] = None


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
Judgement = Annotated[Literal["accept", "reject"], Meta(examples=["accept"])]
EditorId = Annotated[str, Meta(min_length=1, max_length=200, examples=["desk-7"])]
Comment = Annotated[str, Meta(max_length=2_000, examples=["The visit was in March 2023."])]


class SplitRequest(Request):
    """A draft to cut into sentences."""

    text: Draft


class Sentence(Base):
    """One sentence of a draft: ``text == draft[start:end]``."""

    start: Annotated[int, Meta(examples=[0])]
    end: Annotated[int, Meta(examples=[26])]
    text: Annotated[str, Meta(examples=["Xi visited Moscow in 2022."])]


class SplitResponse(Base):
    """The sentences of a draft, in order."""

    sentences: list[Sentence]


class FeedbackRequest(Request):
    """An editor's judgement on one evidence link of a check."""

    statement: Statement
    claim_id: Annotated[
        int,
        Meta(ge=1, le=2**53, description="`evidence[].claim_id` of the check.", examples=[41]),
    ]
    judgement: Judgement
    stance: Stance | None = None  # the stance the editor saw, when the client shows one
    editor_id: EditorId | None = None
    comment: Comment = ""


class FeedbackOut(Base):
    """A stored judgement, with the evidence it was about as it read at the time."""

    id: Annotated[int, Meta(examples=[1])]
    statement: Annotated[str, Meta(examples=[EXAMPLE_STATEMENT])]
    claim_id: ClaimId
    document_id: Annotated[str, Meta(examples=[EXAMPLE_DOC])]
    evidence_text: Annotated[str, Meta(examples=[EXAMPLE_PASSAGE])]
    judgement: Judgement
    stance: Stance | None
    editor_id: Annotated[str | None, Meta(examples=["desk-7"])]
    comment: Annotated[str, Meta(examples=["The visit was in March 2023."])]
    created_at: Timestamp


class FeedbackPage(Base):
    """One page of ``GET /v1/feedback``, newest first."""

    items: list[FeedbackOut]
    total: Count
    limit: PageLimitOut
    offset: PageOffsetOut


# -- batch and stream -----------------------------------------------------------------------

ItemId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        description="The caller's id of an item, echoed back.",
        examples=["a1"],
    ),
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
            examples=[
                [
                    {"id": "a1", "statement": EXAMPLE_STATEMENT},
                    {"id": "a2", "statement": "Xi met Putin in Moscow in March 2023", "top_k": 3},
                ]
            ],
        ),
    ]


class ItemError(Base):
    """Why one item of a batch or stream has no result (the fields of a problem+json)."""

    status: Annotated[int, Meta(examples=[422])]
    type: Annotated[str, Meta(examples=["urn:factcheck:error:InvalidItem"])]
    title: Annotated[str, Meta(examples=["Unprocessable Entity"])]
    detail: Annotated[str, Meta(examples=["Expected `str` of length >= 1 - at `$.statement`"])]
    field: Annotated[str | None, Meta(examples=["statement"])] = None


class ItemResult(Base):
    """The outcome of one item: exactly the ``/v1/check`` result, or an error."""

    # 0-based position among the items (stream: among non-blank lines)
    index: Annotated[int, Meta(examples=[0])]
    id: Annotated[str | int | None, Meta(examples=["a1"])] = None
    # stream only: 1-based line number of the input
    line: Annotated[int | None, Meta(examples=[1])] = None
    result: CheckResponse | None = None
    error: ItemError | None = None


class BatchResponse(Base):
    """The result of ``POST /v1/check/batch``, in input order."""

    results: list[ItemResult]
    succeeded: Annotated[int, Meta(examples=[1])]
    failed: Annotated[int, Meta(examples=[0])]
