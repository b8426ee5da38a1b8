"""Registry names of the models, today's and former ones, without torch (the store and the teacher's page read them)."""

from __future__ import annotations

from typing import Any

# Former registry names, still written in older checkpoints, stored trainings and remembered choices.
MODEL_ALIASES: dict[str, str] = {"seed": "table1"}


def canonical_model(name: Any) -> Any:
    """The registry name of a model: a former name becomes today's, anything else stays as it is."""
    return MODEL_ALIASES.get(name, name) if isinstance(name, str) else name


def canonical_stem(stem: str) -> str:
    """A shipped file's stem ("<model>_<group>[_aug]") with today's model name: "seed_B" → "table1_B"."""
    model, sep, rest = stem.partition("_")
    return canonical_model(model) + sep + rest
