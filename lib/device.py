"""One place that picks the compute device (CUDA → MPS → CPU)."""

from __future__ import annotations

import torch

from lib.i18n import t

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(preference: str | None = "auto") -> torch.device:
    """The requested device, or the best available one for 'auto'/None."""
    pref = (preference or "auto").lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but is not available on this machine")
    if pref == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("MPS was requested but is not available on this machine")
    if pref not in DEVICE_CHOICES and not pref.startswith("cuda:"):
        raise ValueError(f"unknown device {preference!r}; use one of {DEVICE_CHOICES}")
    return torch.device(pref)


def describe_device(device: torch.device, lang: str = "en") -> str:
    """Human-readable device name for the sidebar, in the UI language ("CPU · 2 потока")."""
    if device.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return t("common.device.cpu", lang, n=torch.get_num_threads())
