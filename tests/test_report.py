"""The hand-in report: a sheet whose Cyrillic is readable, translated labels, an honest "clean as it is" mode."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from lib import report
from lib.i18n import t
from lib.lab import clean_digit
from lib.models import Table1Config, build_model
from lib.noise import NoiseConfig, make_generator, preset
from lib.report import PAD, ReportItem, metrics_csv, report_parameters, report_zip, sheet_png

RUSSIAN = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def glyph(font: ImageFont.FreeTypeFont, text: str) -> np.ndarray:
    image = Image.new("L", (60, 40))
    ImageDraw.Draw(image).text((4, 4), text, font=font, fill=255)
    return np.asarray(image)


def test_sheet_font_draws_every_russian_letter_as_its_own_glyph():
    font = report.font()
    missing = glyph(font, "\ue000")  # a private-use code point: the font's "missing glyph" box
    shapes = {letter: glyph(font, letter).tobytes() for letter in RUSSIAN}
    assert len(set(shapes.values())) == len(RUSSIAN)  # tofu would draw every letter as the same box
    assert all(glyph(font, letter).tobytes() != missing.tobytes() for letter in RUSSIAN)
    assert glyph(font, "дБ").sum() > 0
    # the check can fail: Pillow's own default font draws Cyrillic letters as identical boxes
    fallback = ImageFont.load_default()
    assert glyph(fallback, "Ж").tobytes() == glyph(fallback, "Щ").tobytes()


@pytest.fixture(scope="module")
def model():
    return build_model(Table1Config(), make_generator(0)).eval()


@pytest.fixture(scope="module")
def digit(test_digits):
    return test_digits.images[0].numpy() / 255.0


def header_matches(sheet: Image.Image, column: int, text: str) -> bool:
    """The sheet's header cell equals that text drawn with the report font (the sheet draws what we expect)."""
    left = PAD + column * (report.CELL + PAD)
    box = (left, PAD, left + report.CELL, PAD + 20)
    expected = Image.new("RGB", sheet.size, "white")
    ImageDraw.Draw(expected).text((left, PAD), text, fill="black", font=report.font())
    return np.array_equal(np.asarray(sheet.crop(box)), np.asarray(expected.crop(box)))


def test_russian_sheet_has_translated_headers_drawn_in_the_cyrillic_font(model, digit):
    item = ReportItem("семёрка.png", clean_digit({"Модель": model}, digit, preset("B").with_kind("gaussian"), 0))
    sheet = Image.open(io.BytesIO(sheet_png([item], "ru"))).convert("RGB")
    assert header_matches(sheet, 0, t("lab.original", "ru"))
    assert header_matches(sheet, 1, t("lab.noisy", "ru"))
    assert not header_matches(sheet, 1, "noisy")
    assert report.score_text(item, "Модель", "ru").split()[1] == "дБ"
    assert "," in report.score_text(item, "Модель", "ru")  # decimal comma


def test_clean_as_it_is_has_no_noisy_column_and_no_100_db(model, digit):
    as_is = [ReportItem("фото.jpg", clean_digit({"a": model, "b": model}, digit, None, 0))]
    noised = [ReportItem("фото.jpg", clean_digit({"a": model, "b": model}, digit, NoiseConfig(kind="gaussian"), 0))]
    wide = Image.open(io.BytesIO(sheet_png(noised, "ru")))
    narrow = Image.open(io.BytesIO(sheet_png(as_is, "ru"))).convert("RGB")
    assert wide.size[0] - narrow.size[0] == report.CELL + PAD  # one column fewer: no "noisy"
    assert header_matches(narrow, 0, t("upload.input", "ru")) and header_matches(narrow, 1, "a")
    rows = list(csv.reader(io.StringIO(metrics_csv(as_is, "en").lstrip("\ufeff"))))
    assert [r[1] for r in rows[1:]] == ["a", "b"]  # no "noisy" row scored 100 dB / 1.00
    assert all(r[4] == t("report.sheet.ref_input", "en") for r in rows[1:])
    assert not any(r[2].startswith("100") for r in rows[1:])
    noisy_rows = list(csv.reader(io.StringIO(metrics_csv(noised, "en").lstrip("\ufeff"))))
    assert [r[1] for r in noisy_rows[1:]] == [t("lab.noisy", "en"), "a", "b"]


def test_noise_that_changed_nothing_is_not_scored(model, digit):
    item = ReportItem("x", clean_digit({"a": model}, digit, NoiseConfig(kind="speckle", speckle=0.0), 0))
    assert report.score_text(item, "noisy", "ru") == t("report.sheet.no_noise", "ru")
    rows = list(csv.reader(io.StringIO(metrics_csv([item], "en").lstrip("\ufeff"))))
    assert [r[1] for r in rows[1:]] == ["a"]


def test_russian_csv_is_what_russian_excel_expects(model, digit):
    result = clean_digit({"Свёрточный АЭ": model}, digit, preset("B").with_kind("gaussian"), 0)
    text = metrics_csv([ReportItem("семёрка.png", result)], "ru")
    assert text.startswith("\ufeff")  # UTF-8 byte-order mark: Excel then reads the Cyrillic correctly
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0] == [t(f"report.sheet.csv.{c}", "ru") for c in ("image", "method", "psnr", "ssim", "reference")]
    assert rows[1][:2] == ["семёрка.png", t("lab.noisy", "ru")]
    for row, method in zip(rows[1:], ["noisy", "Свёрточный АЭ"]):
        assert "." not in row[2] and "," in row[2]
        assert float(row[2].replace(",", ".")) == pytest.approx(result.scores[method]["psnr"], abs=5e-4)
        assert float(row[3].replace(",", ".")) == pytest.approx(result.scores[method]["ssim"], abs=5e-5)
    english = list(csv.reader(io.StringIO(metrics_csv([ReportItem("s", result)], "en")[1:])))
    assert english[0][2] == "PSNR, dB" and "." in english[1][2]


def test_zip_holds_translated_parameters_csv_and_every_image(model, digit):
    noise = preset("B").with_kind("speckle")
    items = [ReportItem("семёрка.png", clean_digit({"Модель": model}, digit, noise, 0)),
             ReportItem("рисунок 1", clean_digit({"Модель": model}, digit, None, 0))]  # fmt: skip
    prep = {"invert": "auto", "threshold": 0.0, "contrast": 1.0}
    params = report_parameters("ru", noise, 3, ["Модель"], prep, [it.name for it in items])
    data = zipfile.ZipFile(io.BytesIO(report_zip(items, params, "ru")))
    names = data.namelist()
    assert {"sheet.png", "metrics.csv", "parameters.json"} <= set(names)
    images = sorted(n for n in names if n.startswith("images/"))
    assert len(images) == 3 + 2  # original, noisy, model; the un-noised drawing has no noisy image
    assert any(t("lab.noisy", "ru") in n for n in images)
    loaded = json.loads(data.read("parameters.json"))
    assert set(loaded) == {t(f"report.sheet.param.{k}", "ru") for k in
                           ("noise", "seed", "models", "preprocessing", "images")}  # fmt: skip
    noise_part = loaded[t("report.sheet.param.noise", "ru")]
    assert noise_part[t("report.sheet.param.kind", "ru")] == t("noise.kind.speckle", "ru")
    assert loaded[t("report.sheet.param.preprocessing", "ru")][t("report.sheet.param.invert", "ru")] == t(
        "upload.invert.auto", "ru"
    )
    assert data.read("metrics.csv").startswith(b"\xef\xbb\xbf")
    assert not any(ch.isascii() and ch.isalpha() for ch in "".join(loaded))  # every key is Russian
    with pytest.raises(ValueError):
        sheet_png([])


def test_mixed_sheet_says_which_rows_compare_with_their_input(model, digit):
    noised = ReportItem("a", clean_digit({"m": model}, digit, NoiseConfig(kind="gaussian"), 0))
    as_is = ReportItem("b", clean_digit({"m": model}, digit, None, 0))
    tall = Image.open(io.BytesIO(sheet_png([noised, as_is], "ru")))
    plain = Image.open(io.BytesIO(sheet_png([noised, noised], "ru")))
    assert tall.size[1] > plain.size[1]  # the extra footnote line
    assert report.score_text(as_is, "noisy", "ru") == t("report.sheet.not_noised", "ru")
