"""The conflict a detector reports: its kind, the two spans and a one-sentence explanation."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.temporal import Interval

__all__ = ["Mismatch"]


class Mismatch(msgspec.Struct, frozen=True, kw_only=True):
    """One conflict between a statement and a passage, with a one-sentence explanation."""

    # Examples (the OpenAPI schema shows them): "Xi visited Moscow in 2022" against a
    # report of the March 2023 visit in the present tense.
    kind: Annotated[Literal["time", "number", "entity", "polarity"], Meta(examples=["time"])]
    statement_span: Annotated[str, Meta(examples=["2022"])]
    passage_span: Annotated[str, Meta(examples=["visits"])]
    statement_interval: Interval | None = None
    passage_interval: Interval | None = None
    explanation: Annotated[
        str,
        Meta(
            examples=[
                "The statement places it in 2022; the passage reports it in the present tense "
                "on 17 March 2023."
            ]
        ),
    ]
