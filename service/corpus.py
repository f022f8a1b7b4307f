"""Reading documents from disk: the demo corpus, folders of files and JSONL files.

A JSONL file holds one document (a ``DocumentIn`` object) per line. A folder is read
recursively: ``.txt`` and ``.md`` files are plain text, ``.html``/``.htm`` files web pages
(the article is extracted at ingest), ``.json`` files one document object each. A file's id
is its path under the folder without the extension (``news/2024/budget-vote``), its
title the first line of a text file or the page's own. Metadata comes from YAML front
matter at the top of a text or HTML file (between two ``---`` lines) and from a sidecar
``NAME.meta.json`` beside ``NAME.txt``, which wins. Known keys (``id``, ``title``,
``url``, ``source``, ``published_at`` or ``date``, ``language``, ``layout``) fill those
fields; every other key goes into ``metadata``.

Nothing unreadable stops a read: a bad line or file is reported with where it is and
why, and the rest still goes in.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import msgspec
import yaml

from service.schemas import MAX_TITLE_CHARS, DocumentIn

FORMATS = {".txt": "text", ".md": "text", ".html": "html", ".htm": "html", ".json": "json"}
SIDECAR = ".meta.json"
_FIELDS = ("id", "title", "url", "source", "published_at", "language", "layout")


class Problem(msgspec.Struct, frozen=True):
    """A line or file that was not read as a document, and why."""

    where: str  # "corpus.jsonl:3" or a file's path under the folder
    reason: str


class Corpus(msgspec.Struct, kw_only=True):
    """What a read found: documents, what failed to read, and files that are not documents."""

    documents: list[DocumentIn] = msgspec.field(default_factory=list)
    failed: list[Problem] = msgspec.field(default_factory=list)
    skipped: list[Problem] = msgspec.field(default_factory=list)
    kinds: dict[str, int] = msgspec.field(default_factory=dict)  # documents per file type


def demo_documents(folder: str | Path) -> list[DocumentIn]:
    """The seed articles with their metadata (dates are estimates: see ``date_basis``)."""
    folder = Path(folder)
    meta_path = folder / "metadata.jsonl"
    if not meta_path.exists():
        raise FileNotFoundError(f"demo corpus not found: {meta_path} (set FACTCHECK_DEMO_PATH)")
    docs = []
    for line in meta_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        meta = json.loads(line)
        docs.append(
            DocumentIn(
                id=meta["id"],
                title=meta["title"],
                text=(folder / meta["file"]).read_text(encoding="utf-8"),
                published_at=meta.get("published_at"),
                metadata={"date_basis": meta.get("date_basis", ""), "file": meta["file"]},
            )
        )
    return docs


def read_corpus(path: str | Path) -> Corpus:
    """The documents of a folder (the demo corpus if it has ``metadata.jsonl``) or JSONL file."""
    path = Path(path)
    if path.is_dir():
        if (path / "metadata.jsonl").exists():
            docs = demo_documents(path)
            return Corpus(documents=docs, kinds={"demo": len(docs)})
        return read_folder(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    return read_jsonl(path)


def read_jsonl(path: Path) -> Corpus:
    """One document per line; blank lines are skipped, bad lines reported by number."""
    corpus = Corpus()
    decoder = msgspec.json.Decoder(DocumentIn)
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                corpus.documents.append(decoder.decode(line))
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                corpus.failed.append(Problem(f"{path}:{number}", str(exc)))
    corpus.kinds = {"jsonl": len(corpus.documents)} if corpus.documents else {}
    return corpus


def read_folder(folder: Path) -> Corpus:
    """Every document file under ``folder``, in path order (hidden files and folders left out)."""
    corpus = Corpus()
    files = [
        f
        for f in sorted(folder.rglob("*"))
        if f.is_file() and not any(p.startswith(".") for p in f.relative_to(folder).parts)
    ]
    documents = {f.with_suffix("") for f in files if f.suffix.lower() in FORMATS}
    for file in files:
        where = file.relative_to(folder).as_posix()
        if file.name.endswith(SIDECAR):
            if file.with_name(file.name.removesuffix(SIDECAR)) not in documents:
                corpus.skipped.append(Problem(where, "metadata sidecar without a document"))
            continue
        kind = FORMATS.get(file.suffix.lower())
        if kind is None:
            corpus.skipped.append(Problem(where, f"not one of {', '.join(FORMATS)}"))
            continue
        try:
            corpus.documents.append(_read_file(file, where, kind))
        except (ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
            corpus.failed.append(Problem(where, _one_line(exc)))
            continue
        suffix = file.suffix.lower()
        corpus.kinds[suffix] = corpus.kinds.get(suffix, 0) + 1
    return corpus


def _read_file(file: Path, where: str, kind: str) -> DocumentIn:
    """One document file with its front matter and sidecar metadata applied."""
    text = file.read_text(encoding="utf-8")
    fields: dict[str, Any] = {"id": where.rsplit(".", 1)[0]}
    if kind == "json":
        try:
            fields |= msgspec.json.decode(text)
        except msgspec.DecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(fields, dict):
            raise ValueError("not a JSON object")
    else:
        meta, body = front_matter(text)
        fields |= {"text": body, "format": kind, "metadata": {"file": where}}
        if kind == "text" and body.strip():  # the first line, less a Markdown heading's #
            fields["title"] = body.strip().splitlines()[0].lstrip("#").strip()[:MAX_TITLE_CHARS]
        fields = _merge(fields, meta)
    sidecar = file.with_name(file.stem + SIDECAR)
    if sidecar.exists():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{sidecar.name} is not JSON: {exc}") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{sidecar.name} is not a JSON object")
        fields = _merge(fields, meta)
    try:
        return msgspec.convert(fields, DocumentIn)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (between ``---`` lines at the very top) and the text after it."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return {}, text
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            meta = yaml.safe_load("".join(lines[1:i])) or {}
            if not isinstance(meta, dict):
                raise ValueError("front matter is not a YAML mapping")
            return _plain(meta), "".join(lines[i + 1 :])
    return {}, text  # no closing line: an ordinary first line


def _merge(fields: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with ``meta`` applied: known keys as fields, the rest into ``metadata``."""
    merged = dict(fields)
    extra = dict(merged.get("metadata") or {})
    for key, value in meta.items():
        if key == "date":
            key = "published_at"
        if key in _FIELDS:
            merged[key] = value
        elif key == "metadata" and isinstance(value, dict):
            extra |= value
        else:
            extra[key] = value
    merged["metadata"] = extra
    return merged


def _plain(value: Any) -> Any:
    """YAML values as JSON ones: dates (which YAML parses) as ISO strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
