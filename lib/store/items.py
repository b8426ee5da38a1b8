"""A cleaned digit (lib.lab.CleanedDigit) as a report row's settings and picture bytes, and back."""

from __future__ import annotations

from typing import Any

import numpy as np

from lib.lab import CleanedDigit
from lib.store.blobs import arrays_to_bytes, bytes_to_arrays

OUTPUT_PREFIX = "out_"


def cleaned_to_record(result: CleanedDigit, **settings: Any) -> tuple[dict[str, Any], bytes]:
    """(settings JSON, .npz bytes) for `Store.add_report_item`; `settings` (noise, seed, …) are kept alongside."""
    names = list(result.outputs)
    arrays = {"clean": result.clean, "noisy": result.noisy}
    arrays |= {f"{OUTPUT_PREFIX}{i}": out for i, out in enumerate(result.outputs.values())}
    record = {**settings, "models": names, "scores": result.scores, "noise_added": result.noise_added}
    return record, arrays_to_bytes(arrays)


def record_to_cleaned(settings: dict[str, Any], data: bytes) -> CleanedDigit:
    """The cleaned digit back from a stored report row."""
    arrays = bytes_to_arrays(data)
    outputs = {name: arrays[f"{OUTPUT_PREFIX}{i}"] for i, name in enumerate(settings.get("models", []))}
    return CleanedDigit(np.asarray(arrays["clean"]), np.asarray(arrays["noisy"]), outputs,
                        {k: dict(v) for k, v in settings.get("scores", {}).items()},
                        bool(settings.get("noise_added", True)))  # fmt: skip
