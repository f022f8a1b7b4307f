"""The ``factcheck`` command line: serve, ingest, check, score, reindex."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from tqdm import tqdm

from service.corpus import demo_documents, read_documents
from service.errors import FactCheckError
from service.schemas import CheckRequest, DocumentIn
from service.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {name: getattr(args, name, None) for name in ("store", "host", "port")}
    if getattr(args, "demo", False):
        overrides["load_demo"] = True
    return Settings.from_env(**overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service (optionally loading the demo corpus first)."""
    import uvicorn

    from service.app import create_app
    from service.lifecycle import DrainingServer, connection_limit, protocol_class
    from service.telemetry import configure_logging

    settings = _settings(args)
    configure_logging(as_json=settings.log_json)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep configure_logging's handlers
        access_log=False,  # the app logs each request itself, with its request id
        timeout_graceful_shutdown=30,
        http=protocol_class(settings),  # deadlines for a request's head and body
        limit_concurrency=connection_limit(settings),
        timeout_keep_alive=settings.keep_alive_s,
    )
    DrainingServer(config, app, settings.drain_s).run()
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    """Load both models once, so their ONNX Runtime files exist before the first start.

    ``stance_backend=auto`` is exported for ONNX Runtime too: the image may run on a CPU
    without bf16 units, where ``auto`` picks ONNX.
    """
    from service.engine import load_models

    settings = _settings(args)
    if settings.stance_backend == "auto":
        settings = msgspec.structs.replace(settings, stance_backend="onnx")
    embedder, stance = load_models(settings)
    print(f"models ready: {embedder.name}, {stance.name}; ONNX files in {settings.onnx_cache}")
    return 0


def _ingest(settings: Settings, docs: Sequence[DocumentIn]) -> None:
    from service.engine import Engine

    engine = Engine.open(settings)
    try:
        counts: dict[str, int] = {}
        for doc in tqdm(docs, desc="ingest", unit="doc"):
            result = engine.ingest([doc]).documents[0]
            counts[result.status] = counts.get(result.status, 0) + 1
            for line in result.dropped:
                tqdm.write(
                    f"  {result.id}: dropped ({line.reason}): {line.text[:80]}", file=sys.stderr
                )
        print(
            f"ingested: {counts}; claims in store: {engine.store.count_claims()}; "
            f"index_version {engine.store.index_version()}"
        )
    finally:
        engine.close()


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest a folder of .txt files, a JSONL file, or the demo corpus."""
    settings = _settings(args)
    if args.demo:
        docs = demo_documents(settings.demo_path)
    elif args.path:
        docs = list(read_documents(args.path))
    else:
        print("give a PATH or --demo", file=sys.stderr)
        return 2
    _ingest(settings, docs)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check one statement in process and print the JSON result."""
    from service.engine import Engine

    engine = Engine.open(_settings(args))
    try:
        result = engine.check(
            CheckRequest(statement=args.statement, top_k=args.top_k, as_of=args.as_of)
        )
    finally:
        engine.close()
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(result).decode(), indent=2) + "\n")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Score a JSONL or CSV file of statements, resuming where an earlier run stopped."""
    from service.score import score_file

    def progress(total: int, done: int) -> Any:
        return tqdm(total=total, initial=done, desc="score", unit="stmt", dynamic_ncols=True)

    options = {
        "text_field": args.text_field,
        "id_field": args.id_field,
        "top_k": args.top_k,
        "batch_size": args.batch_size,
        "progress": progress,
    }
    if args.local:
        from service.batch import check_now
        from service.engine import Engine

        engines: list[Engine] = []  # opened on first use: a finished job loads no models

        def local(items: list[dict[str, Any]]) -> list[Any]:
            if not engines:
                engines.append(Engine.open(_settings(args)))
            return check_now(engines[0], items)

        try:
            summary = score_file(args.input, args.output, local, **options)
        finally:
            for engine in engines:
                engine.close()
    else:
        from service.client import FactCheckClient

        with FactCheckClient(args.url, api_key=args.api_key, timeout=args.timeout) as client:

            def remote(items: list[dict[str, Any]]) -> list[Any]:
                return [r.result or r.error for r in client.check_batch(items).results]

            summary = score_file(
                args.input, args.output, remote, concurrency=args.concurrency, **options
            )
    print(
        f"{summary.total} records: {summary.scored} scored ({summary.errors} with an error), "
        f"{summary.skipped} already in {args.output}, {summary.duplicates} repeated ids skipped",
        file=sys.stderr,
    )
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Re-embed every claim of the store with the configured embedding model."""
    from service.embed import Embedder, offline_mode
    from service.engine import embedding_info, open_configured_store

    settings = _settings(args)
    offline_mode(settings.offline)
    embedder = Embedder(
        settings.embedding_model, device=settings.device, batch_size=settings.embed_batch_size
    )
    # the deployment's index settings, so the graph is not rebuilt at the service's next open
    store = open_configured_store(settings, embedder, allow_model_change=True)
    try:
        count = store.reembed(embedding_info(embedder), embedder.encode)
    finally:
        store.close()
    print(f"re-embedded {count} claims with {embedder.name}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Score a labelled claim set through the check pipeline, on a fresh store.

    ``DATASET`` may also be ``feedback``: editors' judgements stored in ``--store``.
    """
    import tempfile

    from service.engine import Engine
    from service.evaluate import evaluate, evaluate_feedback, load_dataset, table

    if args.dataset == "feedback":
        engine = Engine.open(_settings(args))
        try:
            feedback = evaluate_feedback(engine, top_k=args.top_k)
        finally:
            engine.close()
        sys.stdout.write(
            msgspec.json.format(msgspec.json.encode(feedback).decode(), indent=2) + "\n"
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="factcheck-eval-") as tmp:
        # Calibration is fitted on raw scores, so fitting runs without the current one.
        settings = Settings.from_env(
            store=args.store or f"{tmp}/eval.db",
            calibration="" if args.fit_calibration else None,
        )
        dataset = load_dataset(args.dataset, settings.demo_path)
        engine = Engine.open(settings)
        try:
            report = evaluate(engine, dataset, top_k=args.top_k)
        finally:
            engine.close()
    print(table(report))
    if args.fit_calibration:
        from service.calibrate import fit, save

        preds = report.predictions
        calibration = fit(
            [p["predicted"] for p in preds],
            [p["confidence"] for p in preds],
            [p["predicted"] == p["gold"] for p in preds],
            fitted_on=dataset.name,
        )
        save(calibration, args.fit_calibration)
        print(f"calibration fitted on {len(preds)} claims -> {args.fit_calibration}")
    if args.json:
        with open(args.json, "wb") as fh:
            fh.write(msgspec.json.format(msgspec.json.encode(report), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option also reads a FACTCHECK_* variable)."""
    parser = argparse.ArgumentParser(prog="factcheck", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--store", help="SQLite file or postgresql:// URL (FACTCHECK_STORE)")
    serve.add_argument("--demo", action="store_true", help="load the demo corpus before serving")
    serve.set_defaults(func=cmd_serve)

    prepare = sub.add_parser(
        "prepare", help="export the models for ONNX Runtime into FACTCHECK_ONNX_CACHE"
    )
    prepare.set_defaults(func=cmd_prepare)

    ingest = sub.add_parser("ingest", help="ingest documents into the store")
    ingest.add_argument("path", nargs="?", help="folder of .txt files or a JSONL file")
    ingest.add_argument("--store")
    ingest.add_argument("--demo", action="store_true", help="ingest the demo corpus")
    ingest.set_defaults(func=cmd_ingest)

    check = sub.add_parser("check", help="check one statement (in process)")
    check.add_argument("statement")
    check.add_argument("--store")
    check.add_argument("--top-k", type=int, default=5)
    check.add_argument("--as-of", help="date the statement was made (ISO)")
    check.set_defaults(func=cmd_check)

    score = sub.add_parser(
        "score",
        help="score a JSONL or CSV file of statements (resumable)",
        description="Score every record of INPUT (a `text` field plus any others, carried "
        "through) into OUTPUT. Re-running skips what OUTPUT already holds. The format of "
        "each file follows its extension: .csv is CSV, anything else JSONL.",
    )
    score.add_argument("input", help="JSONL or CSV file with a `text` field")
    score.add_argument("-o", "--output", required=True, help="JSONL or CSV file to append to")
    score.add_argument("--url", default="http://127.0.0.1:8000", help="the service to call")
    score.add_argument("--api-key", default=os.environ.get("FACTCHECK_API_KEY"))
    score.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    score.add_argument("--concurrency", type=int, default=2, help="batches in flight at once")
    score.add_argument("--batch-size", type=int, default=32, help="statements per request")
    score.add_argument("--top-k", type=int, default=5)
    score.add_argument("--text-field", default="text")
    score.add_argument("--id-field", default="id", help="the caller's id (else the line number)")
    score.add_argument("--local", action="store_true", help="run the pipeline in this process")
    score.add_argument("--store", help="SQLite file for --local (FACTCHECK_STORE)")
    score.set_defaults(func=cmd_score)

    reindex = sub.add_parser("reindex", help="re-embed the store with the configured model")
    reindex.add_argument("--store")
    reindex.set_defaults(func=cmd_reindex)

    evaluate = sub.add_parser("eval", help="score a labelled claim set (fresh store)")
    evaluate.add_argument(
        "dataset", help="CLIMATE-FEVER JSONL, a seed set JSONL, or `feedback` (from --store)"
    )
    evaluate.add_argument("--top-k", type=int, default=5)
    evaluate.add_argument("--json", help="write the full report (with predictions) here")
    evaluate.add_argument("--store", help="store file to use instead of a temporary one")
    evaluate.add_argument(
        "--fit-calibration", metavar="FILE", help="fit the confidence calibration on this set"
    )
    evaluate.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (FactCheckError, ValueError, FileNotFoundError) as exc:
        print(f"factcheck: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
