"""Execute a notebook headless with nbclient and collect error/warning outputs."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WARNING_PATTERN = re.compile(r"\b\w*(Warning|Error)\b|Traceback")


def problem_outputs(nb):
    """Return (cell index, text) for every error, stderr or warning-looking output."""
    problems = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append((index, f"{out.ename}: {out.evalue}"))
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append((index, "stderr: " + out.text))
            elif out.output_type == "stream" and WARNING_PATTERN.search(out.text):
                problems.append((index, "stdout: " + out.text))
            elif out.output_type in ("display_data", "execute_result"):
                text = out.get("data", {}).get("text/plain", "")
                if "Warning" in text:
                    problems.append((index, "display: " + text))
    return problems


def execute_notebook(path, *, timeout=120, cwd=None):
    """Run ``path`` in a fresh python3 kernel; return (executed notebook, seconds)."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start
