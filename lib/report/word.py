"""The report as an editable Word document (python-docx): the same blocks as the PDF."""

from __future__ import annotations

import io

from docx import Document as WordDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from PIL import Image

from lib.report.layout import Bullets, Document, Heading, PageBreak, Para, Picture, Table, Tiles

FONT = "DejaVu Sans"  # Word falls back to a font with Cyrillic when this one is not installed
TEXT_WIDTH_MM = 170.0
MAX_IMAGE_MM = 30.0


def _font(run, size: float | None = None, bold: bool | None = None, grey: bool = False) -> None:
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:cs"), FONT)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if grey:
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)


def _text(cell_or_doc, text: str, size: float = 10, bold: bool = False, align=None) -> None:
    paragraph = cell_or_doc.add_paragraph() if hasattr(cell_or_doc, "add_paragraph") else cell_or_doc
    run = paragraph.add_run(text)
    _font(run, size, bold)
    if align is not None:
        paragraph.alignment = align


def _table(doc, block: Table) -> None:
    rows = ([block.header] if block.header else []) + block.rows
    if not rows:
        return
    columns = len(rows[0])
    table = doc.add_table(rows=len(rows), cols=columns)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    widths = block.widths or [1.0] * columns
    total = sum(widths)
    size = 8 if columns > 2 else 10
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.width = Mm(TEXT_WIDTH_MM * widths[c] / total)
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(value)
            _font(run, size, bold=bool(block.header) and r == 0)
    doc.add_paragraph()


def _tiles(doc, block: Tiles) -> None:
    per_row = max(1, block.per_row)
    width = TEXT_WIDTH_MM / per_row
    side = min(width - 3, MAX_IMAGE_MM)
    for start in range(0, len(block.tiles), per_row):
        row = block.tiles[start : start + per_row]
        table = doc.add_table(rows=1, cols=per_row)
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        for n, tile in enumerate(row):
            cell = table.cell(0, n)
            cell.width = Mm(width)
            title = cell.paragraphs[0]
            _font(title.add_run(tile.title), 7.5, bold=True)
            picture = cell.add_paragraph()
            if tile.png is not None:
                with Image.open(io.BytesIO(tile.png)) as im:
                    w, h = im.size
                scale = side / max(w, h)  # the whole picture inside the square, its proportions kept
                picture.add_run().add_picture(io.BytesIO(tile.png), width=Mm(w * scale), height=Mm(h * scale))
            else:  # no picture: the reason, where the picture would be
                _font(picture.add_run(tile.text), 7.5, grey=True)
            if tile.caption:
                _font(cell.add_paragraph().add_run(tile.caption), 7.5)
    doc.add_paragraph()


def render_docx(document: Document) -> bytes:
    """The blocks as a .docx with headings, tables and embedded pictures."""
    doc = WordDocument()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    doc.core_properties.title = document.title
    doc.core_properties.author = document.author
    doc.core_properties.language = document.lang
    for block in document.blocks:
        if isinstance(block, Heading):
            heading = doc.add_heading(level=min(block.level, 3))
            _font(heading.add_run(block.text), None)
        elif isinstance(block, Para):
            paragraph = doc.add_paragraph()
            run = paragraph.add_run(block.text)
            _font(run, 8.5 if block.style == "note" else 10, grey=block.style == "note")
            if block.style == "quote":
                paragraph.paragraph_format.left_indent = Mm(5)
        elif isinstance(block, Bullets):
            for item in block.items:
                paragraph = doc.add_paragraph(style="List Number" if block.numbered else "List Bullet")
                _font(paragraph.add_run(item), 10)
        elif isinstance(block, Table):
            _table(doc, block)
        elif isinstance(block, Tiles):
            _tiles(doc, block)
        elif isinstance(block, Picture):
            paragraph = doc.add_paragraph()
            paragraph.add_run().add_picture(io.BytesIO(block.png), width=Mm(TEXT_WIDTH_MM * block.width_share))
            if block.caption:
                caption = doc.add_paragraph()
                _font(caption.add_run(block.caption), 8.5, grey=True)
                caption.alignment = WD_ALIGN_PARAGRAPH.LEFT
        elif isinstance(block, PageBreak):
            doc.add_page_break()
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
