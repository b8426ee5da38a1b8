"""Benchmarks; each prints its result as JSON and can write the same text to a file (`report`)."""

from __future__ import annotations

import json
from pathlib import Path


def report(result: dict, path: str | None, ensure_ascii: bool = True) -> None:
    """Print a benchmark's result as JSON and, when a path is given, write the same text there."""
    text = json.dumps(result, indent=1, ensure_ascii=ensure_ascii)
    print(text)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n")
