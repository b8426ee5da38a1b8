"""Pictures far bigger or far smaller than a digit: a 144-megapixel picture is reduced first, a 12×12 one enlarged."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from lib import preprocess as pp
from lib.report.sheet import FONT_PATH

ROOT = Path(__file__).resolve().parent.parent


def drawn(char: str, side: int, stroke: int = 0) -> Image.Image:
    """`char` drawn dark on white paper, filling most of a side × side picture (DejaVu Sans, pen `stroke` wide)."""
    scale = side / 240
    font = ImageFont.truetype(str(FONT_PATH), round(260 * scale))
    image = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(image)
    width = round(stroke * scale)
    left, top, right, bottom = draw.textbbox((0, 0), char, font=font, stroke_width=width)
    draw.text((side / 2 - (left + right) / 2, side / 2 - (top + bottom) / 2), char, fill=0, font=font,
              stroke_width=width, stroke_fill=0)  # fmt: skip
    return image


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def huge():
    """A 12000 × 12000 (144-megapixel) picture of a 7, and the same 7 drawn at 1000 × 1000."""
    return drawn("7", 12000, stroke=8), drawn("7", 1000, stroke=8)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "1", "I;16"])
def test_a_144_megapixel_picture_is_reduced_before_anything_else(huge, mode):
    big, reference = huge
    steps = pp.to_mnist_steps(big.convert(mode))
    assert max(steps.gray.shape) <= pp.WORK_SIDE
    assert corr(steps.final, pp.to_mnist(reference)) >= 0.97


def test_the_144_megapixel_picture_costs_about_what_a_one_megapixel_one_does(huge):
    big, reference = huge

    def seconds(image: Image.Image) -> float:
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            pp.to_mnist(image)
            best = min(best, time.perf_counter() - start)
        return best

    # 144 times the pixels: the reduction reads a sixteenth of them once, then the work is the same
    assert seconds(big) <= 4 * seconds(reference)


def tiny_and_full(stroke: int) -> list[tuple[Image.Image, Image.Image]]:
    """Each digit drawn at 240 × 240 with a pen `stroke` wide, and the same picture scaled down to 12 × 12."""
    return [(drawn(c, 240, stroke), drawn(c, 240, stroke).resize((12, 12), Image.Resampling.LANCZOS))
            for c in "0123456789"]  # fmt: skip


def test_a_12_by_12_digit_is_prepared_like_the_same_digit_at_full_size():
    scores = [corr(pp.to_mnist(full), pp.to_mnist(tiny)) for full, tiny in tiny_and_full(12)]
    assert np.mean(scores) >= 0.9


@pytest.mark.parametrize("stroke", [6, 8, 12])
def test_enlarging_before_the_threshold_brings_a_tiny_digit_closer(stroke, monkeypatch):
    pairs = tiny_and_full(stroke)
    enlarged = np.mean([corr(pp.to_mnist(full), pp.to_mnist(tiny)) for full, tiny in pairs])
    monkeypatch.setattr(pp, "MIN_SIDE", 1)  # the same pictures without the enlargement
    plain = np.mean([corr(pp.to_mnist(full), pp.to_mnist(tiny)) for full, tiny in pairs])
    assert enlarged > plain


def test_the_cli_refuses_a_144_megapixel_file_in_one_line(tmp_path, capsys):
    from lib.cli import main

    path = tmp_path / "huge.png"
    Image.new("L", (12000, 12000), 255).save(path)  # a few hundred kB: within the upload limit
    assert path.stat().st_size < pp.MAX_UPLOAD_BYTES
    code = main(
        ["denoise", "--weights", str(ROOT / "weights" / "table1_B.pt"), str(path), "--out", str(tmp_path / "o")]
    )
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"huge.png: 12000×12000 pixels exceeds {pp.MAX_PIXELS}"
    assert "object at 0x" not in err[0]


def test_a_picture_beyond_pillows_own_bound_is_refused_as_too_many_pixels():
    buf = io.BytesIO()
    Image.new("1", (15000, 15000)).save(buf, format="PNG")  # 225 megapixels in a few kB
    with pytest.raises(pp.PreprocessError) as caught:
        pp.open_image(buf.getvalue())
    assert caught.value.code == "far_too_many_pixels"


def test_a_picture_in_memory_and_from_a_file_agree():
    buf = io.BytesIO()
    drawn("4", 300, 8).save(buf, format="PNG")
    np.testing.assert_array_equal(pp.to_mnist(pp.open_image(buf.getvalue())), pp.to_mnist(drawn("4", 300, 8)))
