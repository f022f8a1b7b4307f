"""The Dockerfile's steps, run without a Docker engine (scripts/check_image_steps.sh).

The install script makes a fresh virtual environment with the CPU-only torch wheel and the
project, then the service is started from it with the Dockerfile's ENV lines until the
Dockerfile's HEALTHCHECK command passes. Takes a few minutes: marked slow.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from service.settings import PROJECT_ROOT, Settings

PYTORCH_CPU_INDEX = "download.pytorch.org"


def torch_index() -> str:
    """PyTorch's CPU index when reachable; else PyPI, where this machine's wheel cache
    (pip's find-links) holds the same ``+cpu`` wheel."""
    if "TORCH_INDEX" in os.environ:
        return os.environ["TORCH_INDEX"]
    try:
        socket.getaddrinfo(PYTORCH_CPU_INDEX, 443)
        return f"https://{PYTORCH_CPU_INDEX}/whl/cpu"
    except OSError:
        return "https://pypi.org/simple"


@pytest.mark.slow
def test_image_steps_install_and_start_the_service(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TORCH_INDEX": torch_index(),
        # bytecode the image compiles at build time changes nothing the test checks, and
        # compiling torch's thousands of modules is a good part of the install here
        "PIP_NO_COMPILE": "1",
        "FACTCHECK_STANCE_MODEL": Settings.from_env().stance_model,
    }
    result = subprocess.run(
        ["bash", str(PROJECT_ROOT / "scripts" / "check_image_steps.sh"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "torch 2.13.0+cpu" in result.stdout
    assert "HEALTHCHECK passed" in result.stdout
