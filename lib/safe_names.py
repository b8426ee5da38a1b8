"""User-supplied file names made harmless wherever they are shown or written.

A name comes from a student's computer and can hold anything: Markdown or HTML that a page would render
(an outside image, a link), control and bidirectional-override characters that make a name read
differently from what it is, a NUL byte that breaks a widget, a leading `=` that a spreadsheet runs as a
formula, or `../` that a ZIP tool follows. Every name passes `clean_name` once; then `markdown_text`
before a page shows it, `csv_cell` before a CSV holds it and `file_part` before it names a file.
"""

from __future__ import annotations

import string
import unicodedata

MAX_NAME = 120  # characters kept of a file name (a name longer than a line says nothing more)
# Bidirectional embeddings, overrides and isolates (U+202A–202E, U+2066–2069) and the invisible marks
# (U+200B–200F, U+061C, U+FEFF) reorder or hide text; they are Unicode category Cf, like other format characters.
STRIPPED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")  # control, format (bidi), surrogates, private use, unassigned
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")  # spreadsheet formula or DDE triggers (OWASP)
MARKDOWN_SPECIAL = set(string.punctuation)  # CommonMark lets a backslash escape any ASCII punctuation
FALLBACK = "file"


def clean_name(name: object, limit: int = MAX_NAME) -> str:
    """The name without control, bidi, NUL and other invisible characters, spaces collapsed, at most `limit` long."""
    text = unicodedata.normalize("NFC", str(name) if name is not None else "")
    kept = "".join(" " if ch in "\t\n\r\v\f" else ch for ch in text if unicodedata.category(ch) not in
                   STRIPPED_CATEGORIES or ch in "\t\n\r\v\f")  # fmt: skip
    kept = " ".join(kept.split())
    if len(kept) > limit:
        kept = kept[: limit - 1] + "…"
    return kept or FALLBACK


def markdown_text(name: object) -> str:
    """A cleaned name that Markdown (and Streamlit's extensions: :colour[], $math$) shows as plain text."""
    return "".join("\\" + ch if ch in MARKDOWN_SPECIAL else ch for ch in clean_name(name))


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a cleaned value that could start a formula gets a leading apostrophe."""
    text = clean_name(value, limit=10_000) if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def file_part(name: object, limit: int = 40) -> str:
    """A piece of a file name: letters and digits of the cleaned name, everything else '_' (no '/', '..', ':')."""
    text = clean_name(name)
    return "".join(ch if ch.isalnum() and ch.isascii() or ch.isalpha() else "_" for ch in text)[:limit] or FALLBACK


def member_name(*parts: str) -> str:
    """A ZIP member path from pieces each reduced by file_part: no absolute paths, no '..', no drive letters."""
    return "/".join(part if i == len(parts) - 1 and _is_plain_file(part) else file_part(part)
                    for i, part in enumerate(parts))  # fmt: skip


def _is_plain_file(part: str) -> bool:
    stem, dot, ext = part.rpartition(".")
    return bool(dot) and file_part(stem, len(stem)) == stem and ext.isascii() and ext.isalnum()
