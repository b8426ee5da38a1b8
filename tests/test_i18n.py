"""CLDR plural rules and Russian/English number formats of lib.i18n."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lib import i18n
from lib.i18n import NARROW_NBSP, NBSP, fill, format_duration, format_number, plural, plural_category

# CLDR cardinal rules (plurals.xml): ru one = i%10=1 and i%100!=11; few = i%10=2..4 and i%100!=12..14;
# many = the other integers; other = numbers with a fraction. en one = 1 only.
RU_CASES = {
    0: "many", 1: "one", 2: "few", 4: "few", 5: "many", 11: "many", 12: "many", 14: "many", 21: "one",
    22: "few", 25: "many", 101: "one", 104: "few", 111: "many", 112: "many", 1001: "one", 1.5: "other", 0.3: "other",
}  # fmt: skip
EN_CASES = {0: "other", 1: "one", 2: "other", 11: "other", 21: "other", 1.5: "other"}


@pytest.mark.parametrize(("n", "category"), RU_CASES.items())
def test_russian_plural_category_follows_cldr(n, category):
    assert plural_category(n, "ru") == category


@pytest.mark.parametrize(("n", "category"), EN_CASES.items())
def test_english_plural_category_follows_cldr(n, category):
    assert plural_category(n, "en") == category


def test_plural_picks_the_russian_word_forms():
    words = [plural(n, "ru", "карта", "карты", "карт") for n in (1, 2, 5, 11, 21, 22, 25, 111, 1.5)]
    assert words == ["карта", "карты", "карт", "карт", "карта", "карты", "карт", "карт", "карты"]
    assert plural(3, "ru", "раз") == "раз"  # one form given: used for every number
    assert plural(1.5, "ru", "a", "b", "c", "d") == "d"  # an explicit "other" form wins over the fallback


def test_plural_in_templates_and_numpy_counts():
    template = "{n:,} {n:plural:отсчёт|отсчёта|отсчётов}"
    assert fill(template, "ru", n=194) == "194 отсчёта"
    assert fill(template, "ru", n=np.int64(11)) == "11 отсчётов"
    assert fill(template, "ru", n=40385) == f"40{NARROW_NBSP}385 отсчётов"
    assert fill("{n} {n:plural:sample|samples}", "en", n=1) == "1 sample"
    assert fill("{n} {n:plural:sample|samples}", "en", n=21) == "21 samples"


def test_russian_numbers_use_narrow_space_and_decimal_comma():
    assert format_number(40385, "ru", ",") == f"40{NARROW_NBSP}385"
    assert format_number(40_000_000, "ru", ",") == f"40{NARROW_NBSP}000{NARROW_NBSP}000"
    assert format_number(0.003, "ru", "g") == "0,003"
    assert format_number(26.4812, "ru", ".2f") == "26,48"
    assert format_number(1234.5, "ru", ",.1f") == f"1{NARROW_NBSP}234,5"
    assert format_number(0.36, "ru", ".1%") == f"36,0{NBSP}%"
    assert format_number(-2.5, "ru", ".1f") == "\u22122,5"  # a true minus sign, not a hyphen
    assert format_number(-5.9, "en", ".1f") == "\u22125.9"
    assert format_number(-2.5, "ru", ".1f", minus="-") == "-2,5"  # for CSV files
    assert format_number(2024, "ru") == "2024"  # no spec: seeds and years stay as they are


def test_english_numbers_keep_python_separators():
    assert format_number(40385, "en", ",") == "40,385"
    assert format_number(0.003, "en", "g") == "0.003"
    assert format_number(0.36, "en", ".1%") == "36.0%"


def test_templates_format_numbers_by_language_but_leave_text_and_bools():
    assert fill("{x:.2f} дБ", "ru", x=np.float32(26.479)) == "26,48 дБ"
    assert fill("{x:.2f} dB", "en", x=26.479) == "26.48 dB"
    assert fill("{name} {flag}", "ru", name="a.b,c", flag=True) == "a.b,c True"
    assert fill("{s:>5}", "ru", s="ab") == "   ab"


def test_durations_in_hours_minutes_seconds():
    assert format_duration(171797, "ru") == "47 ч 43 мин"
    assert format_duration(185, "ru") == "3 мин 05 с"
    assert format_duration(44.6, "en") == "45 s"
    assert format_duration(-3, "en") == "0 s"
    assert format_duration(0.2, "ru") == "1 с" and format_duration(0.0, "ru") == "0 с"


def test_every_plural_template_lists_the_forms_its_language_needs():
    for lang, count in (("ru", (2, 3, 4)), ("en", (2,))):
        for key, text in i18n.table(lang).items():
            for spec in text.split("plural:")[1:]:
                forms = spec.split("}")[0].split("|")
                assert len(forms) in count, (lang, key, forms)


def test_weights_file_errors_reach_the_student_in_russian(tmp_path):
    from lib import checkpoint

    with pytest.raises(checkpoint.CheckpointError) as caught:
        checkpoint.load_bytes(b"garbage", "broken.pt")
    assert "UnpicklingError" in str(caught.value) or "readable" in str(caught.value)  # the log keeps the detail
    ru = caught.value.text("ru")
    assert ru.startswith("broken.pt: ") and "не читается" in ru
    assert not re.search(r"[A-Za-z]{2,}", ru.replace("broken.pt", "").replace("PyTorch", ""))
    with pytest.raises(checkpoint.CheckpointError) as caught:
        checkpoint.load(tmp_path / "missing.pt")
    assert caught.value.text("ru") == "missing.pt: файл не найден."
    torch_payload = tmp_path / "other.pt"
    import torch

    torch.save({"weights": torch.zeros(1)}, torch_payload)
    with pytest.raises(checkpoint.CheckpointError) as caught:
        checkpoint.load(torch_payload)
    assert caught.value.key == "not_app" and "не файл весов" in caught.value.text("ru")


def test_device_line_is_translated_with_plural_threads():
    import torch

    from lib.device import describe_device

    threads = torch.get_num_threads()
    ru = describe_device(torch.device("cpu"), "ru")
    assert ru == f"CPU · {threads} {plural(threads, 'ru', 'поток', 'потока', 'потоков')}"
    assert "thread" in describe_device(torch.device("cpu"), "en")


def test_true_minus_writes_every_sign_of_text_a_person_reads():
    from lib.i18n import MINUS, true_minus

    assert true_minus("-5 - 3") == f"{MINUS}5 {MINUS} 3"
    assert true_minus("0,5") == "0,5"
    # The template path and the explicit helper agree: a negative number without a spec gets the same sign.
    assert fill("{n}", "ru", n=-7) == true_minus("-7")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_keys_built_from_the_table1_models_name_have_a_text(lang):
    from lib.models import REGISTRY

    for name in REGISTRY:
        assert i18n.t(f"model.{name}", lang) != f"model.{name}"
    assert i18n.t("model.short.table1", lang) in ("Табл. 1", "Table 1")
    assert "АЭ" in i18n.t("method.table1_B", "ru") and "AE" in i18n.t("method.table1_B", "en")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("number", [1, 3, -2.5, 1234567.891, np.int64(21)])
@pytest.mark.parametrize("plain", ["текст", None])
def test_every_template_fills_as_the_formatter_fills_it(lang, number, plain):
    """fill() parses a template once and fills it itself; the result is what str.format's rules give."""
    import string

    checked = 0
    for template in i18n.table(lang).values():
        specs = {name: spec for _, name, spec, _ in string.Formatter().parse(template) if name}
        if not specs:
            continue
        params = {name: number if spec or plain is None else plain for name, spec in specs.items()}
        try:
            expected = i18n._Formatter(lang).format(template, **params)
        except (ValueError, TypeError) as error:  # e.g. "{n:d}" with a fraction: the same error either way
            with pytest.raises(type(error)):
                fill(template, lang, **params)
            continue
        assert fill(template, lang, **params) == expected, template
        checked += 1
    assert checked > 50
    # positional fields, conversions and indexes take str.format's own path
    assert fill("{x!r} {y[0]:.1f}", lang, x="a", y=[number]) == f"'a' {format_number(float(number), lang, '.1f')}"


def test_powers_of_ten_are_written_for_people_not_as_e_notation():
    assert format_number(1.78e-15, "ru", ".2e") == "1,78·10⁻¹⁵"
    assert format_number(-3.5e-7, "en", ".2e") == "−3.50·10⁻⁷"
    assert format_number(123456.0, "ru", ".2e") == "1,23·10⁵"
    assert format_number(0.0, "ru", ".2e") == "0"  # no "0,00e+00" for an exact match
    assert format_number(1e-05, "ru", "g") == "1·10⁻⁵"
    assert format_number(2.5, "ru", ".2e") == "2,50"  # 10⁰ is left out
    assert format_number(1.78e-15, "ru", ".2e", minus="-") == "1,78e-15"  # a file a program reads keeps e-notation
    assert fill("{d:.2e}", "ru", d=1.78e-15) == "1,78·10⁻¹⁵"
