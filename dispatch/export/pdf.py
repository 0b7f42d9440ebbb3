"""Printable orders: A4 PDF, a summary page then one order per page (reportlab).

Chinese text uses a TrueType CJK font (:func:`gis.paths.find_cjk_font`: Debian's
``fonts-wqy-microhei``, Windows' Microsoft YaHei / SimSun...), EMBEDDED in the file
(``TTFont(..., subfontIndex=0)``); the non-embedded ``STSong-Light`` CID font is never used because
it only renders where poppler-data happens to be installed (DESIGN.md §5). Every string from data
goes through :func:`html.escape` before it meets reportlab's paragraph markup.

The route map on each order is drawn with reportlab graphics from the road geometry of the order's
legs (no map tiles): outbound legs solid, return legs dashed, start/stop markers, a scale bar.

The cover page shows per incident and plan-wide the served and on-time shares
(:mod:`dispatch.timeliness`), the needs 未满足或迟到 (red / orange rows) and the safety stock
released; "全部需求均已按时安排" only when every need is met on time. On an order, stops after
their incident's deadline are orange with "迟到 N 分钟" and named under the title.

Size: one document layout (cover, order pages, route map, numbered canvas) sharing its styles
and table helpers; split, each part would import the rest back.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.graphics.shapes import Circle, Drawing, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from dispatch.export.common import (
    CELL_MAX_CHARS,
    clean_text,
    destinations_text,
    distance_text,
    duration_text,
    eta_text,
    item_text,
    late_text,
    level_text,
    list_sep,
    minutes_in,
    note_text,
    order_title,
    quantities_text,
    road_text,
    route_summary_text,
    served_pct,
    shelter_supply,
    status_text,
    stop_late_s,
    task_text,
    when_text,
)
from dispatch.export.map_drawing import (
    Projection,
    add_north,
    add_scale_bar,
    frame,
    overlap,
)
from dispatch.orders import format_quantity
from dispatch.plan import Plan
from dispatch.records import DispatchOrder, OrderKind, StageRun
from dispatch.timeliness import (
    NeedState,
    incident_deadlines,
    plan_timeliness,
    problem_lines,
    problem_quantity,
)
from gis.errors import ReliefDeskError
from gis.paths import find_cjk_font
from gis.phrases import paren, reason_text, say, word, words

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


def _styles(font: str, language: str = "zh_CN") -> dict[str, ParagraphStyle]:
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


def _p(text: object, style: ParagraphStyle, limit: int = PARA_MAX_CHARS) -> Paragraph:
    return Paragraph(escape(clean_text(text, limit)), style)


class _PageState(Flowable):
    """Zero-size flowable that tells the page header which order is on the page."""

    def __init__(self, state: dict[str, str], order_no: str) -> None:
        super().__init__()
        self.state = state
        self.order_no = order_no
        self.width = self.height = 0

    def draw(self) -> None:
        self.state["order"] = self.order_no


def _table(
    rows: list[list[object]],
    widths: list[float],
    font: str,
    style: ParagraphStyle,
    *,
    header: bool = True,
    align_right: tuple[int, ...] = (),
) -> Any:
    """A table of ``rows`` (text cells cleaned and cut to :data:`CELL_MAX_CHARS`); a long one
    comes back as :class:`_Tables`, pieces of :data:`TABLE_CHUNK_ROWS` rows."""
    data = [[_cell(c, w, font, style) for c, w in zip(row, widths)] for row in rows]
    if len(data) > TABLE_CHUNK_ROWS + 1:
        head, body = (data[:1], data[1:]) if header else ([], data)
        step = TABLE_CHUNK_ROWS
        return _Tables(
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


class _Tables(list):  # type: ignore[type-arg]
    """Consecutive pieces of one long table (spliced into the story by :func:`_flat`)."""


#: rows arriving after the deadline (orange) and unmet needs (red), as the desk shows them
LATE_BG, LATE_FG = colors.HexColor("#fff1dc"), colors.HexColor("#a04000")
UNMET_BG, UNMET_FG = colors.HexColor("#fde0dc"), colors.HexColor("#962020")


def _mark_rows(table: Any, rows: list[int], bg: Any, fg: Any) -> None:
    """Colour the body ``rows`` (indices in the rows given to :func:`_table`, header = 0) of a
    table from :func:`_table`, whether it came back whole or in pieces."""
    for i in rows:
        if isinstance(table, Table):
            piece, j = table, i
        else:  # pieces of TABLE_CHUNK_ROWS body rows, each with the header repeated
            k, j = divmod(i - 1, TABLE_CHUNK_ROWS)
            piece, j = table[k], j + 1
        piece.setStyle(
            TableStyle([("BACKGROUND", (0, j), (-1, j), bg), ("TEXTCOLOR", (0, j), (-1, j), fg)])
        )


def _flat(items: list[Flowable]) -> list[Flowable]:
    out: list[Flowable] = []
    for f in items:
        out.extend(f) if isinstance(f, _Tables) else out.append(f)
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


def route_drawing(
    plan: Plan,
    order: DispatchOrder,
    width: float,
    height: float,
    font: str,
    language: str = "zh_CN",
) -> Drawing:
    """The order's route as a small vector map: legs, stops, start marker, scale bar, north
    (projection, scale bar and north mark: :mod:`dispatch.export.map_drawing`)."""
    d = frame(width, height)
    pts = [p for leg in order.legs for p in leg.coords]
    stop_places = [plan.place(s.place_id) for s in order.stops]
    pts += [(p.lon, p.lat) for p in stop_places if p is not None]
    if not pts:
        d.add(
            String(
                width / 2,
                height / 2,
                say("无路线几何", language),
                fontName=font,
                fontSize=10,
                textAnchor="middle",
            )
        )
        return d
    proj = Projection.fit(pts, width, height)
    xy = proj.xy

    for leg in order.legs:
        if len(leg.coords) < 2:
            continue
        back = leg.to_id == order.origin_id and order.kind == OrderKind.TRANSFER
        flat = [c for lon, lat in leg.coords for c in xy(lon, lat)]
        d.add(
            PolyLine(
                flat,
                strokeColor=colors.HexColor("#7f8c8d" if back else "#c0392b"),
                strokeWidth=1.2 if back else 2.0,
                strokeDashArray=[3, 2] if back or not leg.on_roads else None,
            )
        )
    seen: set[str] = set()
    placed: list[tuple[float, float, float, float]] = []
    n = 0
    for stop in order.stops:
        p = plan.place(stop.place_id)
        if p is None or stop.place_id in seen:
            continue
        seen.add(stop.place_id)
        x, y = xy(p.lon, p.lat)
        origin = stop.place_id == order.origin_id
        if origin:
            d.add(
                Rect(
                    x - 4,
                    y - 4,
                    8,
                    8,
                    fillColor=colors.HexColor("#1e8449"),
                    strokeColor=colors.white,
                    strokeWidth=0.8,
                )
            )
            label = say("起 {name}", language, name=p.name)
        else:
            n += 1
            d.add(
                Circle(
                    x,
                    y,
                    5,
                    fillColor=colors.HexColor("#c0392b"),
                    strokeColor=colors.white,
                    strokeWidth=0.8,
                )
            )
            d.add(
                String(
                    x,
                    y - 2.5,
                    str(n),
                    fontName=font,
                    fontSize=6.5,
                    fillColor=colors.white,
                    textAnchor="middle",
                )
            )
            label = p.name
        label = clean_text(label, 16)
        anchor = "start" if x < width * 0.7 else "end"
        w_label = pdfmetrics.stringWidth(label, font, 7)
        x0 = x + 9 if anchor == "start" else x - 9 - w_label
        # first free slot above, below, then further out; no slot → marker only (the stops
        # table names every place)
        for dy in (5, -11, 14, -20):
            box = (x0 - 1, y + dy - 2, x0 + w_label + 1, y + dy + 7)
            if not any(overlap(box, b) for b in placed):
                placed.append(box)
                d.add(
                    String(
                        x + (9 if anchor == "start" else -9),
                        y + dy,
                        label,
                        fontName=font,
                        fontSize=7,
                        fillColor=colors.HexColor("#2c3e50"),
                        textAnchor=anchor,
                    )
                )
                break
    add_scale_bar(d, proj, font, language)
    add_north(d, width, height, font)
    return d


def _more(
    total: int,
    what: str,
    st: dict[str, ParagraphStyle],
    shown: int = PDF_MAX_ROWS,
    language: str = "zh_CN",
) -> list[Flowable]:
    """'…… 另有 N 项…，见 orders.xlsx 与 plan.json。' when a table was cut to ``shown`` rows."""
    if total <= shown:
        return []
    template = f"…… 另有 {{n}} {what}，见 orders.xlsx 与 plan.json。"
    return [_p(say(template, language, n=total - shown), st["base"])]


_NUMERALS = "一二三四五六七八九十"


def _cover(
    plan: Plan, st: dict[str, ParagraphStyle], font: str, lang: str = "zh_CN"
) -> list[Flowable]:
    sections = iter(_NUMERALS)
    en = lang == "en"

    def t(zh: str, **values: object) -> str:
        return say(zh, lang, **values)

    def h2(title: str) -> Paragraph:
        n = next(sections)
        return _p(f"{_NUMERALS.index(n) + 1}. {title}" if en else f"{n}、{title}", st["h2"])

    def more(total: int, what: str, shown: int = PDF_MAX_ROWS) -> list[Flowable]:
        return _more(total, what, st, shown, lang)

    tl = plan_timeliness(plan)
    out: list[Flowable] = [
        _p(t("应急调度方案 {no}", no=plan.number), st["title"]),
        _p(
            t(
                "场景：{name}　　生成时间：{created}　　状态：{status}　　求解状态：{solve}",
                name=plan.inputs.scenario_name,
                created=f"{plan.created_at:%Y-%m-%d %H:%M}",
                status=status_text(plan, lang),
                solve=t(plan.overall.label_zh),
            ),
            st["base"],
        ),
        _p(
            t(
                "场景指纹 SHA-256：{hash}…　{software}",
                hash=plan.inputs.scenario_hash[:32],
                software=plan.inputs.software,
            ),
            st["small"],
        ),
        Spacer(1, 4),
        h2(t("事件保障情况")),
        _p(
            t(
                "全方案：物资满足 {served}，按时送达 {on_time}；人员满足 {staff}，人员按时 {staff_on_time}",
                served=served_pct(tl.served_fraction),
                on_time=served_pct(tl.on_time_fraction),
                staff=served_pct(tl.staff_fraction),
                staff_on_time=served_pct(tl.staff_on_time_fraction),
            )
            + (
                t(
                    "；迟到 {n} 项（最长 {late}）",
                    n=tl.late_lines,
                    late=minutes_in(tl.worst_late_s, lang),
                )
                if tl.late_lines
                else ""
            )
            + (t("；未满足 {n} 项", n=tl.unmet_lines) if tl.unmet_lines else ""),
            st["base"],
        ),
        Spacer(1, 3),
    ]
    rows: list[list[object]] = [
        [
            t(h)
            for h in (
                "事件",
                "级别",
                "时限",
                "物资满足",
                "按时送达",
                "人员满足",
                "人员按时",
                "最长迟到",
                "派遣队伍",
            )
        ]
    ]
    incidents = list(plan.incidents)
    if len(incidents) > PDF_MAX_ROWS:  # the most urgent first: level, then least served
        incidents.sort(key=lambda o: (o.level, min(o.served_fraction, o.staff_fraction)))
    for inc in incidents[:PDF_MAX_ROWS]:
        rows.append(
            [
                inc.name,
                level_text(inc.level, lang),
                "—" if inc.deadline_s is None else t("{n} 分钟", n=f"{inc.deadline_s / 60:.0f}"),
                served_pct(inc.served_fraction),
                served_pct(inc.on_time_fraction),
                served_pct(inc.staff_fraction),
                served_pct(inc.staff_on_time_fraction),
                minutes_in(inc.late_by_s, lang) if inc.late_by_s > 0 else "—",
                list_sep(lang).join(plan.place_name(x) for x in inc.teams) or "—",
            ]
        )
    w = CONTENT_W
    out.append(
        _table(
            rows,
            [w * x for x in (0.16, 0.065, 0.085, 0.095, 0.095, 0.095, 0.095, 0.095, 0.215)],
            font,
            st["cell"],
            align_right=(2, 3, 4, 5, 6, 7),
        )
    )
    out.append(_p(t("物资满足、按时送达按重量计；人员满足、人员按时按所需人数计。"), st["small"]))
    out += more(len(incidents), "起事件（按级别与满足率排在前者已列出）")
    out.append(h2(t("未满足或迟到的需求")))
    problems = problem_lines(plan)
    if problems:
        messages = {u.message_zh: u.message_en for u in plan.unserved if u.message_en}
        rows = [[t(h) for h in ("状态", "地点", "项目", "数量", "原因")]]
        for ln in problems[:PDF_MAX_UNSERVED]:
            rows.append(
                [
                    word(ln.state.value, lang),
                    ln.site_name,
                    word(plan.material_label(ln.what, lang), lang) if en else ln.label,
                    f"{format_quantity(problem_quantity(ln))} {word(ln.unit, lang)}".strip()
                    + (
                        t("（共需 {n}）", n=format_quantity(ln.requested))
                        if abs(problem_quantity(ln) - ln.requested) > 1e-6
                        else ""
                    ),
                    reason_text(ln.reason, lang, messages) or "—",
                ]
            )
        tbl = _table(rows, [w * 0.09, w * 0.21, w * 0.12, w * 0.2, w * 0.38], font, st["cell"])
        shown = problems[:PDF_MAX_UNSERVED]
        late = [i for i, ln in enumerate(shown, 1) if ln.state is NeedState.LATE]
        unmet = [i for i, ln in enumerate(shown, 1) if ln.state is NeedState.UNMET]
        _mark_rows(tbl, late, LATE_BG, LATE_FG)
        _mark_rows(tbl, unmet, UNMET_BG, UNMET_FG)
        out.append(tbl)
        out += more(len(problems), "项未满足或迟到的需求", PDF_MAX_UNSERVED)
    elif tl.on_time_fraction is None:
        out.append(_p(t("全部需求均已安排（此方案未记录是否按时）。"), st["base"]))
    else:
        out.append(_p(t("全部需求均已按时安排。"), st["base"]))
    if plan.safety_releases:
        out.append(h2(t("动用安全库存")))
        rows = [[t(h) for h in ("储备库", "物资", "动用数量", "该库安全库存", "用于", "响应级别")]]
        for r in plan.safety_releases[:PDF_MAX_ROWS]:
            unit = plan.material_unit(r.material, lang)
            rows.append(
                [
                    plan.place_name(r.stockpile_id),
                    plan.material_label(r.material, lang),
                    f"{format_quantity(r.quantity)} {unit}".strip(),
                    f"{format_quantity(r.safety_stock)} {unit}".strip(),
                    plan.place_name(r.site_id),
                    level_text(r.level, lang) if r.level else "—",
                ]
            )
        out.append(
            _table(
                rows,
                [w * 0.22, w * 0.14, w * 0.14, w * 0.14, w * 0.24, w * 0.12],
                font,
                st["cell"],
                align_right=(2, 3),
            )
        )
        out += more(len(plan.safety_releases), "项安全库存动用")
    if plan.evacuation:
        total = sum(m.people for m in plan.evacuation)
        out.append(h2(t("人员转移与安置（共 {n} 人）", n=total)))
        rows = [[t(h) for h in ("转移群众", "安置场所", "人数", "行程(分钟)")]]
        for m in plan.evacuation[:PDF_MAX_ROWS]:
            rows.append(
                [
                    plan.place_name(m.group_id),
                    plan.place_name(m.shelter_id),
                    str(m.people),
                    f"{m.travel_s / 60:.0f}",
                ]
            )
        out.append(
            _table(
                rows, [w * 0.35, w * 0.35, w * 0.12, w * 0.18], font, st["cell"], align_right=(2, 3)
            )
        )
        out += more(len(plan.evacuation), "条转移安排")
    supply = shelter_supply(plan)
    if supply:
        rows = [[t(h) for h in ("避难场所", "调拨物资", "已排车送达")]]
        for sid, allocated, delivered in supply[:PDF_MAX_ROWS]:
            rows.append(
                [
                    plan.place_name(sid),
                    quantities_text(plan, allocated, lang),
                    quantities_text(plan, delivered, lang) or "—",
                ]
            )
        out.append(Spacer(1, 4))
        out.append(_table(rows, [w * 0.3, w * 0.35, w * 0.35], font, st["cell"]))
        out += more(len(supply), "处避难场所补给")
    out.append(h2(t("求解过程")))
    rows = [[t(h) for h in ("阶段", "求解器", "状态", "说明", "用时(秒)")]]
    for s in plan.stages:
        rows.append(
            [
                t(s.stage),
                (s.engine or "—").replace("+", "+ "),  # lets long engine names wrap at '+'
                t(s.status.label_zh),
                _stage_note(s, lang),
                f"{s.runtime_s:.2f}",
            ]
        )
    out.append(_table(rows, [w * 0.2, w * 0.22, w * 0.22, w * 0.2, w * 0.16], font, st["cell"]))
    out.append(
        h2(t("指令清单（共 {n} 份，使用车辆 {v} 辆）", n=len(plan.orders), v=plan.vehicles_used))
    )
    rows = [[t(h) for h in ("指令编号", "类型", "车辆/队伍", "目的地", "预计到达")]]
    deadlines = incident_deadlines(plan)
    for o in plan.orders:
        worst = max((stop_late_s(deadlines, s) for s in o.stops), default=0.0)
        rows.append(
            [
                o.number,
                word(o.kind.value, lang),
                o.unit_name,
                destinations_text(plan, o, lang),
                eta_text(plan, o.eta_s, lang) + (f" {late_text(worst, lang)}" if worst else ""),
            ]
        )
    out.append(_table(rows, [w * 0.24, w * 0.1, w * 0.22, w * 0.26, w * 0.18], font, st["cell"]))
    if plan.approvals:
        out.append(h2(t("审批记录")))
        rows = [[t(h) for h in ("环节", "人员", "时间", "备注")]]
        for a in plan.approvals:
            rows.append([word(a.action, lang), a.who, f"{a.when:%Y-%m-%d %H:%M}", a.note])
        out.append(_table(rows, [w * 0.15, w * 0.25, w * 0.25, w * 0.35], font, st["cell"]))
    return out


def _order_page(
    plan: Plan,
    order: DispatchOrder,
    st: dict[str, ParagraphStyle],
    font: str,
    state: dict[str, str],
    lang: str = "zh_CN",
) -> list[Flowable]:
    w = CONTENT_W
    en = lang == "en"

    def t(zh: str, **values: object) -> str:
        return say(zh, lang, **values)

    out: list[Flowable] = [
        _PageState(state, order.number),
        _p(order_title(order, lang), st["title"]),
    ]
    deadlines = incident_deadlines(plan)
    late_stops = [(s, stop_late_s(deadlines, s)) for s in order.stops]
    late_stops = [(s, x) for s, x in late_stops if x > 0]
    if late_stops:
        out.append(
            _p(
                t("注意：")
                + ("; " if en else "；").join(
                    t(
                        "第 {seq} 站 {place} 预计{late}（时限 {limit} 分钟）",
                        seq=s.seq,
                        place=s.place_name,
                        late=late_text(x, lang),
                        limit=f"{deadlines[s.place_id] / 60:.0f}",
                    )
                    for s, x in late_stops
                ),
                st["late"],
            )
        )
    info: list[list[object]] = [
        [t("指令编号"), order.number, t("方案编号"), plan.number],
        [
            t("执行单位"),
            order.unit_name + paren(order.unit_id, lang),
            t("类型"),
            word(order.unit_type, lang) or "—",
        ],
        [
            t("出发地"),
            plan.place_name(order.origin_id),
            t("目的地"),
            destinations_text(plan, order, lang),
        ],
        [
            t("出发时间"),
            eta_text(plan, order.depart_s, lang),
            t("预计到达"),
            eta_text(plan, order.eta_s, lang),
        ],
        [
            t("全程"),
            t(
                "{km} 公里 / {time}",
                km=f"{order.total_metres / 1000:.1f}",
                time=duration_text(order.total_seconds, lang),
            ),
            t("任务"),
            task_text(plan, order, lang),
        ],
    ]
    if order.kind == OrderKind.DEPLOY:
        info.append(
            [
                t("技能"),
                words(order.skills, lang) or "—",
                t("人数"),
                t("{n} 人", n=order.headcount),
            ]
        )
        if order.contact:
            info.append([t("联系人"), order.contact, "", ""])
    table = _table(info, [w * 0.12, w * 0.38, w * 0.12, w * 0.38], font, st["cell"], header=False)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f6")),
                ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#eef2f6")),
            ]
        )
    )
    drawing = route_drawing(plan, order, w, 66 * mm, font, lang)
    out += [table, Spacer(1, 5), drawing, Spacer(1, 2)]
    out.append(_p(t("路线概要：{text}", text=route_summary_text(order, lang)), st["small"]))
    if order.kind == OrderKind.TRANSFER:
        out.append(_p(t("物资清单"), st["h2"]))
        rows: list[list[object]] = [[t(h) for h in ("物资", "编码", "单位", "数量", "重量(kg)")]]
        for it in order.items:
            rows.append(
                [
                    plan.material_label(it.material, lang) if en else it.name,
                    it.material,
                    word(it.unit, lang),
                    format_quantity(it.quantity),
                    f"{it.weight_kg:,.0f}",
                ]
            )
        rows.append([t("合计"), "", "", "", f"{order.total_weight_kg:,.0f}"])
        out.append(
            _table(
                rows,
                [w * 0.3, w * 0.2, w * 0.12, w * 0.18, w * 0.2],
                font,
                st["cell"],
                align_right=(3, 4),
            )
        )
    out.append(_p(t("行程与预计时间"), st["h2"]))
    rows = [[t(h) for h in ("序号", "趟次", "动作", "地点", "预计时间", "物资")]]
    late_rows = []
    for s in order.stops:
        what = list_sep(lang).join(item_text(plan, i, lang) for i in s.items)
        over = late_text(stop_late_s(deadlines, s), lang)
        if over:
            late_rows.append(len(rows))
        eta = eta_text(plan, s.eta_s, lang) + (f" {over}" if over else "")
        rows.append([str(s.seq), str(s.trip), word(s.action, lang), s.place_name, eta, what or "—"])
    stops = _table(
        rows, [w * 0.07, w * 0.07, w * 0.08, w * 0.25, w * 0.2, w * 0.33], font, st["cell"]
    )
    _mark_rows(stops, late_rows, LATE_BG, LATE_FG)  # after the deadline, as in the desk
    out.append(stops)
    out.append(_p(t("转向指引（同一道路已合并）"), st["h2"]))
    rows = [[t(h) for h in ("路段", "道路", "距离", "用时")]]
    for li, leg in enumerate(order.legs, start=1):
        name = f"{li}. {plan.place_name(leg.from_id)}→{plan.place_name(leg.to_id)}"
        back = order.kind == OrderKind.TRANSFER and leg.to_id == order.origin_id
        if back and leg.steps:  # the way back: one line, the full list is in the XLSX
            roads = "→".join(road_text(s.road, lang) for s in leg.steps[:4]) + (
                "…" if len(leg.steps) > 4 else ""
            )
            rows.append(
                [
                    name,
                    t("返回：{roads}", roads=roads),
                    distance_text(leg.metres, lang),
                    duration_text(leg.seconds, lang),
                ]
            )
            continue
        if not leg.steps:
            rows.append(
                [
                    name,
                    t("（无道路路径）"),
                    distance_text(leg.metres, lang),
                    duration_text(leg.seconds, lang),
                ]
            )
        for k, step in enumerate(leg.steps):
            rows.append(
                [
                    name if k == 0 else "",
                    road_text(step.road, lang),
                    distance_text(step.distance_m, lang),
                    duration_text(step.seconds, lang),
                ]
            )
    out.append(
        _table(rows, [w * 0.38, w * 0.32, w * 0.15, w * 0.15], font, st["cell"], align_right=(2, 3))
    )
    for note in order.notes:
        out.append(_p(t("注：{note}", note=note_text(note, lang)), st["small"]))
    sign = _table(
        [[t("签发人："), t("接收人："), t("时间：")], ["", "", ""]],
        [w / 3] * 3,
        font,
        st["base"],
        header=False,
    )
    sign.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0, colors.white),
                ("LINEBELOW", (0, 1), (-1, 1), 0.6, colors.black),
                ("TOPPADDING", (0, 1), (-1, 1), 14),
            ]
        )
    )
    out += [Spacer(1, 10), KeepTogether([sign])]
    return out


def _stage_note(stage: StageRun, lang: str = "zh_CN") -> str:
    """What an operator can read from a stage's statistics: its message, else the optimality gap
    where a bound exists (raw objective values have no unit a person can use)."""
    if stage.message:
        return say(stage.message, lang)
    if stage.objective is not None and stage.bound is not None:
        gap = abs(stage.objective - stage.bound) / max(abs(stage.objective), 1e-9)
        if gap < 1e-9:
            return say("已证明最优", lang)
        return say("与下界差距 {gap}", lang, gap=f"{gap:.1%}")
    return say("已证明最优", lang) if stage.status.value == "OPTIMAL" else "—"


class _NumberedCanvas(Canvas):
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
    st = _styles(font, lang)
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
        canvas.restoreState()  # the footer with the page count: _NumberedCanvas

    story: list[Flowable] = _cover(plan, st, font, lang)
    for order in plan.orders:
        story.append(PageBreak())
        story += _order_page(plan, order, st, font, state, lang)
    story = _flat(story)
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
            (_NumberedCanvas,),
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


__all__ = ["ExportError", "export_pdf", "register_font", "route_drawing"]
