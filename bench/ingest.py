"""End-to-end ingest throughput against the raw encoder, in one run.

    python bench/ingest.py [--batch-docs 50] [--max-claims 2000]

Documents: the demo seed articles plus the Climate-FEVER (dev + train) evidence
sentences grouped into one article per Wikipedia page (~1,000 documents, ~3,000
claims). The service runs as a live uvicorn on 127.0.0.1 (a child process, fresh
SQLite store, default settings); documents are POSTed to /v1/documents in requests of
``--batch-docs``, and the clock covers HTTP → clean → split → embed → commit of every
document. The floor is ``SentenceTransformer.encode`` (same model, batch size 64,
normalised) on exactly the claims the service stored, in this process, measured
before and after the service run (the machine is shared; both are printed, the ratio
uses their mean). ``--max-claims`` keeps the first documents up to that many claims.

Ingest also annotates each claim with spaCy (service/judge/annotate.py); the "spaCy
annotate" row is that step alone on the same claims, in this process.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time

import httpx
import msgspec
from common import eval_records, live_server, machine, table

from service.corpus import demo_documents
from service.embed import resolve_model
from service.schemas import DocumentIn
from service.settings import DEFAULT_EMBEDDING_MODEL, Settings
from service.split import split_document


def documents() -> list[DocumentIn]:
    """Demo articles plus one document per Climate-FEVER evidence article."""
    pages: dict[str, list[str]] = {}
    for record in eval_records():
        for ev in record["evidences"]:  # type: ignore[attr-defined]
            sentences = pages.setdefault(ev["article"], [])
            if ev["evidence"] not in sentences:
                sentences.append(ev["evidence"])
    docs = demo_documents(Settings().demo_path)
    for title, sentences in sorted(pages.items()):
        text = " ".join(sentences)
        doc_id = "cf-" + hashlib.sha256(title.encode()).hexdigest()[:12]
        docs.append(DocumentIn(id=doc_id, title=title, text=text, source="wikipedia"))
    return docs


def raw_encode(texts: list[str]) -> float:
    """Sentences per second of SentenceTransformer.encode on ``texts``."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model(DEFAULT_EMBEDDING_MODEL), device="cpu")
    model.encode(texts[:64], batch_size=64)  # warm-up
    t0 = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    return len(texts) / (time.perf_counter() - t0)


def annotate_rate(texts: list[str]) -> float:
    """Claims per second of the ingest's spaCy annotation on ``texts``."""
    from service.judge.annotate import annotate_many

    annotate_many([(t, None) for t in texts[:64]])  # loads the pipeline
    t0 = time.perf_counter()
    annotate_many([(t, None) for t in texts])
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-docs", type=int, default=50, help="documents per request")
    ap.add_argument("--max-claims", type=int, default=0, help="0: every document")
    args = ap.parse_args()

    docs: list[DocumentIn] = []
    texts: list[str] = []
    for d in documents():
        if args.max_claims and len(texts) >= args.max_claims:
            break
        docs.append(d)
        texts += [c.text for c in split_document(d.text, title=d.title, language=d.language).claims]
    print(f"machine: {machine()}")
    print(f"documents: {len(docs)}, claims: {len(texts)}")
    raw_before = raw_encode(texts)

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        env = {"FACTCHECK_STORE": f"{tmp}/ingest.db", "FACTCHECK_VERDICT_MODEL": ""}
        with live_server(env) as (base, _pid), httpx.Client(base_url=base, timeout=600) as http:
            http.post("/v1/documents", json={"id": "warm-up", "title": "t", "text": "Warm up."})
            payloads = [
                msgspec.to_builtins(docs[i : i + args.batch_docs])
                for i in range(0, len(docs), args.batch_docs)
            ]
            stored = 0
            t0 = time.perf_counter()
            for payload in payloads:
                response = http.post("/v1/documents", json=payload)
                response.raise_for_status()
                stored += sum(r["claims"] for r in response.json()["documents"])
            elapsed = time.perf_counter() - t0
    service = stored / elapsed
    raw_after = raw_encode(texts)
    raw = (raw_before + raw_after) / 2
    spacy_rate = annotate_rate(texts)
    print(f"machine after: {machine()}")
    print()
    print(
        table(
            ["path", "claims", "seconds", "claims/s", "× raw encode"],
            [
                [
                    "raw SentenceTransformer.encode (before)",
                    len(texts),
                    len(texts) / raw_before,
                    raw_before,
                    raw_before / raw,
                ],
                [
                    "raw SentenceTransformer.encode (after)",
                    len(texts),
                    len(texts) / raw_after,
                    raw_after,
                    raw_after / raw,
                ],
                [
                    "spaCy annotate (ingest's annotation step alone)",
                    len(texts),
                    len(texts) / spacy_rate,
                    spacy_rate,
                    spacy_rate / raw,
                ],
                [
                    f"service: POST /v1/documents ({args.batch_docs} docs/request)",
                    stored,
                    elapsed,
                    service,
                    service / raw,
                ],
            ],
        )
    )
    print(f"\ntarget: ingest ≥ 0.85 × raw encode; measured {service / raw:.2f} ×")


if __name__ == "__main__":
    main()
