"""The ``factcheck`` command line: serve, ingest, check, score, reindex."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from tqdm import tqdm

from service.corpus import Corpus, demo_documents, read_corpus
from service.errors import FactCheckError
from service.schemas import CheckRequest, CheckResponse, DocumentIn
from service.settings import Settings

if TYPE_CHECKING:
    from service.evaluate import Report
    from service.judge.verdict import Judged


SUPPRESS = argparse.SUPPRESS  # an option left out of the namespace: its help says the default


class UsageError(Exception):
    """A command line that cannot run as given (exit status 2)."""


def _settings(args: argparse.Namespace, *, may_create: bool = False) -> Settings:
    """Settings from the environment and the options; a named ``--store`` must exist.

    Only ``ingest`` and ``serve --demo`` (``may_create``) create a store: any other command
    given a mistyped path would quietly work on a new, empty one.
    """
    store = getattr(args, "store", None)
    if store and not may_create and not _is_url(store) and not Path(store).exists():
        raise UsageError(
            f"store {store} does not exist (`factcheck ingest --store {store} PATH` creates it)"
        )
    overrides = {name: getattr(args, name, None) for name in ("store", "host", "port")}
    if getattr(args, "demo", False):
        overrides["load_demo"] = True
    return Settings.from_env(**overrides)


def _api_key(args: argparse.Namespace) -> str | None:
    """``--api-key``, else $FACTCHECK_API_KEY (read here, so that no help text shows it)."""
    key: str | None = getattr(args, "api_key", None) or os.environ.get("FACTCHECK_API_KEY")
    return key


def _is_url(store: str) -> bool:
    return store.startswith(("postgres://", "postgresql://"))


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service (optionally loading the demo corpus first)."""
    import uvicorn

    from service.app import create_app
    from service.lifecycle import DrainingServer, connection_limit, protocol_class
    from service.telemetry import configure_logging

    settings = _settings(args, may_create=args.demo)
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
    """Export the models for ONNX Runtime and measure the runtime table, before the first start.

    ``stance_backend=auto`` is exported for ONNX Runtime too: the image may run on a CPU
    without bf16 units, where ``auto`` picks ONNX. The table is measured again even if
    one is saved (run it on the machine that serves; a table measured on another CPU is
    keyed to that CPU and ignored).
    """
    from service.engine import load_models
    from service.runtime_table import measure, save, table_path

    settings = _settings(args)
    stance_backend = "onnx" if settings.stance_backend == "auto" else settings.stance_backend
    embedder, stance = load_models(
        msgspec.structs.replace(settings, stance_backend=stance_backend, runtime_table="off")
    )
    print(f"models ready: {embedder.name}, {stance.name}; ONNX files in {settings.onnx_cache}")
    if settings.runtime_table == "auto":
        table = measure(settings)
        save(table, table_path(settings))
        for model, steps in (("embedding", table.embedding), ("stance", table.stance)):
            rows = ", ".join(
                f"{'any' if s.upto == 0 else f'<= {s.upto}'}: {s.backend} x{s.threads}"
                for s in steps
            )
            print(f"{model} calls: {rows}")
        print(f"runtime table: {table_path(settings)}")
    return 0


def _ingest(settings: Settings, docs: Sequence[DocumentIn]) -> tuple[dict[str, int], list[str]]:
    """Ingest one document at a time; the statuses counted, and the documents that failed."""
    from service.engine import Engine

    engine = Engine.open(settings)
    counts: dict[str, int] = {}
    failed: list[str] = []
    try:
        for doc in tqdm(docs, desc="ingest", unit="doc"):
            try:
                result = engine.ingest([doc]).documents[0]
            except FactCheckError as exc:  # this document only (an HTML page with no article)
                failed.append(f"{doc.id}: {exc}")
                continue
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
    return counts, failed


def _report(corpus: Corpus, source: str) -> None:
    """What was read from ``source``, what was skipped and why (failures go to stderr)."""
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(corpus.kinds.items()))
    print(
        f"read {len(corpus.documents)} documents from {source}" + (f" ({kinds})" if kinds else "")
    )
    if corpus.skipped:
        print(f"skipped {len(corpus.skipped)}:")
        for problem in corpus.skipped:
            print(f"  {problem.where}: {problem.reason}")
    for problem in corpus.failed:
        print(f"factcheck: not read: {problem.where}: {problem.reason}", file=sys.stderr)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest a folder, a JSONL file, or the demo corpus; exit 1 if anything failed.

    Bad lines and files are reported and the rest still goes in.
    """
    settings = _settings(args, may_create=True)
    if args.demo:
        docs = demo_documents(settings.demo_path)
        corpus, source = Corpus(documents=docs, kinds={"demo": len(docs)}), settings.demo_path
    elif args.path:
        corpus, source = read_corpus(args.path), args.path
    else:
        raise UsageError("give a PATH or --demo")
    _report(corpus, source)
    if not corpus.documents:
        print("factcheck: error: nothing to ingest", file=sys.stderr)
        return 1
    counts, failed = _ingest(settings, corpus.documents)
    for problem in failed:
        print(f"factcheck: not ingested: {problem}", file=sys.stderr)
    problems = len(corpus.failed) + len(failed)
    if problems:
        print(f"factcheck: {problems} lines or files failed", file=sys.stderr)
    return 1 if problems or not counts else 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check one statement against a service (``--url``) or in process; print a table or JSON."""
    fields = {"statement": args.statement, "top_k": args.top_k, "as_of": args.as_of}
    request = msgspec.convert({k: v for k, v in fields.items() if v is not None}, CheckRequest)
    url = getattr(args, "url", None)
    if url:
        from service.client import FactCheckClient

        with FactCheckClient(url, api_key=_api_key(args), timeout=args.timeout) as client:
            result = client.check(request)
    else:
        from service.engine import Engine

        engine = Engine.open(_settings(args))
        try:
            result = engine.check(request)
        finally:
            engine.close()
    if args.json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(result).decode(), indent=2) + "\n")
    else:
        sys.stdout.write(check_table(result))
    return 0


def check_table(result: CheckResponse, width: int = 100) -> str:
    """A check result for people: the verdict and reasons, then one row per passage."""
    lines = [
        result.statement,
        f"verdict: {result.verdict} (confidence {result.confidence:.2f})",
    ]
    if result.reasons:
        lines.append(f"reasons: {', '.join(result.reasons)}")
    if result.language != "en":
        lines.append(
            f"note: the statement reads as `{result.language}`; the service checks English only"
        )
    if not result.evidence:
        lines.append("no passages found")
        return "\n".join(lines) + "\n"
    head = f"{'#':>2}  {'stance':<11}  {'sim':>4}  {'document':<16}  {'published':<10}  passage"
    lines += ["", head, "-" * min(width, len(head) + 40)]
    indent = len(head) - len("passage")
    for e in result.evidence:
        doc = e.document
        row = (
            f"{e.rank:>2}  {e.stance:<11}  {e.similarity:4.2f}  {_cut(doc.id, 16):<16}  "
            f"{(doc.published_at or '')[:10]:<10}  "
        )
        lines.append(row + _cut(e.text, max(width - indent, 20)))
        if e.mismatch is not None:
            note = f"{e.mismatch.kind} mismatch: {e.mismatch.explanation}"
            lines += textwrap.wrap(
                note, width, initial_indent=" " * indent, subsequent_indent=" " * indent
            )
        if doc.language != "en":
            lines.append(" " * indent + f"(document in `{doc.language}`: not English)")
    return "\n".join(lines) + "\n"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


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

        settings = _settings(args)
        engines: list[Engine] = []  # opened on first use: a finished job loads no models

        def local(items: list[dict[str, Any]]) -> list[Any]:
            if not engines:
                engines.append(Engine.open(settings))
            return check_now(engines[0], items)

        try:
            summary = score_file(args.input, args.output, local, **options)
        finally:
            for engine in engines:
                engine.close()
    else:
        from service.client import FactCheckClient

        with FactCheckClient(args.url, api_key=_api_key(args), timeout=args.timeout) as client:

            def remote(items: list[dict[str, Any]]) -> list[Any]:
                return [r.result or r.error for r in client.check_batch(items).results]

            summary = score_file(
                args.input, args.output, remote, concurrency=args.concurrency, **options
            )
    print(
        f"{summary.total} records: {summary.scored} scored ({summary.errors} with an error, "
        "scored again by the next run), "
        f"{summary.skipped} already in {args.output}, {summary.duplicates} repeated ids skipped",
        file=sys.stderr,
    )
    return 1 if summary.errors else 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Re-embed every claim with the configured model; re-annotate stale annotations."""
    from service.embed import Embedder, offline_mode
    from service.engine import embedding_info, open_configured_store
    from service.ingest import reannotate
    from service.judge.annotate import ANNOTATION_VERSION

    settings = _settings(args)
    offline_mode(settings.offline)
    embedder = Embedder(
        settings.embedding_model, device=settings.device, batch_size=settings.embed_batch_size
    )
    # the deployment's index settings, so the graph is not rebuilt at the service's next open
    store = open_configured_store(settings, embedder, allow_model_change=True)
    try:
        count = store.reembed(embedding_info(embedder), embedder.encode)
        annotated = reannotate(store)  # missing or older annotations only
    finally:
        store.close()
    print(f"re-embedded {count} claims with {embedder.name}")
    print(f"annotated {annotated} claims (annotation version {ANNOTATION_VERSION})")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Score a labelled claim set through the check pipeline, on a fresh store.

    ``DATASET`` may also be ``feedback``: editors' judgements stored in ``--store``.
    """
    from service.engine import Engine
    from service.evaluate import evaluate_feedback, table

    if args.dataset == "feedback":
        engine = Engine.open(_settings(args))  # a named store must exist
        try:
            feedback = evaluate_feedback(engine, top_k=args.top_k)
        finally:
            engine.close()
        sys.stdout.write(
            msgspec.json.format(msgspec.json.encode(feedback).decode(), indent=2) + "\n"
        )
        return 0
    store = getattr(args, "store", None)
    if store:
        _settings(args)  # a named store must exist
    report, _ = _run_eval(args.dataset, args.split, args.top_k, store)
    print(table(report))
    if args.json:
        with open(args.json, "wb") as fh:
            fh.write(msgspec.json.format(msgspec.json.encode(report), indent=2))
    return 0


def _run_eval(
    dataset_path: str, split: str, top_k: int, store: str | None, verdict_model: str | None = None
) -> tuple[Report, list[list[Judged]]]:
    """One labelled set through the check pipeline, on a fresh store unless ``store``."""
    import tempfile

    from service.engine import Engine
    from service.evaluate import evaluate, load_dataset

    with tempfile.TemporaryDirectory(prefix="factcheck-eval-") as tmp:
        settings = Settings.from_env(store=store or f"{tmp}/eval.db", verdict_model=verdict_model)
        dataset = load_dataset(dataset_path, settings.demo_path, split)
        engine = Engine.open(settings)
        try:
            return evaluate(engine, dataset, top_k=top_k)
        finally:
            engine.close()


def cmd_fit_verdict(args: argparse.Namespace) -> int:
    """Fit the verdict model on labelled sets (``PATH`` or ``PATH:SPLIT`` for the news suite).

    ``--claims FILE`` keeps each claim's judged passages: a refit with other fitting options
    reads them back instead of running the pipeline again.
    """
    from service.engine import model_name
    from service.judge.calibrate import Labelled, fit, save

    cache = Path(args.claims) if args.claims else None
    if cache is not None and cache.is_file():
        labelled = msgspec.json.decode(cache.read_bytes(), type=Labelled)
    else:
        stance = model_name(Settings.from_env().stance_model)
        labelled = Labelled(sets=list(args.datasets), stance_model=stance)
        for spec in args.datasets:
            path, _, split = spec.partition(":")
            # the passages' features do not depend on a fitted model, so none is loaded
            report, judged = _run_eval(path, split or "all", args.top_k, None, verdict_model="")
            labelled.claims += judged
            labelled.gold += [p["gold"] for p in report.predictions]
            print(f"{report.dataset}: {report.claims} claims")
        if cache is not None:
            cache.write_bytes(msgspec.json.encode(labelled))
    model, losses = fit(
        labelled.claims,
        labelled.gold,
        fitted_on=labelled.sets,
        stance_model=labelled.stance_model,
        balanced=args.balanced,
    )
    for (floor, l2), loss in losses.items():
        print(f"relevance floor {floor:.2f}, L2 {l2:g}: cross-validated log-loss {loss:.4f}")
    save(model, args.out)
    print(
        f"verdict model fitted on {model.samples} claims judged by "
        f"{model.stance_model or 'an unrecorded stance model'} (relevance floor "
        f"{model.relevance_floor:.2f}, L2 {model.regularisation:g}, "
        f"support floor {model.support_floor:.2f}, "
        f"train accuracy {model.train_accuracy:.3f}) -> {args.out}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every ``--help`` shows each option's default."""
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(prog="factcheck", description=__doc__, formatter_class=fmt)
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = Settings()
    store_help = (
        "SQLite file or postgresql:// URL; a file must exist "
        f"(default: $FACTCHECK_STORE, else {defaults.store})"
    )

    def add(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        command: argparse.ArgumentParser = sub.add_parser(name, formatter_class=fmt, **kwargs)
        return command

    serve = add("serve", help="run the HTTP service")
    serve.add_argument(
        "--host", default=SUPPRESS, help=f"(default: $FACTCHECK_HOST, else {defaults.host})"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=SUPPRESS,
        help=f"(default: $FACTCHECK_PORT, else {defaults.port})",
    )
    serve.add_argument("--store", default=SUPPRESS, help=store_help + "; created with --demo")
    serve.add_argument("--demo", action="store_true", help="load the demo corpus before serving")
    serve.set_defaults(func=cmd_serve)

    prepare = add("prepare", help="export the models for ONNX Runtime into FACTCHECK_ONNX_CACHE")
    prepare.set_defaults(func=cmd_prepare)

    ingest = add(
        "ingest",
        help="ingest documents into the store",
        description="Ingest a JSONL file (one document per line) or a folder, read "
        "recursively: .txt, .md, .html and .json files, metadata from YAML front matter or a "
        "NAME.meta.json sidecar; the id is the path under the folder without the extension. "
        "Bad lines and files are reported (exit status 1) and the rest still goes in.",
    )
    ingest.add_argument("path", nargs="?", help="a folder or a JSONL file")
    ingest.add_argument(
        "--store", default=SUPPRESS, help=store_help.replace("a file must exist", "created")
    )
    ingest.add_argument("--demo", action="store_true", help="ingest the demo corpus")
    ingest.set_defaults(func=cmd_ingest)

    check = add(
        "check",
        help="check one statement",
        description="Check one statement against a running service (--url), or in this "
        "process on --store; print a table, or the JSON result with --json.",
    )
    check.add_argument("statement")
    check.add_argument(
        "--url",
        default=os.environ.get("FACTCHECK_URL", SUPPRESS),
        help="the service to call (default: $FACTCHECK_URL; unset: check in this process)",
    )
    check.add_argument(
        "--api-key",
        default=SUPPRESS,
        help="API key for --url (default: $FACTCHECK_API_KEY; never shown here)",
    )
    check.add_argument("--timeout", type=float, default=120.0, help="seconds, with --url")
    check.add_argument("--store", default=SUPPRESS, help=store_help + "; without --url")
    check.add_argument("--top-k", type=int, default=5, help="passages to judge and show")
    check.add_argument("--as-of", help="date the statement was made (ISO)")
    check.add_argument("--json", action="store_true", help="print the JSON result")
    check.set_defaults(func=cmd_check)

    score = add(
        "score",
        help="score a JSONL or CSV file of statements (resumable)",
        description="Score every record of INPUT (a `text` field plus any others, carried "
        "through) into OUTPUT. Re-running skips what OUTPUT already holds with a result and "
        "scores failed records again; the exit status is 1 while any failed. The format of "
        "each file follows its extension: .csv is CSV, anything else JSONL.",
    )
    score.add_argument("input", help="JSONL or CSV file with a `text` field")
    score.add_argument("-o", "--output", required=True, help="JSONL or CSV file to append to")
    score.add_argument(
        "--url",
        default=os.environ.get("FACTCHECK_URL", "http://127.0.0.1:8000"),
        help="the service to call ($FACTCHECK_URL when set)",
    )
    score.add_argument(
        "--api-key",
        default=SUPPRESS,
        help="API key (default: $FACTCHECK_API_KEY; never shown here)",
    )
    score.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    score.add_argument("--concurrency", type=int, default=2, help="batches in flight at once")
    score.add_argument("--batch-size", type=int, default=32, help="statements per request")
    score.add_argument("--top-k", type=int, default=5, help="passages to judge per statement")
    score.add_argument("--text-field", default="text", help="the statement's field or column")
    score.add_argument("--id-field", default="id", help="the caller's id (else the line number)")
    score.add_argument("--local", action="store_true", help="run the pipeline in this process")
    score.add_argument("--store", default=SUPPRESS, help=store_help + "; with --local")
    score.set_defaults(func=cmd_score)

    reindex = add(
        "reindex", help="re-embed the store with the configured model, rebuild stale annotations"
    )
    reindex.add_argument("--store", default=SUPPRESS, help=store_help)
    reindex.set_defaults(func=cmd_reindex)

    evaluate = add("eval", help="score a labelled claim set (fresh store)")
    evaluate.add_argument(
        "dataset",
        help="CLIMATE-FEVER JSONL, a seed set JSONL, the news suite folder "
        "(tests/data/news_suite), or `feedback` (from --store)",
    )
    evaluate.add_argument("--top-k", type=int, default=5, help="passages to judge per claim")
    evaluate.add_argument(
        "--split",
        choices=("all", "train", "test"),
        default="all",
        help="news suite: the half to check (the whole corpus is ingested either way)",
    )
    evaluate.add_argument("--json", help="write the full report (with predictions) here")
    evaluate.add_argument(
        "--store", default=SUPPRESS, help="store to use, must exist (default: a temporary one)"
    )
    evaluate.set_defaults(func=cmd_eval)

    fit_verdict = add(
        "fit-verdict", help="fit the verdict model on labelled sets (never on a reported one)"
    )
    fit_verdict.add_argument(
        "datasets", nargs="+", help="dataset paths as for eval; the news suite as PATH:train"
    )
    fit_verdict.add_argument("--out", default="models/verdict-model.json", help="model file")
    fit_verdict.add_argument("--top-k", type=int, default=5, help="passages to judge per claim")
    fit_verdict.add_argument("--claims", help="cache of the judged claims (read if it exists)")
    fit_verdict.add_argument(
        "--balanced", action="store_true", help="weight each verdict by its inverse frequency"
    )
    fit_verdict.set_defaults(func=cmd_fit_verdict)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: errors are one line on stderr, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("factcheck: interrupted", file=sys.stderr)
        return 130
    except UsageError as exc:
        print(f"factcheck {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # whatever failed, the message says what: no traceback
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"factcheck {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
