"""Russian and English UI strings: t(key, lang) over the tables in lib/locales/."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("ru", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
RUSSIAN_LOCALES = ("ru", "uk", "be", "kk", "ky", "uz", "tg", "hy", "az")


def locale_files(lang: str) -> list[Path]:
    """The language's main table followed by its per-topic tables (`ru.json`, `ru.*.json`)."""
    return [LOCALE_DIR / f"{lang}.json", *sorted(LOCALE_DIR.glob(f"{lang}.*.json"))]


@cache
def table(lang: str) -> dict[str, str]:
    """The string table of one language, merged from its files (read once, never mutated)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    merged: dict[str, str] = {}
    for path in locale_files(lang):
        part = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & part.keys()
        if clash:
            raise ValueError(f"{path.name} repeats keys {sorted(clash)}")
        merged.update(part)
    return merged


def t(key: str, lang: str, **params: object) -> str:
    """Translated string with {placeholders} filled; the key itself if it is missing."""
    text = table(lang).get(key) or table("en").get(key) or key
    return text.format(**params) if params else text


def default_language(locale: str | None) -> str:
    """Russian for Russian-speaking (and unknown) browser locales, English otherwise."""
    if not locale:
        return "ru"
    return "ru" if locale.split("-")[0].lower() in RUSSIAN_LOCALES else "en"
