"""Scoring a file of statements: JSONL or CSV in and out, resumable, over HTTP or in process.

Each input record has a ``text`` field (the statement) and any other fields, which are
carried through to its output record next to the result (``verdict``, ``confidence``,
``reasons``, evidence, or ``error``). A record's key is its caller ``id`` when it has one,
else its line number (JSONL: line of the file; CSV: data row). A re-run skips every key
OUTPUT already holds with a result, so an interrupted job resumes where it stopped and
records that failed (an error instead of a result) are scored again: each output
record is written with one ``write`` call straight to the file (no buffering), so a
kill leaves whole records only, and a torn tail (a power cut) is cut off before resuming.
"""

from __future__ import annotations

import csv
import io
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from service.errors import InvalidInputError
from service.schemas import CheckResponse, ItemError

Outcome = CheckResponse | ItemError
Backend = Callable[[list[dict[str, Any]]], list[Outcome]]
"""Checks items (``{"id", "statement", "top_k"}``) and returns their outcomes in order."""

RESULT_FIELDS = ("line", "verdict", "confidence", "reasons", "evidence", "error")
CSV_RESULT_FIELDS = (
    "line",
    "verdict",
    "confidence",
    "reasons",
    "top_evidence",
    "top_document",
    "top_stance",
    "error",
)


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """One input record."""

    line: int
    fields: dict[str, Any]
    problem: str | None = None  # the record could not be read (bad JSON line)

    def key(self, id_field: str) -> str:
        """The caller's id when it has one, else the line number."""
        return record_key(self.fields, self.line, id_field)


def record_key(fields: dict[str, Any], line: int, id_field: str) -> str:
    """The resume key of a record: ``id:<caller id>`` or ``line:<n>``."""
    value = fields.get(id_field)
    return f"id:{value}" if value not in (None, "") else f"line:{line}"


def is_csv(path: str | Path) -> bool:
    """CSV when the file name says so; JSONL otherwise."""
    return Path(path).suffix.lower() == ".csv"


def read_records(path: str | Path) -> Iterator[Record]:
    """The records of a JSONL file (blank lines skipped) or a CSV file with a header."""
    if is_csv(path):
        with open(path, encoding="utf-8", newline="") as fh:
            for row, fields in enumerate(csv.DictReader(fh), start=1):
                yield Record(line=row, fields=dict(fields))
        return
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                fields = msgspec.json.decode(raw)
            except msgspec.DecodeError as exc:
                yield Record(line=number, fields={}, problem=f"not JSON: {exc}")
                continue
            if isinstance(fields, dict):
                yield Record(line=number, fields=fields)
            else:
                yield Record(line=number, fields={}, problem="not a JSON object")


def done_keys(path: str | Path, id_field: str) -> set[str]:
    """Keys of the records OUTPUT holds with a result; a torn last line is cut off first.

    Records with an error are taken out of OUTPUT (rewritten whole, then renamed over it)
    so that this run scores them again and OUTPUT keeps one record per key.
    """
    path = Path(path)
    if not path.exists():
        return set()
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)
    done, failed = set(), False
    for r in read_records(path):
        if r.problem is None and r.fields.get("error") in (None, ""):
            done.add(record_key(r.fields, int(r.fields.get("line") or 0), id_field))
        else:
            failed = True
    if failed:
        _drop_failed(path)
    return done


def _drop_failed(path: Path) -> None:
    """Rewrite OUTPUT without its error records (atomically: a kill leaves the old file)."""
    kept = bytearray()
    if is_csv(path):  # a record may span lines: go through the CSV reader
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, reader.fieldnames or [], lineterminator="\n")
            writer.writeheader()
            writer.writerows(row for row in reader if not row.get("error"))
        kept += buffer.getvalue().encode("utf-8")
    else:
        with open(path, "rb") as fh:
            for raw in fh:
                try:
                    record = msgspec.json.decode(raw)
                except msgspec.DecodeError:
                    continue  # not a record of ours
                if isinstance(record, dict) and record.get("error") is None:
                    kept += raw
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as fh:
        fh.write(kept)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)


def output_fields(record: Record, outcome: Outcome, csv_out: bool) -> dict[str, Any]:
    """The output record: the input fields, then the result's."""
    out = dict(record.fields)
    error = outcome if isinstance(outcome, ItemError) else None
    result = outcome if isinstance(outcome, CheckResponse) else None
    out["line"] = record.line
    out["verdict"] = result.verdict if result else None
    out["confidence"] = result.confidence if result else None
    top = result.evidence[0] if result and result.evidence else None
    if csv_out:
        out["reasons"] = ";".join(result.reasons) if result else ""
        out["top_evidence"] = top.text if top else ""
        out["top_document"] = top.document.id if top else ""
        out["top_stance"] = top.stance if top else ""
        out["error"] = f"{error.status} {error.detail}" if error else ""
    else:
        out["reasons"] = result.reasons if result else []
        out["evidence"] = msgspec.to_builtins(result.evidence) if result else []
        out["error"] = msgspec.to_builtins(error) if error else None
    return out


class Writer:
    """Appends whole records to OUTPUT, one unbuffered ``write`` per record."""

    def __init__(self, path: str | Path, input_columns: Sequence[str]) -> None:
        self.csv = is_csv(path)
        self.columns = [*input_columns, *(c for c in CSV_RESULT_FIELDS if c not in input_columns)]
        fresh = not Path(path).exists() or Path(path).stat().st_size == 0
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if self.csv and fresh:
            self._write(self._csv_line(dict(zip(self.columns, self.columns, strict=True))))

    def write(self, fields: dict[str, Any]) -> None:
        """Append one record."""
        self._write(self._csv_line(fields) if self.csv else msgspec.json.encode(fields) + b"\n")

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)

    def _csv_line(self, fields: dict[str, Any]) -> bytes:
        buffer = io.StringIO()
        csv.DictWriter(buffer, self.columns, extrasaction="ignore", lineterminator="\n").writerow(
            {k: "" if v is None else v for k, v in fields.items()}
        )
        return buffer.getvalue().encode("utf-8")

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]


def csv_columns(path: str | Path) -> list[str]:
    """The header of a CSV input (empty for JSONL)."""
    if not is_csv(path):
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


class Summary(msgspec.Struct, kw_only=True):
    """What a run did."""

    total: int = 0
    skipped: int = 0  # already in OUTPUT
    scored: int = 0
    errors: int = 0  # records written with an error instead of a result
    duplicates: int = 0  # repeated caller ids, not scored again


def score_file(
    input_path: str | Path,
    output_path: str | Path,
    backend: Backend,
    *,
    text_field: str = "text",
    id_field: str = "id",
    top_k: int = 5,
    batch_size: int = 32,
    concurrency: int = 1,
    progress: Callable[[int, int], Any] | None = None,
) -> Summary:
    """Score every record of INPUT not yet in OUTPUT; see the module docstring.

    ``progress(total, already_done)`` is called once and must return an object with an
    ``update(n)`` method (a tqdm bar does).
    """
    check_text_field(input_path, text_field)
    done = done_keys(output_path, id_field)
    summary = Summary(total=sum(1 for _ in read_records(input_path)))
    todo: list[Record] = []
    seen: set[str] = set()
    for record in read_records(input_path):
        key = record.key(id_field)
        if key in done:
            summary.skipped += 1
        elif key in seen:
            summary.duplicates += 1
        else:
            seen.add(key)
            todo.append(record)
    bar = progress(summary.total, summary.skipped + summary.duplicates) if progress else None
    writer = Writer(output_path, csv_columns(input_path))
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            in_flight: deque[tuple[list[Record], Future[list[Outcome]]]] = deque()
            chunks = (todo[i : i + batch_size] for i in range(0, len(todo), batch_size))
            for chunk in chunks:
                items = [_item(r, text_field, id_field, top_k) for r in chunk]
                in_flight.append((chunk, pool.submit(_run, backend, chunk, items)))
                if len(in_flight) >= concurrency:
                    _drain(in_flight.popleft(), writer, summary, bar)
            while in_flight:
                _drain(in_flight.popleft(), writer, summary, bar)
    finally:
        writer.close()
    return summary


def check_text_field(path: str | Path, text_field: str) -> None:
    """Refuse INPUT, before anything is written, when no record has the text field.

    Raises:
        InvalidInputError: A CSV header without the column, or JSONL records without it.
    """
    if is_csv(path):
        columns = csv_columns(path)
        if text_field not in columns:
            raise InvalidInputError(
                f"{path} has no `{text_field}` column (columns: {', '.join(columns) or 'none'}); "
                "name the statement's column with --text-field",
                field="text_field",
            )
        return
    readable = [r for r in read_records(path) if r.problem is None]
    if readable and not any(text_field in r.fields for r in readable):
        raise InvalidInputError(
            f"no record of {path} has a `{text_field}` field (the first has: "
            f"{', '.join(readable[0].fields) or 'none'}); name it with --text-field",
            field="text_field",
        )


def _item(record: Record, text_field: str, id_field: str, top_k: int) -> dict[str, Any]:
    return {
        "id": record.key(id_field),
        "statement": record.fields.get(text_field),
        "top_k": top_k,
    }


def _run(backend: Backend, chunk: list[Record], items: list[dict[str, Any]]) -> list[Outcome]:
    """The backend's outcomes, with unreadable records answered without asking it."""
    readable = [item for record, item in zip(chunk, items, strict=True) if record.problem is None]
    outcomes = iter(backend(readable) if readable else [])
    return [
        next(outcomes)
        if record.problem is None
        else ItemError(
            status=400,
            type="urn:factcheck:error:BadRecord",
            title="Bad Request",
            detail=record.problem,
        )
        for record in chunk
    ]


def _drain(
    entry: tuple[list[Record], Future[list[Outcome]]], writer: Writer, summary: Summary, bar: Any
) -> None:
    chunk, future = entry
    for record, outcome in zip(chunk, future.result(), strict=True):
        writer.write(output_fields(record, outcome, writer.csv))
        summary.scored += 1
        summary.errors += isinstance(outcome, ItemError)
    if bar is not None:
        bar.update(len(chunk))
