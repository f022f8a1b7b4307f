"""The ``factcheck`` command: help texts, errors, ingest of files and folders, check, score.

Commands run in process through ``main`` (models from the session, real stores) or, where
the whole process matters (stderr without a traceback), as a real subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.cli import build_parser, main
from service.engine import Engine
from service.settings import PROJECT_ROOT, Settings
from tests.conftest import serve
from tests.test_api import ARTICLE, OTHER

COMMANDS = ["serve", "prepare", "ingest", "check", "score", "reindex", "eval"]


@pytest.fixture
def in_process(
    monkeypatch: pytest.MonkeyPatch, engine_factory: Callable[[Settings], Engine]
) -> None:
    """``Engine.open`` with the session's models (the store is the command's own)."""
    monkeypatch.setattr(Engine, "open", lambda settings, **_: engine_factory(settings))


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TQDM_DISABLE": "1", **(env or {})}
    command = [sys.executable, "-m", "service.cli", *argv]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def subcommand(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    command: argparse.ArgumentParser = commands.choices[name]
    return command


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_shows_the_defaults(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTCHECK_API_KEY", "s3cret-key")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for action in subcommand(command)._actions:
        if not action.option_strings or action.dest == "help" or action.required:
            continue
        assert action.help, action.dest
        # shown by the formatter, or said in the help text itself (`default=SUPPRESS`)
        assert action.default is not argparse.SUPPRESS or "default" in action.help, action.dest
        assert " ".join(action.help.split()) in text
    assert "s3cret-key" not in text  # a key in the environment is never printed


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "Xi visited Moscow", "--store", "{missing}"],
        ["reindex", "--store", "{missing}"],
        ["score", "{input}", "-o", "{output}", "--local", "--store", "{missing}"],
        ["eval", "feedback", "--store", "{missing}"],
        ["serve", "--store", "{missing}"],
    ],
)
def test_a_store_that_does_not_exist_is_an_error(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "Xi visited Moscow"}\n')
    values = {
        "missing": str(tmp_path / "nope.db"),
        "input": str(source),
        "output": str(tmp_path / "o"),
    }
    assert main([a.format(**values) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.db does not exist" in err
    assert not (tmp_path / "nope.db").exists() and not (tmp_path / "o").exists()


def test_errors_are_one_line_never_a_traceback(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    result = run("reindex", "--store", str(store))  # a store that does not exist
    assert result.returncode == 2 and "Traceback" not in result.stderr
    store.touch()
    missing = {"FACTCHECK_EMBEDDING_MODEL": str(tmp_path / "no-such-model")}
    result = run("reindex", "--store", str(store), env=missing)  # a model that is not there
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("factcheck")]
    assert len(lines) == 1 and "no-such-model" in lines[0], result.stderr


def test_ingest_jsonl_reports_bad_lines_and_ingests_the_rest(
    in_process: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps({**ARTICLE, "id": "news/2024/port storm"}),
        '{"text": "unterminated',
        json.dumps({"text": "A sentence here.", "id": "bad\u0007id"}),
        "",
        json.dumps(OTHER),
    ]
    source.write_text("\n".join(lines) + "\n")
    store = tmp_path / "new.db"  # ingest creates its store
    assert main(["ingest", str(source), "--store", str(store)]) == 1
    out, err = capsys.readouterr()
    assert "read 2 documents" in out
    assert f"{source}:2:" in err and f"{source}:3:" in err and "`$.id`" in err
    assert "2 lines or files failed" in err
    assert "{'created': 2}" in out


def test_ingest_a_folder_recursively_with_front_matter_and_sidecars(
    in_process: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    engine_factory: Callable[[Settings], Engine],
) -> None:
    folder = tmp_path / "archive"
    (folder / "news" / "2024").mkdir(parents=True)
    (folder / "wire").mkdir()
    (folder / ".git").mkdir()
    (folder / "news" / "2024" / "port.txt").write_text(
        "---\ntitle: Storm closes Rotterdam port\nsource: harbour-news\ndate: 2024-02-06\n"
        "desk: europe\n---\n" + ARTICLE["text"]
    )
    (folder / "news" / "2024" / "port.meta.json").write_text(json.dumps({"source": "hn-wire"}))
    (folder / "wire" / "wheat.md").write_text("# Wheat harvest\n\n" + OTHER["text"] + "\n")
    (folder / "wire" / "page.html").write_text(HTML)
    (folder / "wire" / "doc.json").write_text(json.dumps({"text": OTHER["text"], "id": "w-json"}))
    (folder / "wire" / "broken.json").write_text("{nope")
    (folder / "logo.png").write_bytes(b"\x89PNG")
    (folder / "orphan.meta.json").write_text("{}")
    (folder / ".git" / "config.txt").write_text("hidden")

    store = settings.store
    assert main(["ingest", str(folder), "--store", store]) == 1  # broken.json failed
    out, err = capsys.readouterr()
    assert "read 4 documents" in out and "(1 .html, 1 .md, 1 .txt)" not in out
    assert "1 .html" in out and "1 .json" in out and "1 .md" in out and "1 .txt" in out
    assert "logo.png: not one of" in out and "orphan.meta.json: metadata sidecar" in out
    assert "wire/broken.json: not JSON" in err and "config.txt" not in out + err

    engine = engine_factory(settings)
    try:
        port = engine.document("news/2024/port")
        assert (port.title, port.source, port.published_at) == (
            "Storm closes Rotterdam port",
            "hn-wire",  # the sidecar wins over the front matter
            "2024-02-06",
        )
        assert port.metadata == {"file": "news/2024/port.txt", "desk": "europe"}
        assert port.text == ARTICLE["text"]  # without the front matter: offsets into it
        wheat = engine.document("wire/wheat")
        assert wheat.title == "Wheat harvest"
        page = engine.document("wire/page")
        assert page.title == "Storm closes Rotterdam port" and "cookies" not in page.text
        assert engine.document("w-json").text == OTHER["text"]
    finally:
        engine.close()


def test_ingest_with_nothing_to_ingest_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["ingest", str(tmp_path / "empty"), "--store", str(tmp_path / "s.db")]) == 1
    assert "nothing to ingest" in capsys.readouterr().err


@pytest.fixture
def keyed_server(settings: Settings, engine_factory: Callable[[Settings], Engine]) -> Iterator[str]:
    engine = engine_factory(settings)
    try:
        from service.schemas import DocumentIn

        engine.ingest([DocumentIn(**ARTICLE), DocumentIn(**OTHER)])  # type: ignore[arg-type]
    finally:
        engine.close()
    keyed = msgspec.structs.replace(settings, api_keys="desk:reader:k-reader")
    yield from serve(keyed, engine_factory)


def test_check_against_a_service_prints_a_table_or_json(
    keyed_server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTCHECK_URL", keyed_server)
    statement = "A storm damaged cranes in the port of Rotterdam"
    assert main(["check", statement, "--api-key", "k-reader", "--top-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(statement + "\nverdict: ")
    rows = [line for line in out.splitlines() if line.lstrip().startswith(("1 ", "2 "))]
    assert len(rows) == 2 and "port-1" in rows[0] and "Rotterdam" in rows[0]
    monkeypatch.setenv("FACTCHECK_API_KEY", "k-reader")
    assert main(["check", statement, "--json", "--url", keyed_server]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["evidence"][0]["document"]["id"] == "port-1"
    monkeypatch.delenv("FACTCHECK_API_KEY")
    assert main(["check", statement]) == 1  # no key
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "401" in err


def test_check_in_process(
    in_process: None, settings: Settings, engine_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = engine_factory(settings)
    from service.schemas import DocumentIn

    engine.ingest([DocumentIn(**ARTICLE)])  # type: ignore[arg-type]
    engine.close()
    assert main(["check", "Rotterdam port storm", "--store", settings.store, "--top-k", "1"]) == 0
    assert "port-1" in capsys.readouterr().out
    assert (
        main(["check", "Rotterdam port storm", "--store", settings.store, "--as-of", "soon"]) == 1
    )
    assert "as_of" in capsys.readouterr().err


def test_score_fails_fast_retries_failed_rows_and_exits_non_zero(
    keyed_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"id": 1, "claim": "Rotterdam port storm"}\n')
    argv = ["score", str(source), "-o", str(output), "--url", keyed_server]
    assert main([*argv, "--api-key", "k-reader"]) == 1  # no `text` field: nothing written
    assert "no record" in capsys.readouterr().err and not output.exists()
    source.write_text(
        '{"id": 1, "text": "Rotterdam port storm"}\n{"id": 2, "text": ""}\n'
        '{"id": 3, "text": "record wheat harvest"}\n'
    )
    assert main(argv) == 1  # no API key: one line, nothing written
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "401" in err
    assert not output.exists() or output.read_text() == ""
    assert main([*argv, "--api-key", "k-reader"]) == 1  # item 2 failed
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["id"], r["error"] is None) for r in records] == [(1, True), (2, False), (3, True)]
    capsys.readouterr()
    source.write_text(source.read_text().replace('"text": ""', '"text": "wheat prices fell"'))
    assert main([*argv, "--api-key", "k-reader"]) == 0  # the failed row again, and only it
    assert "1 scored (0 with an error" in capsys.readouterr().err
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(r["id"] for r in records) == [1, 2, 3]
    assert all(r["error"] is None for r in records)


HTML = """<!doctype html><html lang="en"><head>
<title>Storm closes Rotterdam port | Harbour News</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-02-06T08:00:00Z">
<link rel="canonical" href="https://example.org/port">
<meta property="og:title" content="Storm closes Rotterdam port"></head>
<body><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/login">Log in</a></nav>
<div class="cookie">We use cookies to improve your experience. Accept all cookies</div>
<article><h1>Storm closes Rotterdam port</h1><p class="byline">By Jane Doe</p>
<p>The port of Rotterdam was closed on Tuesday after a storm damaged two cranes.
Officials said repairs would take at least a week.</p>
<p>Shipping companies diverted vessels to Antwerp and Hamburg while engineers inspected
the quays, the port authority said in a statement.</p></article>
<aside><h3>Related stories</h3><ul><li><a href="/a">Wheat harvest hits record</a></li></ul></aside>
<footer>© 2024 Harbour News. All rights reserved.</footer></body></html>"""
