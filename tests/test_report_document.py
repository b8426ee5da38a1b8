"""The PDF and DOCX hand-in: every task section, each image's noise as applied, model names whole, in Russian."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import docx
import numpy as np
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from lib import checkpoint as ckpt_io
from lib.i18n import t
from lib.lab import clean_digit
from lib.noise import preset
from lib.preprocess import to_mnist_steps
from lib.report import ReportItem, TitleBlock, report_docx, report_pdf
from lib.report.build import build_report, model_info
from lib.report.content import findings, summary
from lib.report.curve import curve_png, nice_ticks
from lib.report.layout import Tiles, layout, noise_text
from lib.ui.cache import WEIGHTS_DIR

SHIPPED = ("table1_B", "linear_B", "table1_A")
TASKS = ("report.task1", "report.task2", "report.task3", "report.task4", "report.task56", "report.task7")


def flat(text: str) -> str:
    """Whitespace (line breaks of wrapped cells included) collapsed to single spaces."""
    return re.sub(r"\s+", " ", text)


def photo(digit: str) -> Image.Image:
    """A dark digit on light grey paper, like a phone photo of a written digit."""
    image = Image.new("L", (300, 400), 220)
    ImageDraw.Draw(image).text((80, 80), digit, fill=30, font_size=220)
    return image


def drawing(digit: str) -> Image.Image:
    """White strokes on black, as the canvas gives them."""
    image = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(image).text((60, 20), digit, fill=255, font_size=230)
    return image


def make_report(lang: str, conclusions: str = "Мои выводы: группа Б лучше.\n\nВторой абзац."):
    checkpoints = {name: ckpt_io.load(WEIGHTS_DIR / f"{name}.pt") for name in SHIPPED}
    own = ckpt_io.load(WEIGHTS_DIR / "table1_A.pt")  # a model "trained by the student": its own settings and curve
    own.train = dict(own.train, epochs=5, epochs_run=2.5, limit=6000, lr=0.004, batch_size=32)
    models = {name: c.build() for name, c in checkpoints.items()} | {"table1-2-122152": own.build()}
    infos = [model_info(name, c, lang) for name, c in checkpoints.items()]
    infos.append(model_info("table1-2-122152", own, lang, own_name="table1-2-122152"))
    steps = to_mnist_steps(photo("2"), invert="auto")
    items = [ReportItem("фото_двойка.jpg", clean_digit(models, steps.final, None, 1), "photo", None, None, steps,
                        {"invert": "auto", "threshold": 0.0, "contrast": 1.0})]  # fmt: skip
    for n, (digit, noise) in enumerate(
        [("7", preset("B").with_kind("gaussian")), ("3", preset("A").with_kind("speckle"))]
    ):
        steps = to_mnist_steps(drawing(digit), invert="no")
        items.append(ReportItem(f"рисунок {n + 1}", clean_digit(models, steps.final, noise, 10 + n), "drawn", noise,
                                10 + n, steps))  # fmt: skip
    title = TitleBlock("Нейронные сети", "Лабораторная работа 3", "Иванова Мария Сергеевна", "ИВТ-21", "2026-12-03")
    return build_report(items, infos, title, lang, conclusions)


@pytest.fixture(scope="module")
def russian():
    return make_report("ru")


@pytest.fixture(scope="module")
def pdf_text(russian):
    reader = PdfReader(io.BytesIO(report_pdf(russian)))
    return reader, flat(" ".join(page.extract_text() for page in reader.pages))


def test_pdf_text_is_russian_with_every_task_and_the_title_block(russian, pdf_text):
    _, text = pdf_text
    for key in TASKS:
        assert flat(t(key, "ru")) in text
    for value in ("Иванова Мария Сергеевна", "ИВТ-21", "03.12.2026", "Лабораторная работа 3", "Нейронные сети"):
        assert value in text
    assert "Мои выводы: группа Б лучше." in text and "Второй абзац." in text
    assert flat(t("report.findings", "ru")) in text


def test_pdf_states_each_images_noise_as_applied(russian, pdf_text):
    _, text = pdf_text
    gaussian, speckle = russian.images[1].noise, russian.images[2].noise
    assert (gaussian.kind, gaussian.mean, gaussian.var, gaussian.seed) == ("gaussian", -20.0, 600.0, 10)
    assert (speckle.kind, speckle.speckle, speckle.seed) == ("speckle", 1.0, 11)
    assert "шум Гаусса, μ = −20, D = 600, обрезка до 0…255, зерно 10 (группа Б)" in text
    assert "спекл-шум, s = 1, обрезка до 0…255, зерно 11" in text
    for image in russian.images:
        assert flat(noise_text(image.noise, "ru", image.source)) in text
    assert "без шума — фото уже зашумлено" in text  # the photo's noisy column says why it has no picture


def test_model_names_are_whole_and_the_own_model_has_its_settings(russian, pdf_text):
    _, text = pdf_text
    names = [m.name for m in russian.models]
    assert "Свёрточный АЭ (табл. 1) · группа Б" in names and "Полносвязный АЭ · группа Б" in names
    assert "Свёрточный АЭ (табл. 1) · группа А (моя модель: table1-2-122152)" in names
    for name in names:
        assert name in text
    assert "…" not in " ".join(re.findall(r"АЭ[^ ]*…", text))  # no name shortened with an ellipsis
    assert "2,5 из 5" in text  # epochs run of those set
    assert "0,004" in text and "6 000" in text  # learning rate, training subset (Russian separators)


def test_pdf_embeds_its_fonts_and_has_the_curve_and_every_picture(russian, pdf_text):
    reader, _ = pdf_text
    fonts = set()
    images = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()  # embedded TrueType
            fonts.add(str(font.get_object()["/BaseFont"]))
        images += len(page.images)
    assert any(f.endswith("DejaVuSansBold") for f in fonts) and any(f.endswith("DejaVuSansBook") for f in fonts)
    pictures = {tile.png for b in layout(russian).blocks if isinstance(b, Tiles) for tile in b.tiles if tile.png}
    assert images >= len(pictures) + 1  # every distinct picture and the own model's curve


def test_docx_reads_back_with_the_same_content(russian):
    document = docx.Document(io.BytesIO(report_docx(russian)))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    text = flat(" ".join(parts))
    for key in TASKS:
        assert t(key, "ru") in text
    for model in russian.models:
        assert model.name in text
    for image in russian.images:
        assert noise_text(image.noise, "ru", image.source) in text
    assert "Мои выводы: группа Б лучше." in text
    assert document.core_properties.author == "Иванова Мария Сергеевна"
    pictures = sum(len([tile for tile in b.tiles if tile.png]) for b in layout(russian).blocks if isinstance(b, Tiles))
    assert len(document.inline_shapes) == pictures + 1  # + the training curve


def test_findings_quote_the_means_of_the_results(russian):
    noised = [im for im in russian.images if im.noised]
    rows = {r.model.key: r for r in summary(russian)}
    for key in ("table1_A", "table1_B", "linear_B"):
        expected = np.mean([im.scores[key]["psnr"] for im in noised])
        assert rows[key].psnr == pytest.approx(expected)
        gain = np.mean([im.scores[key]["psnr"] - im.scores["noisy"]["psnr"] for im in noised])
        assert rows[key].gain == pytest.approx(gain)
    found = {f.key: f.params for f in findings(russian)}
    group = found.get("groups_b") or found["groups_a"]
    assert group["diff"] == pytest.approx(abs(rows["table1_B"].psnr - rows["table1_A"].psnr))
    conv = found.get("conv_better") or found["linear_better"]
    assert conv["diff"] == pytest.approx(abs(rows["table1_B"].psnr - rows["linear_B"].psnr))
    assert found["photos_as_is"]["n"] == 1
    own = rows["table1-2-122152"].psnr - rows["table1_B"].psnr
    assert found["own_above_ref" if own >= 0 else "own_below_ref"]["diff"] == pytest.approx(abs(own))
    assert ("own_below_ref" if own >= 0 else "own_above_ref") not in found


def test_the_own_model_is_said_to_be_above_or_below_the_textbook_s_without_a_signed_gap(russian, pdf_text):
    _, text = pdf_text
    rows = {r.model.key: r for r in summary(russian)}
    own = rows["table1-2-122152"].psnr - rows["table1_B"].psnr
    word = "выше" if own >= 0 else "ниже"
    gap = f"{abs(own):.2f}".replace(".", ",")
    assert f"это на {gap} дБ {word}, чем у модели «{rows['table1_B'].model.name}»" in text


def test_english_report_and_no_conclusions():
    report = make_report("en", conclusions="  ")
    text = flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(report_pdf(report))).pages))
    assert "Task 1." in text and "Task 7. Conclusions" in text and t("report.no_conclusions", "en") in text
    assert "Gaussian" in text and "seed 10" in text
    assert not re.search("[А-Яа-яЁё]", text.replace("ИВТ-21", "").replace("Иванова Мария Сергеевна", "")
                         .replace("Нейронные сети", "").replace("Лабораторная работа 3", "")
                         .replace("фото_двойка.jpg", "").replace("рисунок", ""))  # fmt: skip


def test_noise_that_was_added_must_be_recorded():
    from lib.report.build import image_result

    digit = np.zeros((28, 28), np.float32)
    digit[8:20, 12:16] = 1
    result = clean_digit({}, digit, preset("B").with_kind("gaussian"), 0)
    with pytest.raises(ValueError):
        image_result(ReportItem("x", result, "drawn"))  # noise added, but not which


def test_curve_ticks_cover_the_values_and_the_curve_draws():
    for low, high in ((21.0, 24.29), (0.0061, 0.0307), (3.0, 3.0)):
        ticks = nice_ticks(low, high)
        assert ticks[0] <= low and ticks[-1] >= high and len(ticks) >= 2
    png = curve_png([{"epoch": 1.0, "train_loss": 0.03, "val_psnr": 22.0}, {"epoch": 2.0, "train_loss": 0.01}], "ru")
    assert Image.open(io.BytesIO(png)).size == (1400, 620)
    assert curve_png([], "ru") is None


PT_PER_MM = 72 / 25.4
EDGE_MM = 5.0  # a printer's unprintable edge; the text keeps 15 mm, the footer's page number about 7 mm


def _words(pdf: bytes, folder) -> list[tuple[int, float, float, list[tuple[float, float, float, float, str]]]]:
    """Every page's size and its words' boxes (points), as poppler's pdftotext reads them."""
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftotext", "-bbox", str(path), str(folder / "words.html")], check=True)
    html = (folder / "words.html").read_text()
    pages = []
    for n, (width, height, body) in enumerate(
        re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S)
    ):
        words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in
                 re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', body)]  # fmt: skip
        pages.append((n, float(width), float(height), words))
    return pages


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed (.ci/run installs it)")
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_rendered_pages_keep_every_word_inside_the_page_apart_from_the_others_and_pictures_sharp(
    russian, lang, tmp_path
):
    report = russian if lang == "ru" else make_report("en")
    pdf = report_pdf(report)
    pages = _words(pdf, tmp_path)
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages) >= 5
    edge = EDGE_MM * PT_PER_MM
    for n, width, height, words in pages:
        assert words, f"page {n + 1} has no text"
        for x0, y0, x1, y1, word in words:  # nothing runs off the page or into its edge
            assert edge <= x0 and x1 <= width - edge and edge <= y0 and y1 <= height - edge, (n + 1, word)
        for i, (ax0, ay0, ax1, ay1, a) in enumerate(words):  # no text written over other text (a cell overflowing)
            for bx0, by0, bx1, by1, b in words[i + 1 :]:
                overlap = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
                assert overlap < 1.0, (n + 1, a, b)
    # The painted pages: pdftoppm draws every page, and the strip along each edge stays blank paper.
    subprocess.run(["pdftoppm", "-r", "60", "-gray", "-png", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
                   check=True)  # fmt: skip
    shots = sorted(tmp_path.glob("page-*.png"))
    assert len(shots) == len(pages)
    for shot in shots:
        grey = np.asarray(Image.open(shot).convert("L"))
        strip = round(EDGE_MM / 25.4 * 60)
        for border in (grey[:strip], grey[-strip:], grey[:, :strip], grey[:, -strip:]):
            assert border.min() >= 250, shot.name
        assert grey[strip:-strip, strip:-strip].min() < 100  # something is drawn on the page itself
    # Pictures are embedded as whole-pixel enlargements of the 28×28 digits, so they stay sharp at any zoom.
    digits = 0
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for picture in page.images:
            pixels = np.asarray(picture.image.convert("L"))
            if pixels.shape != (224, 224):
                continue  # the training curve
            blocks = pixels.reshape(28, 8, 28, 8)
            assert (blocks == blocks[:, :1, :, :1]).all(), picture.name
            digits += 1
    assert digits >= len(report.images) * 2


def test_a_one_epoch_curve_draws_its_point_inside_the_frame_not_on_it():
    from lib.report.curve import BOTTOM, HEIGHT, LEFT, PSNR_COLOUR, RIGHT, TOP, WIDTH

    png = curve_png([{"epoch": 1.0, "train_loss": 0.03, "val_psnr": 7.9}], "ru")
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    plot = pixels[TOP : HEIGHT - BOTTOM, LEFT : WIDTH - RIGHT]
    ys, xs = np.nonzero(np.abs(plot - PSNR_COLOUR).sum(axis=2) < 30)
    assert len(xs) > 20  # the point is drawn inside the plot area
    height, width = plot.shape[:2]
    assert xs.max() < width - 10 and 0.2 * height < ys.mean() < 0.8 * height  # off the right edge, off the floor
