"""Reading documents from disk: the demo corpus, folders of .txt files and JSONL files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import msgspec

from service.schemas import DocumentIn


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


def read_documents(path: str | Path) -> Iterator[DocumentIn]:
    """Documents from a folder of ``.txt`` files (id = file stem) or a JSONL file."""
    path = Path(path)
    if path.is_dir():
        if (path / "metadata.jsonl").exists():
            yield from demo_documents(path)
            return
        for file in sorted(path.glob("*.txt")):
            text = file.read_text(encoding="utf-8")
            title = text.strip().splitlines()[0][:1000] if text.strip() else ""
            yield DocumentIn(id=file.stem, title=title, text=text)
        return
    decoder = msgspec.json.Decoder(DocumentIn)
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield decoder.decode(line)
                except msgspec.ValidationError as exc:
                    raise ValueError(f"{path}:{number}: {exc}") from exc
