"""Russian and English UI strings: t(key, lang) over the tables in lib/locales/, with CLDR plurals and number formats.

Each language has a folder of tables, `lib/locales/<lang>/<name>.json`, one per page (`train.json`, `conv.json`,
`draw.json`, …) or cross-page topic (`common.json` for the frame and shared widgets, `noise.json`, `model.json`,
`ckpt.json`, `alt.json` for picture descriptions, …), and every key of `<name>.json` starts with `<name>.`: a key
says where its file is, and a page's strings are in one place.

Templates are `str.format` templates with two additions, both applied by the language's rules:

* numbers are written the language's way: a format spec with grouping or decimals (`{n:,}`, `{x:.2f}`, `{p:.1%}`)
  gives "40 385", "0,003", "36,0 %" in Russian (narrow no-break space between thousands, comma before decimals)
  and "40,385", "0.003", "36.0%" in English, negative numbers with a true minus sign ("−5,9", "−1"); `{n}` with no spec is written as Python writes it (seeds, years), but for the minus sign;
* `{n:plural:FORM|FORM|...}` is replaced by the form that CLDR's plural rule picks for n: Russian lists
  one|few|many[|other] ("{n} {n:plural:карта|карты|карт}" → "1 карта", "2 карты", "5 карт", "21 карта"),
  English lists one|other ("{n} {n:plural:map|maps}"). A missing "other" falls back to "few" in Russian (the
  genitive singular: "1,5 карты") and a missing form to the last one given.

Code outside templates uses the same rules through `plural(n, lang, *forms)`, `plural_category(n, lang)` and
`format_number(x, lang, spec)`; `format_duration(seconds, lang)` writes times as "2 ч 51 мин".
"""

from __future__ import annotations

import json
import math
import numbers
import re
import string
from functools import cache, lru_cache
from pathlib import Path

LANGUAGES = ("ru", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
RUSSIAN_LOCALES = ("ru", "uk", "be", "kk", "ky", "uz", "tg", "hy", "az")

# Thousands separator in Russian numbers ("40 385"). CLDR's Russian data uses U+00A0 (no-break space); the narrow
# no-break space U+202F is a deliberate choice: it is the thin gap Russian typesetting puts between digit groups,
# it never breaks a number across lines either, and it keeps the wide tables of the Compare page narrower.
NARROW_NBSP = "\u202f"
NBSP = "\u00a0"  # between a Russian number and its percent sign ("36,0 %")
MINUS = "\u2212"  # the minus sign of shown numbers ("−5,9"); a hyphen-minus reads as a dash
PLURAL_SPEC = "plural:"
# Plural categories in the order a template (or plural()) lists its forms.
PLURAL_ORDER = {"ru": ("one", "few", "many", "other"), "en": ("one", "other")}


def locale_files(lang: str) -> list[Path]:
    """The language's tables, one per page or topic, in name order (`ru/common.json`, `ru/compare.json`, …)."""
    return sorted((LOCALE_DIR / lang).glob("*.json"))


@cache
def table(lang: str) -> dict[str, str]:
    """The string table of one language, merged from its files (read once, never mutated)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    files = locale_files(lang)
    if not files:
        raise FileNotFoundError(f"no string tables in {LOCALE_DIR / lang}")
    merged: dict[str, str] = {}
    for path in files:
        part = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & part.keys()
        if clash:
            raise ValueError(f"{lang}/{path.name} repeats keys {sorted(clash)}")
        merged.update(part)
    return merged


def _operands(n: float) -> tuple[int, int]:
    """CLDR operands i (integer digits) and v (number of visible fraction digits; 0 for whole numbers)."""
    value = abs(n)
    if isinstance(n, numbers.Integral) or float(value).is_integer():
        return int(value), 0
    return math.floor(value), 1  # only "has a fraction or not" matters to the Russian and English rules


def plural_category(n: float, lang: str) -> str:
    """CLDR cardinal plural category of n: 'one', 'few', 'many' or 'other' (Russian), 'one' or 'other' (English)."""
    i, v = _operands(n)
    if lang == "ru":
        if v:
            return "other"
        if i % 10 == 1 and i % 100 != 11:
            return "one"
        if 2 <= i % 10 <= 4 and not 12 <= i % 100 <= 14:
            return "few"
        return "many"
    if lang == "en":
        return "one" if i == 1 and v == 0 else "other"
    raise ValueError(f"unsupported language {lang!r}")


def plural(n: float, lang: str, *forms: str) -> str:
    """The form for n among forms listed as one, few, many[, other] (Russian) or one, other (English)."""
    if not forms:
        raise ValueError("plural() needs at least one form")
    order = PLURAL_ORDER[lang]
    category = plural_category(n, lang)
    if category == "other" and lang == "ru" and len(forms) < 4:
        category = "few"  # fractions take the genitive singular, the same word as for 2–4
    return forms[min(order.index(category), len(forms) - 1)]


def true_minus(text: str) -> str:
    """Text whose hyphen-minus signs become the true minus sign U+2212 ("−5"), for what a person reads."""
    return text.replace("-", MINUS)


_E_NOTATION = re.compile(r"^([-+]?[\d.,]+)[eE]([-+])(\d+)$")
SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def format_number(value: float, lang: str, spec: str = "", minus: str = MINUS) -> str:
    """A number formatted by a Python format spec, then written with the language's separators and minus sign.

    minus: "-" for files a program reads back (CSV), the true minus sign U+2212 for what a person reads.
    """
    text = format(value, spec)
    if minus == MINUS and (power := _E_NOTATION.match(text)):  # a person reads "1,78·10⁻¹⁵", not "1.78e-15"
        mantissa, sign, exponent = power.groups()
        if not mantissa.strip("-+0."):
            text = "0"
        else:
            digits = ("-" if sign == "-" else "") + str(int(exponent))
            text = f"{mantissa}·10{digits.translate(SUPERSCRIPTS)}" if digits != "0" else mantissa
    text = text.replace("-", minus)
    if lang != "ru":
        return text
    text = text.translate({ord(","): NARROW_NBSP, ord("."): ","})
    return text.replace("%", NBSP + "%") if "%" in spec else text


def read_number(text: object) -> float:
    """A number as a person types it in either language ("−0,5", "-0.5", "1 000"); NaN when it is none."""
    if isinstance(text, numbers.Real) and not isinstance(text, bool):
        return float(text)
    cleaned = str(text or "").strip().translate({ord(NBSP): None, ord(NARROW_NBSP): None, ord(" "): None,
                                                  ord(MINUS): "-", ord("–"): "-", ord(","): "."})  # fmt: skip
    try:
        value = float(cleaned)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _format_field(value: object, format_spec: str, lang: str) -> str:
    """One filled placeholder: plural forms and localised numbers; everything else as str.format does it."""
    if format_spec.startswith(PLURAL_SPEC):
        return plural(value, lang, *format_spec[len(PLURAL_SPEC) :].split("|"))  # type: ignore[arg-type]
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return format_number(value, lang, format_spec) if format_spec else true_minus(str(value))
    return format(value, format_spec)


class _Formatter(string.Formatter):
    """str.format with the language's number separators and `{n:plural:...}` forms."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        """Plural forms and localised numbers; everything else as str.format does it."""
        return _format_field(value, format_spec, self.lang)


@lru_cache(maxsize=4096)
def _pieces(template: str) -> tuple[tuple[str, str | None, str], ...] | None:
    """The template cut once into (text, placeholder name, format spec); None when it needs str.format's
    other rules (positional or nested fields, attributes, conversions)."""
    pieces = []
    for text, name, spec, conversion in string.Formatter().parse(template):
        if name is not None and (conversion or not name.isidentifier() or "{" in spec):
            return None
        pieces.append((text, name, spec or ""))
    return tuple(pieces)


def fill(template: str, lang: str, **params: object) -> str:
    """A template filled by the language's rules (plural forms, number separators)."""
    pieces = _pieces(template)  # every rerun fills dozens of templates: each is parsed only once
    if pieces is None:
        return _Formatter(lang).format(template, **params)
    return "".join(
        text if name is None else text + _format_field(params[name], spec, lang) for text, name, spec in pieces
    )


def t(key: str, lang: str, **params: object) -> str:
    """Translated string with {placeholders} filled; the key itself if it is missing."""
    text = table(lang).get(key) or table("en").get(key) or key
    return fill(text, lang, **params) if params else text


def format_duration(seconds: float, lang: str) -> str:
    """A duration as the language writes it, to the second: "2 ч 51 мин", "3 мин 05 с", "45 с" (under a second: 1 с)."""
    total = max(1, round(seconds)) if seconds > 0 else 0  # a run of 0.3 s takes time: never "≈ 0 с"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return t("common.duration.h_min", lang, h=hours, m=minutes)
    if minutes:
        return t("common.duration.min_s", lang, m=minutes, s=secs)
    return t("common.duration.s", lang, s=secs)


def default_language(locale: str | None) -> str:
    """Russian for Russian-speaking (and unknown) browser locales, English otherwise."""
    if not locale:
        return "ru"
    return "ru" if locale.split("-")[0].lower() in RUSSIAN_LOCALES else "en"


# Russian letters in file names: plain Latin (a school computer, a zip tool or an e-mail may mangle Cyrillic)
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "-", "y", "-", "e", "yu", "ya"]))  # fmt: skip
TRANSLIT.update({"ъ": "", "ь": ""})  # the hard and soft signs have no Latin letter


def slug(text: str, limit: int = 40) -> str:
    """A file-name part made from a display name: "Моя модель 2" → "moya_model_2", "Табл. 1 · Б" → "tabl_1_b"."""
    latin = "".join(TRANSLIT.get(ch, ch) for ch in text.lower())
    words = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in latin.replace("_", " ")).split()
    return "_".join(words)[:limit].strip("_") or "model"
