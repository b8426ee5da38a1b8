"""Hostile file names: shown as text, one line, no hidden characters, no formulas in CSV, no paths in the ZIP."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from lib.i18n import t
from lib.lab import CleanedDigit
from lib.report import ReportItem, metrics_csv, report_parameters, report_zip
from lib.safe_names import clean_name, csv_cell, file_part, markdown_text

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN = "![i](http://example.com/x.png) **bold** [link](http://example.com) :red[x] $x^2$ `code`"
HTML = "<img src=x onerror=alert(1)><script>alert(2)</script>"
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
RTL = "invoice\u202egnp.exe"  # reads as "invoiceexe.png"
NUL = "seven\x00.png"
TRAVERSAL = "../../../etc/passwd"
ERROR = "not a readable image (PNG, JPEG, WebP, BMP or GIF)"
NAMES = [MARKDOWN, HTML, *FORMULAS, RTL, NUL, TRAVERSAL, "C:\\Windows\\evil.png", "/abs/path.png", "Цифра 7.png"]


def rendered_text(markdown: str) -> str:
    """What CommonMark shows for escaped punctuation, word joiners and plain characters: the clean text."""
    out, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown):
            out.append(markdown[i + 1])
            i += 2
        else:
            ch = markdown[i]
            assert ch in " \u2060" or ch.isalnum() or not ch.isascii(), markdown  # nothing left to parse
            out.append("" if ch == "\u2060" else ch)
            i += 1
    return "".join(out)


@pytest.mark.parametrize("name", NAMES)
def test_markdown_text_shows_the_clean_name_and_leaves_no_markup_unescaped(name):
    shown = markdown_text(name)
    assert rendered_text(shown) == clean_name(name)  # every ASCII punctuation is escaped, nothing else changes


def test_control_bidi_and_nul_characters_are_stripped():
    assert clean_name(RTL) == "invoicegnp.exe"
    assert clean_name(NUL) == "seven.png"
    assert clean_name("a\nb\r\nc\u2028d") == "a b c d"
    assert clean_name("\u200f\u200b\ufeff") == "file"
    assert clean_name("x" * 500).endswith("…") and len(clean_name("x" * 500)) == 120
    assert clean_name("Цифра 7.png") == "Цифра 7.png"


@pytest.mark.parametrize("name", FORMULAS)
def test_csv_cells_that_start_a_formula_are_neutralised(name):
    cell = csv_cell(name)
    assert cell.startswith("'") and not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("name", NAMES)
def test_file_parts_cannot_leave_the_folder(name):
    part = file_part(name)
    assert part and "/" not in part and "\\" not in part and ".." not in part and ":" not in part


def item(name: str) -> ReportItem:
    rng = np.random.default_rng(0)
    clean = rng.random((28, 28)).astype(np.float32)
    noisy = np.clip(clean + 0.1, 0, 1)
    result = CleanedDigit(clean, noisy, {"=model": clean}, {"noisy": {"psnr": 20.0, "ssim": 0.5},
                                                             "=model": {"psnr": 25.0, "ssim": 0.9}})  # fmt: skip
    return ReportItem(clean_name(name), result)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_report_csv_read_back_with_the_csv_module_holds_no_formula(lang):
    items = [item(n) for n in NAMES]
    text = metrics_csv(items, lang).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if lang == "ru" else ","))
    body = rows[1:]
    assert len(body) == 2 * len(NAMES)
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
            assert "\x00" not in cell and "\u202e" not in cell and "\n" not in cell
    names = [row[0] for row in body[::2]]
    assert names[2] == "'" + clean_name(FORMULAS[0]) and names[NAMES.index(RTL)] == "invoicegnp.exe"


def test_report_zip_members_stay_inside_and_parameters_are_clean():
    items = [item(n) for n in NAMES]
    data = report_zip(items, report_parameters("en", None, 0, ["m"], {}, [it.name for it in items]), "en")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = zf.namelist()
        params = zf.read("parameters.json").decode()
    for member in members:
        assert not member.startswith("/") and ".." not in member.split("/") and "\\" not in member, member
        assert ":" not in member and "\x00" not in member
        assert member.count("/") <= 1
    assert "\\u0000" not in params and "\\u202e" not in params


def test_the_cli_writes_names_and_errors_without_formulas_or_reprs(tmp_path, capsys):
    from lib.cli import main

    bad = tmp_path / "=cmd|' calc'!A0.png"
    bad.write_bytes(b"this is not an image")
    rtl = tmp_path / "x\u202egnp.png"
    rtl.write_bytes(b"neither")
    out = tmp_path / "out"
    code = main(["denoise", "--weights", str(ROOT / "weights" / "table1_B.pt"), str(bad), str(rtl), "--out", str(out)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"=cmd|' calc'!A0.png: {ERROR}", f"xgnp.png: {ERROR}"]  # one line per file, no repr
    rows = list(csv.DictReader(io.StringIO((out / "metrics.csv").read_text())))
    assert [r["file"] for r in rows] == ["'=cmd|' calc'!A0.png", "xgnp.png"]
    for row in rows:
        assert row["status"] == "error" and row["message"] == ERROR


def png(size: int = 140) -> bytes:
    image = Image.new("L", (size, size), 255)
    image.paste(0, (60, 20, 80, 120))  # a bar: a "1"
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_the_upload_page_shows_hostile_names_as_text_and_survives_nul():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.session_state["keep_lang"] = "en"
    at.run()
    at.switch_page("app_pages/upload.py")
    at.run()
    names = [MARKDOWN + ".png", HTML + ".png", NUL, RTL + ".png", "=cmd|' calc'!A0.png"]
    files = [(n, png(), "image/png") for n in names] + [(RTL, png(), "image/png")]  # the last is really ".exe"
    at.file_uploader(key="upload_files").set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [t("upload.wrong_type", "en", name=markdown_text("invoicegnp.exe"),
                                             types="PNG, JPG, JPEG, WEBP, BMP, GIF")]  # fmt: skip
    heads = [h.value for h in at.main.subheader if h.value[:1].isdigit()]  # the files, not the report's parts
    assert heads == [f"{i}. {markdown_text(n)}" for i, n in enumerate(names, 1)]
    for head, name in zip(heads, names):
        assert rendered_text(head.split(". ", 1)[1]) == clean_name(name)
    assert not any("\x00" in m.value or "\u202e" in m.value for m in at.markdown)


def test_file_parts_keep_only_the_characters_asked_for():
    assert file_part("ИВТ-21", keep="-") == "ИВТ-21"  # a group's dash stays in the teacher's ZIP folders
    assert file_part("ИВТ-21") == "ИВТ_21"
    assert file_part("../ИВТ-21", keep="-") == "___ИВТ-21"
    with pytest.raises(ValueError):
        file_part("a", keep="/")
