"""Shared by the bench scripts: real sentences, a live server, percentiles, tables, machine line."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Stores and embeddings take long to build: kept outside the checkout, shared by worktrees.
CACHE = Path(os.environ.get("FACTCHECK_BENCH_CACHE", ROOT.parent / "bench-cache"))
EVAL = ROOT.parent / "shared" / "data" / "eval"
if not EVAL.exists():
    EVAL = Path("/work/shared/data/eval")
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def machine() -> str:
    """One line: CPU, cores, load (other jobs share this machine), Python."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, load average {load}, Python {platform.python_version()}"
    )


def eval_records() -> list[dict[str, object]]:
    """Climate-FEVER claims with their evidence sentences (dev and train)."""
    records = []
    for name in ("climate-fever-dev.jsonl", "climate-fever-train.jsonl"):
        with (EVAL / name).open(encoding="utf-8") as fh:
            records.extend(json.loads(line) for line in fh if line.strip())
    return records


def statements(limit: int) -> list[str]:
    """Real check statements: the Climate-FEVER dev claims."""
    with (EVAL / "climate-fever-dev.jsonl").open(encoding="utf-8") as fh:
        claims = [json.loads(line)["claim"] for line in fh if line.strip()]
    return claims[:limit]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""

    def cell(v: object) -> str:
        return (
            f"{v:.3g}"
            if isinstance(v, float) and abs(v) < 10
            else (f"{v:,.0f}" if isinstance(v, float) else str(v))
        )

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def live_server(env: dict[str, str], timeout: float = 1800) -> Iterator[tuple[str, int]]:
    """uvicorn serving ``create_app()`` on 127.0.0.1 in a child process: (base url, pid).

    Yields once the service is ready: models loaded, store open (and the demo corpus
    ingested when ``FACTCHECK_LOAD_DEMO`` asks for it).
    """
    port = free_port()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "service.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=full_env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            time.sleep(0.5)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb(pid: int, *, peak: bool = False) -> float:
    """Resident set size of a process in MiB: now, or its peak so far (``VmHWM``)."""
    field = "VmHWM:" if peak else "VmRSS:"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")
