"""Printable orders: A4 PDF, a summary page then one order per page (reportlab).

The document is assembled here; its parts live in :mod:`dispatch.export.pdf_base` (font, styles,
tables, numbered canvas), :mod:`dispatch.export.pdf_cover` (the cover page) and
:mod:`dispatch.export.pdf_order` (the order pages and their route maps).
"""

from __future__ import annotations

from pathlib import Path

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
)

from dispatch.export.common import (
    clean_text,
    status_text,
    when_text,
)
from dispatch.export.pdf_base import (
    CONTENT_W,
    MARGIN,
    PAGE_H,
    PAGE_W,
    PARA_MAX_CHARS,
    PDF_MAX_UNSERVED,
    ExportError,
    NumberedCanvas,
    flat_story,
    pdf_styles,
    register_font,
)
from dispatch.export.pdf_cover import cover_story
from dispatch.export.pdf_order import order_story, route_drawing
from dispatch.plan import Plan
from gis.phrases import say


def export_pdf(
    plan: Plan,
    path: Path | str,
    *,
    font_path: Path | str | None = None,
    language: str = "zh_CN",
) -> Path:
    """Write the plan's orders as an A4 PDF: summary page, then one order per page; Chinese, or
    English with ``language="en"`` (names from data as they are, still in the CJK font)."""
    path = Path(path)
    lang = language
    font = register_font(font_path)
    st = pdf_styles(font, lang)
    state = {"order": ""}
    issued = when_text(plan.issued_at, lang)

    def header(canvas, doc) -> None:  # noqa: ANN001 - reportlab callback
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#34495e"))
        y = PAGE_H - MARGIN + 6 * mm
        canvas.drawString(MARGIN, y, say("方案编号 {no}", lang, no=plan.number))
        if state["order"]:
            canvas.drawString(MARGIN + 55 * mm, y, say("指令编号 {no}", lang, no=state["order"]))
        canvas.drawRightString(
            PAGE_W - MARGIN,
            y,
            say(
                "状态 {status}　下达时间 {issued}",
                lang,
                status=status_text(plan, lang),
                issued=issued,
            ),
        )
        canvas.setStrokeColor(colors.HexColor("#9aa5b1"))
        canvas.line(MARGIN, y - 2 * mm, PAGE_W - MARGIN, y - 2 * mm)
        canvas.restoreState()  # the footer with the page count: NumberedCanvas

    story: list[Flowable] = cover_story(plan, st, font, lang)
    for order in plan.orders:
        story.append(PageBreak())
        story += order_story(plan, order, st, font, state, lang)
    story = flat_story(story)
    tmp = path.with_name(path.name + ".tmp")
    try:
        doc = BaseDocTemplate(
            str(tmp),
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=say("应急调度方案 {no}", lang, no=plan.number),
            author="ReliefDesk",
            subject=clean_text(plan.inputs.scenario_name, PARA_MAX_CHARS),
        )
        frame = Frame(MARGIN, MARGIN, CONTENT_W, PAGE_H - 2 * MARGIN, id="body")
        # the header is drawn when the page ENDS, so it knows which order the page holds
        doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=header)])
        canvas_cls = type(
            "_Canvas",
            (NumberedCanvas,),
            {
                "footer_font": font,
                "footer_software": clean_text(plan.inputs.software, 60),
                "footer_language": lang,
            },
        )
        # binary Flate streams: ASCII85 on top (reportlab's default) costs pure-Python time on
        # every stream (no C accelerator) and makes the file a quarter larger; same content
        a85 = rl_config.useA85
        rl_config.useA85 = 0
        try:
            doc.build(story, canvasmaker=canvas_cls)
        finally:
            rl_config.useA85 = a85
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write PDF {path}: {exc}") from None
    return path


__all__ = ["PDF_MAX_UNSERVED", "ExportError", "export_pdf", "register_font", "route_drawing"]
