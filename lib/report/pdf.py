"""The report as PDF (fpdf2): A4, DejaVu Sans embedded (Cyrillic), pictures embedded as crisp PNG."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from lib.report.layout import Bullets, Document, Heading, PageBreak, Para, Picture, Table, Tile, Tiles

FONTS = Path(__file__).resolve().parent.parent / "fonts"
FAMILY = "DejaVu"
MARGIN = 15.0  # mm
BODY = 10.0  # pt
SMALL = 8.0
TILE_TEXT = 7.5
HEADING_SIZES = {0: 17.0, 1: 13.5, 2: 11.5, 3: 10.5}
GAP = 3.0  # mm between tiles
MAX_IMAGE = 30.0  # mm: a digit picture at most this wide
PT = 0.3528  # mm per point


class _Pdf(FPDF):
    """A4 with page numbers in the footer."""

    def footer(self) -> None:
        """The page number, centred."""
        self.set_y(-11)
        self.set_font(FAMILY, "", SMALL)
        self.set_text_color(120, 120, 120)
        self.cell(0, 5, str(self.page_no()), align="C")
        self.set_text_color(0, 0, 0)


def _line_height(size: float) -> float:
    return size * PT * 1.35


def _ensure_room(pdf: FPDF, height: float) -> None:
    """Start a new page unless `height` mm fit below the current position."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _lines(pdf: FPDF, text: str, width: float, size: float, style: str = "") -> int:
    """How many lines the text takes when wrapped to `width` mm at `size` pt in that style ("" or "B")."""
    if not text:
        return 0
    pdf.set_font(FAMILY, style, size)
    return len(pdf.multi_cell(width, _line_height(size), text, dry_run=True, output="LINES"))


def _heading(pdf: FPDF, block: Heading) -> None:
    size = HEADING_SIZES.get(block.level, BODY)
    _ensure_room(pdf, {0: 20, 1: 45}.get(block.level, 70))  # a heading stays with what follows it
    pdf.ln(4 if block.level else 2)
    pdf.set_font(FAMILY, "B", size)
    pdf.multi_cell(0, _line_height(size), block.text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)


def _para(pdf: FPDF, block: Para) -> None:
    size = SMALL if block.style == "note" else BODY
    pdf.set_font(FAMILY, "", size)
    if block.style == "note":
        pdf.set_text_color(80, 80, 80)
    if block.style == "quote":
        top = pdf.get_y()
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(pdf.epw - 4, _line_height(size), block.text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if pdf.get_y() > top:  # a bar beside the student's own words (on the page where they end)
            pdf.set_draw_color(150, 150, 150)
            pdf.set_line_width(0.6)
            pdf.line(pdf.l_margin + 1, top, pdf.l_margin + 1, pdf.get_y())
    else:
        pdf.multi_cell(0, _line_height(size), block.text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1.5)


def _bullets(pdf: FPDF, block: Bullets) -> None:
    pdf.set_font(FAMILY, "", BODY)
    for n, item in enumerate(block.items, 1):
        mark = f"{n}." if block.numbered else "•"
        pdf.set_x(pdf.l_margin + 2)
        pdf.cell(6, _line_height(BODY), mark)
        pdf.multi_cell(pdf.epw - 8, _line_height(BODY), item, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.8)
    pdf.ln(1)


def _table(pdf: FPDF, block: Table) -> None:
    rows = ([block.header] if block.header else []) + block.rows
    if not rows:
        return
    pdf.set_font(FAMILY, "", SMALL if len(rows[0]) > 2 else BODY)
    size = SMALL if len(rows[0]) > 2 else BODY
    widths = tuple(block.widths) if block.widths else None
    pdf.set_draw_color(170, 170, 170)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=widths,
        first_row_as_headings=block.header is not None,
        line_height=_line_height(size),
        text_align="LEFT",
        headings_style=None if block.header is None else _headings_style(),
        repeat_headings=1,
        padding=1.2,
    ) as table:
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(value)
    pdf.ln(2)


def _headings_style():
    from fpdf.fonts import FontFace

    return FontFace(family=FAMILY, emphasis="BOLD", fill_color=(235, 235, 235))


def _tiles(pdf: FPDF, block: Tiles) -> None:
    per_row = max(1, block.per_row)
    width = (pdf.epw - GAP * (per_row - 1)) / per_row
    side = min(width, MAX_IMAGE)
    lh = _line_height(TILE_TEXT)
    for start in range(0, len(block.tiles), per_row):
        row = block.tiles[start : start + per_row]
        title_h = max(_lines(pdf, tile.title, width, TILE_TEXT, "B") for tile in row) * lh
        caption_h = max(_lines(pdf, tile.caption, width, TILE_TEXT) for tile in row) * lh
        _ensure_room(pdf, title_h + side + caption_h + 4)
        top = pdf.get_y()
        for n, tile in enumerate(row):
            x = pdf.l_margin + n * (width + GAP)
            _tile(pdf, tile, x, top, width, side, title_h)
        pdf.set_xy(pdf.l_margin, top + title_h + side + caption_h + 3)


def _tile(pdf: FPDF, tile: Tile, x: float, top: float, width: float, side: float, title_h: float) -> None:
    lh = _line_height(TILE_TEXT)
    pdf.set_font(FAMILY, "B", TILE_TEXT)
    pdf.set_xy(x, top)
    pdf.multi_cell(width, lh, tile.title, align="L")
    image_top = top + title_h + 0.5
    if tile.png is not None:
        with Image.open(io.BytesIO(tile.png)) as im:
            w, h = im.size
        scale = side / max(w, h)  # the whole picture inside the square, its proportions kept
        pdf.image(io.BytesIO(tile.png), x=x, y=image_top + (side - h * scale) / 2, w=w * scale, h=h * scale)
    else:  # no picture: the reason, written where the picture would be
        pdf.set_draw_color(170, 170, 170)
        pdf.set_line_width(0.2)
        pdf.rect(x, image_top, side, side)
        pdf.set_font(FAMILY, "", TILE_TEXT)
        text_h = _lines(pdf, tile.text, side - 2, TILE_TEXT) * lh
        pdf.set_xy(x + 1, image_top + max(1.0, (side - text_h) / 2))
        pdf.multi_cell(side - 2, lh, tile.text, align="C")
    if tile.caption:
        pdf.set_font(FAMILY, "", TILE_TEXT)
        pdf.set_xy(x, image_top + side + 0.8)
        pdf.multi_cell(width, lh, tile.caption, align="L")


def _picture(pdf: FPDF, block: Picture) -> None:
    with Image.open(io.BytesIO(block.png)) as im:
        ratio = im.height / im.width
    width = pdf.epw * block.width_share
    height = width * ratio
    caption_h = _lines(pdf, block.caption, pdf.epw, SMALL) * _line_height(SMALL)
    _ensure_room(pdf, height + caption_h + 4)
    top = pdf.get_y()
    pdf.image(io.BytesIO(block.png), x=pdf.l_margin, y=top, w=width, h=height)
    pdf.set_xy(pdf.l_margin, top + height + 1)
    if block.caption:
        pdf.set_font(FAMILY, "", SMALL)
        pdf.set_text_color(80, 80, 80)
        pdf.multi_cell(0, _line_height(SMALL), block.caption, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def render_pdf(document: Document) -> bytes:
    """The blocks drawn on A4 pages; the PDF's metadata names the report and the student."""
    pdf = _Pdf(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(document.title)
    if document.author:
        pdf.set_author(document.author)
    pdf.set_lang(document.lang)
    pdf.set_creator("denoising autoencoder classroom")
    pdf.add_page()
    draw = {Heading: _heading, Para: _para, Bullets: _bullets, Table: _table, Tiles: _tiles, Picture: _picture}
    for block in document.blocks:
        if isinstance(block, PageBreak):
            pdf.add_page()
        else:
            draw[type(block)](pdf, block)
    return bytes(pdf.output())
