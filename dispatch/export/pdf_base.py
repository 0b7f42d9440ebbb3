"""Shared PDF machinery of ReliefDesk's printed documents (reportlab): the embedded CJK font,
the A4 page geometry, paragraph styles, escaped paragraphs, tables cut into pieces, coloured
rows and the numbered canvas ("第 n 页 / 共 N 页").

Used by the orders PDF (:mod:`dispatch.export.pdf`, :mod:`dispatch.export.pdf_cover`,
:mod:`dispatch.export.pdf_order`), the warning pre-positioning orders
(:mod:`dispatch.warnings.orders_pdf`) and the drill reports (:mod:`dispatch.drills`).

Chinese text uses a TrueType CJK font (:func:`gis.paths.find_cjk_font`: Debian's
``fonts-wqy-microhei``, Windows' Microsoft YaHei / SimSun...), EMBEDDED in the file
(``TTFont(..., subfontIndex=0)``); the non-embedded ``STSong-Light`` CID font is never used because
it only renders where poppler-data happens to be installed (DESIGN.md §5). Every string from data
goes through :func:`html.escape` before it meets reportlab's paragraph markup (:func:`para`).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    Table,
    TableStyle,
)

from dispatch.export.common import (
    CELL_MAX_CHARS,
    clean_text,
)
from gis.errors import ReliefDeskError
from gis.paths import find_cjk_font
from gis.phrases import say

FONT_NAME = "WenQuanYiMicroHei"

PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
CONTENT_W = PAGE_W - 2 * MARGIN


class ExportError(ReliefDeskError):
    """An export could not be written (missing font, unwritable path...)."""


def register_font(font_path: Path | str | None = None) -> str:
    """Register the embedded CJK font once; returns its reportlab name."""
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    try:  # font_path, $RELIEFDESK_CJK_FONT, bundled, or the system's (Linux/Windows font dirs)
        path = find_cjk_font(font_path)
    except FileNotFoundError as exc:
        raise ExportError(str(exc)) from None
    kwargs = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
    try:
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), **kwargs))
    except Exception as exc:
        raise ExportError(f"cannot load CJK font {path}: {exc}") from None
    return FONT_NAME


def pdf_styles(font: str, language: str = "zh_CN") -> dict[str, ParagraphStyle]:
    # English wraps at spaces (a name from data longer than the line is still split: reportlab's
    # splitLongWords); Chinese anywhere between characters
    wrap = None if language == "en" else "CJK"
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap=wrap)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=24, alignment=1, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontSize=11,
            leading=15,
            spaceBefore=6,
            spaceAfter=3,
            textColor=colors.HexColor("#1f3a5f"),
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "late": ParagraphStyle(
            "late", parent=base, textColor=colors.HexColor("#b71c1c"), spaceAfter=3
        ),
    }


#: Longest text from data in a paragraph outside tables (a page holds it whatever the width).
PARA_MAX_CHARS = 600
#: Rows of one table (the header repeated at each piece): reportlab splits a long table again at
#: every page, re-measuring what is left (quadratic); pieces of this size keep the PDF linear.
TABLE_CHUNK_ROWS = 40
#: Unserved needs listed in the PDF; the rest are counted and left to orders.xlsx / plan.json.
PDF_MAX_UNSERVED = 200
#: Rows of the cover's other tables (incidents: the most urgent first; evacuation moves,
#: shelter supply); the rest are counted and left to orders.xlsx. Every order keeps its page.
PDF_MAX_ROWS = 200
#: reportlab's default left/right cell padding (points).
CELL_PAD = 6


def para(text: object, style: ParagraphStyle, limit: int = PARA_MAX_CHARS) -> Paragraph:
    """A paragraph of ``text`` from data: cleaned, cut to ``limit`` characters, escaped."""
    return Paragraph(escape(clean_text(text, limit)), style)


def pdf_table(
    rows: list[list[object]],
    widths: list[float],
    font: str,
    style: ParagraphStyle,
    *,
    header: bool = True,
    align_right: tuple[int, ...] = (),
) -> Any:
    """A table of ``rows`` (text cells cleaned and cut to :data:`CELL_MAX_CHARS`); a long one
    comes back as :class:`Tables`, pieces of :data:`TABLE_CHUNK_ROWS` rows."""
    data = [[_cell(c, w, font, style) for c, w in zip(row, widths)] for row in rows]
    if len(data) > TABLE_CHUNK_ROWS + 1:
        head, body = (data[:1], data[1:]) if header else ([], data)
        step = TABLE_CHUNK_ROWS
        return Tables(
            [
                _one_table(head + body[i : i + step], widths, font, style, header, align_right)
                for i in range(0, len(body), step)
            ]
        )
    return _one_table(data, widths, font, style, header, align_right)


def _cell(value: object, width: float, font: str, style: ParagraphStyle) -> Any:
    """A table cell: plain text when it fits on one line (drawn directly: ~10× faster than a
    Paragraph, which matters for a 1,000-incident plan), else a wrapping Paragraph."""
    if isinstance(value, Flowable):
        return value
    text = clean_text(value, CELL_MAX_CHARS)
    if pdfmetrics.stringWidth(text, font, style.fontSize) <= width - 2 * CELL_PAD:
        return text
    return Paragraph(escape(text), style)


class Tables(list):  # type: ignore[type-arg]
    """Consecutive pieces of one long table (spliced into the story by :func:`flat_story`)."""


#: rows arriving after the deadline (orange) and unmet needs (red), as the desk shows them
LATE_BG, LATE_FG = colors.HexColor("#fff1dc"), colors.HexColor("#a04000")
UNMET_BG, UNMET_FG = colors.HexColor("#fde0dc"), colors.HexColor("#962020")


def mark_rows(table: Any, rows: list[int], bg: Any, fg: Any) -> None:
    """Colour the body ``rows`` (indices in the rows given to :func:`pdf_table`, header = 0) of a
    table from :func:`pdf_table`, whether it came back whole or in pieces."""
    for i in rows:
        if isinstance(table, Table):
            piece, j = table, i
        else:  # pieces of TABLE_CHUNK_ROWS body rows, each with the header repeated
            k, j = divmod(i - 1, TABLE_CHUNK_ROWS)
            piece, j = table[k], j + 1
        piece.setStyle(
            TableStyle([("BACKGROUND", (0, j), (-1, j), bg), ("TEXTCOLOR", (0, j), (-1, j), fg)])
        )


def flat_story(items: list[Flowable]) -> list[Flowable]:
    """The story with each long table from :func:`pdf_table` spliced in as its pieces."""
    out: list[Flowable] = []
    for f in items:
        out.extend(f) if isinstance(f, Tables) else out.append(f)
    return out


def _one_table(
    data: list[list[Any]],
    widths: list[float],
    font: str,
    style: ParagraphStyle,
    header: bool,
    align_right: tuple[int, ...],
) -> Table:
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    cmds = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), style.fontSize),  # plain-text cells look like the rest
        ("LEADING", (0, 0), (-1, -1), style.leading),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4ebf3")))
    for col in align_right:
        cmds.append(("ALIGN", (col, 1), (col, -1), "RIGHT"))
    t.setStyle(TableStyle(cmds))
    return t


class NumberedCanvas(Canvas):
    """Canvas that knows the page count when the document is saved, so each footer can say
    "第 n 页 / 共 N 页" (a missing page of a printed order is then noticed)."""

    footer_font = "Helvetica"
    footer_software = "ReliefDesk"  # the plan's inputs.software ("ReliefDesk 0.2.0")
    footer_language = "zh_CN"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.saveState()
            self.setFont(self.footer_font, 8)
            self.setFillColor(colors.HexColor("#34495e"))
            self.drawCentredString(
                PAGE_W / 2,
                MARGIN - 8 * mm,
                say(
                    "{software} 应急资源调度台 · 第 {page} 页 / 共 {total} 页",
                    self.footer_language,
                    software=self.footer_software,
                    page=self._pageNumber,
                    total=total,
                ),
            )
            self.restoreState()
            super().showPage()
        super().save()
