"""The ``factcheck`` command line: serve, ingest, check, reindex."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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
    from service.lifecycle import DrainingServer
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
    )
    DrainingServer(config, app, settings.drain_s).run()
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


def cmd_reindex(args: argparse.Namespace) -> int:
    """Re-embed every claim of the store with the configured embedding model."""
    from service.embed import Embedder, offline_mode
    from service.engine import embedding_info
    from service.store import open_store

    settings = _settings(args)
    offline_mode(settings.offline)
    embedder = Embedder(
        settings.embedding_model, device=settings.device, batch_size=settings.embed_batch_size
    )
    store = open_store(settings.store, embedding_info(embedder), allow_model_change=True)
    try:
        count = store.reembed(embedding_info(embedder), embedder.encode)
    finally:
        store.close()
    print(f"re-embedded {count} claims with {embedder.name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option also reads a FACTCHECK_* variable)."""
    parser = argparse.ArgumentParser(prog="factcheck", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--store", help="SQLite file (FACTCHECK_STORE)")
    serve.add_argument("--demo", action="store_true", help="load the demo corpus before serving")
    serve.set_defaults(func=cmd_serve)

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

    reindex = sub.add_parser("reindex", help="re-embed the store with the configured model")
    reindex.add_argument("--store")
    reindex.set_defaults(func=cmd_reindex)
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
