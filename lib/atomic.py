"""Files written whole or not at all: a temporary file beside the target, then os.replace over it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call `write` on a temporary file in the target's folder, then put it in the target's place.

    A reader sees the old file or the new one, never half of one; on any failure the temporary file is removed
    and the old file stays as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o644)  # a data file like any other (mkstemp makes it private to its owner)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    """`data` as the whole content of `path`, written atomically."""
    return write_atomically(path, lambda fh: fh.write(data))
