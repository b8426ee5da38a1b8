"""The plural rules of lib.i18n cross-checked against Babel's CLDR data (a development dependency)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lib.i18n import plural_category

babel = pytest.importorskip("babel")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_whole_numbers_0_to_1000_match_cldr(lang):
    locale = babel.Locale.parse(lang)
    mismatches = [n for n in range(1001) if plural_category(n, lang) != locale.plural_form(n)]
    assert mismatches == []


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("text", ["0.5", "1.5", "2.3", "4.75", "11.25", "21.1", "101.5", "0.003", "1000.5"])
def test_fractions_match_cldr(lang, text):
    assert plural_category(float(text), lang) == babel.Locale.parse(lang).plural_form(Decimal(text))
