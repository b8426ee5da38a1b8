"""User-supplied file names made harmless wherever they are shown or written.

A name comes from a student's computer and can hold anything: Markdown or HTML that a page would render
(an outside image, a link), control and bidirectional-override characters that make a name read
differently from what it is, a NUL byte that breaks a widget, a leading `=` that a spreadsheet runs as a
formula, or `../` that a ZIP tool follows. Every name passes `clean_name` once; then `markdown_text`
before a page shows it, `csv_cell` before a CSV holds it and `file_part` before it names a file (a ZIP
member: no '/', no '..', no drive letter).
"""

from __future__ import annotations

import string
import unicodedata

MAX_NAME = 120  # characters kept of a file name (a name longer than a line says nothing more)
# Bidirectional embeddings, overrides and isolates (U+202A–202E, U+2066–2069) and the invisible marks
# (U+200B–200F, U+061C, U+FEFF) reorder or hide text; they are Unicode category Cf, like other format characters.
STRIPPED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")  # control, format (bidi), surrogates, private use, unassigned
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")  # spreadsheet formula or DDE triggers (OWASP)
MARKDOWN_SPECIAL = set(string.punctuation)  # every character Markdown or its extensions could read as markup
WORD_JOINER = "\u2060"  # invisible, and keeps GitHub-flavoured Markdown from seeing `www.`, `http:` or `a@b`
FALLBACK = "file"
WHITESPACE = "\t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u2028\u2029"  # str.split() breaks on these


def clean_name(name: object, limit: int = MAX_NAME) -> str:
    """The name without control, bidi, NUL and other invisible characters, spaces collapsed, at most `limit` long."""
    text = unicodedata.normalize("NFC", str(name) if name is not None else "")
    # line breaks and tabs become spaces (a name stays on one line); other invisible characters go
    kept = "".join(ch for ch in text if ch in WHITESPACE or unicodedata.category(ch) not in STRIPPED_CATEGORIES)
    kept = " ".join(kept.split())
    if len(kept) > limit:
        kept = kept[: limit - 1] + "…"
    return kept or FALLBACK


def markdown_text(name: object) -> str:
    """A cleaned name that Markdown (and Streamlit's extensions: :colour[], $math$) shows as plain text.

    Every ASCII punctuation character is backslash-escaped, which stops links, images, emphasis and HTML.
    GitHub's autolinks (`www.…`, `http://…`, `a@b.c`) are found later, in the text itself, so an invisible
    word joiner (U+2060) goes before each `:` and `@` and before the `.` of `www.`: the text reads the same
    and never becomes a link.
    """
    out: list[str] = []
    for ch in clean_name(name):
        if ch in ":@" or ch == "." and "".join(out[-3:]).lower() == "www":
            out.append(WORD_JOINER)
        out.append("\\" + ch if ch in MARKDOWN_SPECIAL else ch)
    return "".join(out)


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a cleaned value that could start a formula gets a leading apostrophe."""
    text = clean_name(value, limit=10_000) if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def file_part(name: object, limit: int = 40, keep: str = "") -> str:
    """A piece of a file name: letters and digits of the cleaned name and the characters in `keep` (e.g. "-" of a
    group "ИВТ-21"), everything else '_' (no '/', '..', ':')."""
    if set(keep) & set("/\\.:"):
        raise ValueError(f"file_part cannot keep {keep!r}")
    text = clean_name(name)
    kept = (ch if ch.isalpha() or ch.isascii() and ch.isdigit() or ch in keep else "_" for ch in text)
    return "".join(kept)[:limit] or FALLBACK
