"""``factcheck score``: resume after a kill (a real subprocess), CSV in and out, carried fields."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import msgspec

from service.batch import check_now
from service.engine import Engine
from service.schemas import DocumentIn
from service.score import done_keys, score_file
from service.settings import PROJECT_ROOT, Settings
from tests.test_api import ARTICLE, OTHER

STATEMENTS = [
    "A storm damaged cranes in the port of Rotterdam",
    "Kansas farmers had a record wheat harvest",
    "Wheat prices fell by ten percent",
    "Repairs to the Rotterdam port take a week",
]


def _store(settings: Settings, engine_factory: Callable[[Settings], Engine]) -> None:
    engine = engine_factory(settings)
    try:
        engine.ingest([DocumentIn(**ARTICLE), DocumentIn(**OTHER)])  # type: ignore[arg-type]
    finally:
        engine.close()


def _keys(path: Path) -> Counter[str]:
    keys: Counter[str] = Counter()
    for raw in path.read_bytes().splitlines():
        record = msgspec.json.decode(raw)  # every line is whole JSON
        keys[f"id:{record['id']}" if "id" in record else f"line:{record['line']}"] += 1
    return keys


def test_cli_resumes_after_sigkill_without_losing_or_repeating_a_result(
    tmp_path: Path, settings: Settings, engine_factory: Callable[[Settings], Engine]
) -> None:
    _store(settings, engine_factory)
    source = tmp_path / "in.jsonl"
    lines = []
    for n in range(30):  # half with caller ids, half keyed by their line number
        record = {"text": STATEMENTS[n % 4], "desk": f"d{n % 3}"}
        lines.append(msgspec.json.encode({"id": f"s{n}", **record} if n % 2 else record))
    lines.insert(10, b"")  # a blank line does not count
    lines.insert(20, b"{not json")  # a bad line gets an error record, once
    source.write_bytes(b"\n".join(lines) + b"\n")
    expected = {f"id:s{n}" for n in range(1, 30, 2)} | {
        f"line:{i + 1}" for i, raw in enumerate(lines) if raw and b'"id"' not in raw
    }
    assert len(expected) == 31

    output = tmp_path / "out.jsonl"
    command = [
        sys.executable, "-m", "service.cli", "score", str(source), "-o", str(output),
        "--local", "--store", settings.store, "--batch-size", "1", "--top-k", "2",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    first = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while (not output.exists() or output.read_bytes().count(b"\n") < 3) and first.poll() is None:
        assert time.monotonic() < deadline, "no results written"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL  # killed mid-way, not finished
    partial = _keys(output)
    assert 0 < sum(partial.values()) < len(expected)
    assert max(partial.values()) == 1

    with output.open("ab") as fh:  # as if a power cut had torn the last record
        fh.write(b'{"id": "s999", "verdict": "supp')
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 1, second.stderr  # the bad line failed
    done = sum(partial.values()) - (1 if "line:21" in partial else 0)  # a failure is redone
    assert f"{done} already in" in second.stderr

    final = _keys(output)
    assert set(final) == expected and max(final.values()) == 1  # nothing lost, nothing twice
    records = [msgspec.json.decode(raw) for raw in output.read_bytes().splitlines()]
    assert all("desk" in r for r in records if r["error"] is None)  # other fields carried
    errors = [r for r in records if r["error"] is not None]
    assert [r["line"] for r in errors] == [21]
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 1 and "1 scored (1 with an error" in again.stderr  # only it
    assert output.read_bytes().count(b"\n") == len(expected)  # one record per key still


def test_csv_in_and_out_with_resume(
    tmp_path: Path, settings: Settings, engine_factory: Callable[[Settings], Engine]
) -> None:
    _store(settings, engine_factory)
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    with source.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["ref", "text", "note"])
        for n, statement in enumerate(STATEMENTS):
            writer.writerow([f"r{n}", statement, f"note, with a comma {n}"])
        writer.writerow(["r9", "", "empty statement"])
    engine = engine_factory(settings)
    try:
        backend = lambda items: check_now(engine, items)  # noqa: E731
        first = score_file(source, output, backend, id_field="ref", batch_size=2)
        second = score_file(source, output, backend, id_field="ref", batch_size=2)
    finally:
        engine.close()
    assert (first.total, first.scored, first.errors) == (5, 5, 1)
    assert (second.scored, second.skipped, second.errors) == (1, 4, 1)  # the failed row again
    with output.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["ref"] for r in rows] == ["r0", "r1", "r2", "r3", "r9"]
    assert rows[0]["note"] == "note, with a comma 0" and rows[0]["top_document"] == "port-1"
    assert rows[0]["verdict"] in {"supported", "refuted", "conflicting", "not_enough_info"}
    assert rows[4]["verdict"] == "" and rows[4]["error"].startswith("422")
    assert done_keys(output, "ref") == {f"id:r{n}" for n in (0, 1, 2, 3)}  # r9 failed
    with output.open(newline="", encoding="utf-8") as fh:  # and was taken out to be redone
        assert [r["ref"] for r in csv.DictReader(fh)] == ["r0", "r1", "r2", "r3"]
