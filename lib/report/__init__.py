"""The hand-in (textbook task 7): one content model of the report, drawn as PDF and as DOCX.

`content` holds what the student did (images with the noise applied, models, results, conclusions);
`build` makes it from the app's objects; `layout` turns it into blocks in the report's language; `pdf` and
`word` draw the same blocks. `sheet` is the one-page PNG overview and the ZIP of images, CSV and parameters.
"""

from lib.report.content import Report, TitleBlock
from lib.report.sheet import (
    CELL,
    PAD,
    ReportItem,
    column_title,
    font,
    has_noisy_column,
    metrics_csv,
    report_parameters,
    report_zip,
    score_text,
    sheet_png,
)


def report_pdf(report: Report) -> bytes:
    """The report as PDF bytes."""
    from lib.report.layout import layout
    from lib.report.pdf import render_pdf

    return render_pdf(layout(report))


def report_docx(report: Report) -> bytes:
    """The report as DOCX bytes."""
    from lib.report.layout import layout
    from lib.report.word import render_docx

    return render_docx(layout(report))


__all__ = [
    "CELL", "PAD", "Report", "ReportItem", "TitleBlock", "column_title", "font", "has_noisy_column", "metrics_csv",
    "report_docx", "report_parameters", "report_pdf", "report_zip", "score_text", "sheet_png",
]  # fmt: skip
