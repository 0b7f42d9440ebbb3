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
    eta_text,
    late_text,
    quantities_text,
    served_pct,
    shelter_supply,
    stop_late_s,
    when_text,
)
from dispatch.export.map_drawing import (
    Projection,
    add_north,
    add_scale_bar,
    frame,
    overlap,
)
from dispatch.orders import format_distance, format_duration, format_quantity
from dispatch.plan import Plan
from dispatch.records import DispatchOrder, OrderKind, StageRun
from dispatch.timeliness import (
    NeedState,
    incident_deadlines,
    minutes_text,
    plan_timeliness,
    problem_lines,
    problem_quantity,
)
from gis.errors import ReliefDeskError
from gis.model import LEVEL_ROMAN
from gis.paths import find_cjk_font

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


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
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
    plan: Plan, order: DispatchOrder, width: float, height: float, font: str
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
                width / 2, height / 2, "无路线几何", fontName=font, fontSize=10, textAnchor="middle"
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
            label = "起 " + p.name
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
    add_scale_bar(d, proj, font)
    add_north(d, width, height, font)
    return d


def _more(
    total: int, what: str, st: dict[str, ParagraphStyle], shown: int = PDF_MAX_ROWS
) -> list[Flowable]:
    """'…… 另有 N 项…，见 orders.xlsx 与 plan.json。' when a table was cut to ``shown`` rows."""
    if total <= shown:
        return []
    return [_p(f"…… 另有 {total - shown} {what}，见 orders.xlsx 与 plan.json。", st["base"])]


_NUMERALS = "一二三四五六七八九十"


def _cover(plan: Plan, st: dict[str, ParagraphStyle], font: str) -> list[Flowable]:
    sections = iter(_NUMERALS)

    def h2(title: str) -> Paragraph:
        return _p(f"{next(sections)}、{title}", st["h2"])

    tl = plan_timeliness(plan)
    out: list[Flowable] = [
        _p(f"应急调度方案 {plan.number}", st["title"]),
        _p(
            f"场景：{plan.inputs.scenario_name}　　生成时间：{plan.created_at:%Y-%m-%d %H:%M}"
            f"　　状态：{plan.status_label}　　求解状态：{plan.overall.label_zh}",
            st["base"],
        ),
        _p(
            f"场景指纹 SHA-256：{plan.inputs.scenario_hash[:32]}…　{plan.inputs.software}",
            st["small"],
        ),
        Spacer(1, 4),
        h2("事件保障情况"),
        _p(
            f"全方案：物资满足 {served_pct(tl.served_fraction)}，按时送达 "
            f"{served_pct(tl.on_time_fraction)}；人员满足 {served_pct(tl.staff_fraction)}，"
            f"人员按时 {served_pct(tl.staff_on_time_fraction)}"
            + (
                f"；迟到 {tl.late_lines} 项（最长 {minutes_text(tl.worst_late_s)}）"
                if tl.late_lines
                else ""
            )
            + (f"；未满足 {tl.unmet_lines} 项" if tl.unmet_lines else ""),
            st["base"],
        ),
        Spacer(1, 3),
    ]
    rows: list[list[object]] = [
        [
            "事件",
            "级别",
            "时限",
            "物资满足",
            "按时送达",
            "人员满足",
            "人员按时",
            "最长迟到",
            "派遣队伍",
        ]
    ]
    incidents = list(plan.incidents)
    if len(incidents) > PDF_MAX_ROWS:  # the most urgent first: level, then least served
        incidents.sort(key=lambda o: (o.level, min(o.served_fraction, o.staff_fraction)))
    for inc in incidents[:PDF_MAX_ROWS]:
        rows.append(
            [
                inc.name,
                f"{LEVEL_ROMAN.get(inc.level, inc.level)} 级",
                "—" if inc.deadline_s is None else f"{inc.deadline_s / 60:.0f} 分钟",
                served_pct(inc.served_fraction),
                served_pct(inc.on_time_fraction),
                served_pct(inc.staff_fraction),
                served_pct(inc.staff_on_time_fraction),
                minutes_text(inc.late_by_s) if inc.late_by_s > 0 else "—",
                "、".join(plan.place_name(t) for t in inc.teams) or "—",
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
    out.append(_p("物资满足、按时送达按重量计；人员满足、人员按时按所需人数计。", st["small"]))
    out += _more(len(incidents), "起事件（按级别与满足率排在前者已列出）", st)
    out.append(h2("未满足或迟到的需求"))
    problems = problem_lines(plan)
    if problems:
        rows = [["状态", "地点", "项目", "数量", "原因"]]
        for ln in problems[:PDF_MAX_UNSERVED]:
            rows.append(
                [
                    ln.state.value,
                    ln.site_name,
                    ln.label,
                    f"{format_quantity(problem_quantity(ln))} {ln.unit}".strip()
                    + (
                        f"（共需 {format_quantity(ln.requested)}）"
                        if abs(problem_quantity(ln) - ln.requested) > 1e-6
                        else ""
                    ),
                    ln.reason or "—",
                ]
            )
        t = _table(rows, [w * 0.09, w * 0.21, w * 0.12, w * 0.2, w * 0.38], font, st["cell"])
        shown = problems[:PDF_MAX_UNSERVED]
        late = [i for i, ln in enumerate(shown, 1) if ln.state is NeedState.LATE]
        unmet = [i for i, ln in enumerate(shown, 1) if ln.state is NeedState.UNMET]
        _mark_rows(t, late, LATE_BG, LATE_FG)
        _mark_rows(t, unmet, UNMET_BG, UNMET_FG)
        out.append(t)
        out += _more(len(problems), "项未满足或迟到的需求", st, PDF_MAX_UNSERVED)
    elif tl.on_time_fraction is None:
        out.append(_p("全部需求均已安排（此方案未记录是否按时）。", st["base"]))
    else:
        out.append(_p("全部需求均已按时安排。", st["base"]))
    if plan.safety_releases:
        out.append(h2("动用安全库存"))
        rows = [["储备库", "物资", "动用数量", "该库安全库存", "用于", "响应级别"]]
        for r in plan.safety_releases[:PDF_MAX_ROWS]:
            unit = plan.material_unit(r.material)
            rows.append(
                [
                    plan.place_name(r.stockpile_id),
                    plan.material_label(r.material),
                    f"{format_quantity(r.quantity)} {unit}".strip(),
                    f"{format_quantity(r.safety_stock)} {unit}".strip(),
                    plan.place_name(r.site_id),
                    f"{LEVEL_ROMAN.get(r.level, r.level)} 级" if r.level else "—",
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
        out += _more(len(plan.safety_releases), "项安全库存动用", st)
    if plan.evacuation:
        total = sum(m.people for m in plan.evacuation)
        out.append(h2(f"人员转移与安置（共 {total} 人）"))
        rows = [["转移群众", "安置场所", "人数", "行程(分钟)"]]
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
        out += _more(len(plan.evacuation), "条转移安排", st)
    supply = shelter_supply(plan)
    if supply:
        rows = [["避难场所", "调拨物资", "已排车送达"]]
        for sid, allocated, delivered in supply[:PDF_MAX_ROWS]:
            rows.append(
                [
                    plan.place_name(sid),
                    quantities_text(plan, allocated),
                    quantities_text(plan, delivered) or "—",
                ]
            )
        out.append(Spacer(1, 4))
        out.append(_table(rows, [w * 0.3, w * 0.35, w * 0.35], font, st["cell"]))
        out += _more(len(supply), "处避难场所补给", st)
    out.append(h2("求解过程"))
    rows = [["阶段", "求解器", "状态", "说明", "用时(秒)"]]
    for s in plan.stages:
        rows.append(
            [
                s.stage,
                (s.engine or "—").replace("+", "+ "),  # lets long engine names wrap at '+'
                s.status.label_zh,
                _stage_note(s),
                f"{s.runtime_s:.2f}",
            ]
        )
    out.append(_table(rows, [w * 0.2, w * 0.22, w * 0.22, w * 0.2, w * 0.16], font, st["cell"]))
    out.append(h2(f"指令清单（共 {len(plan.orders)} 份，使用车辆 {plan.vehicles_used} 辆）"))
    rows = [["指令编号", "类型", "车辆/队伍", "目的地", "预计到达"]]
    deadlines = incident_deadlines(plan)
    for o in plan.orders:
        worst = max((stop_late_s(deadlines, s) for s in o.stops), default=0.0)
        rows.append(
            [
                o.number,
                o.kind.value,
                o.unit_name,
                destinations_text(plan, o),
                eta_text(plan, o.eta_s) + (f" {late_text(worst)}" if worst else ""),
            ]
        )
    out.append(_table(rows, [w * 0.24, w * 0.1, w * 0.22, w * 0.26, w * 0.18], font, st["cell"]))
    if plan.approvals:
        out.append(h2("审批记录"))
        rows = [["环节", "人员", "时间", "备注"]]
        for a in plan.approvals:
            rows.append([a.action, a.who, f"{a.when:%Y-%m-%d %H:%M}", a.note])
        out.append(_table(rows, [w * 0.15, w * 0.25, w * 0.25, w * 0.35], font, st["cell"]))
    return out


def _order_page(
    plan: Plan,
    order: DispatchOrder,
    st: dict[str, ParagraphStyle],
    font: str,
    state: dict[str, str],
) -> list[Flowable]:
    w = CONTENT_W
    out: list[Flowable] = [_PageState(state, order.number), _p(order.title, st["title"])]
    deadlines = incident_deadlines(plan)
    late_stops = [(s, stop_late_s(deadlines, s)) for s in order.stops]
    late_stops = [(s, x) for s, x in late_stops if x > 0]
    if late_stops:
        out.append(
            _p(
                "注意："
                + "；".join(
                    f"第 {s.seq} 站 {s.place_name} 预计{late_text(x)}"
                    f"（时限 {deadlines[s.place_id] / 60:.0f} 分钟）"
                    for s, x in late_stops
                ),
                st["late"],
            )
        )
    info: list[list[object]] = [
        ["指令编号", order.number, "方案编号", plan.number],
        ["执行单位", f"{order.unit_name}（{order.unit_id}）", "类型", order.unit_type or "—"],
        ["出发地", plan.place_name(order.origin_id), "目的地", destinations_text(plan, order)],
        ["出发时间", eta_text(plan, order.depart_s), "预计到达", eta_text(plan, order.eta_s)],
        [
            "全程",
            f"{order.total_metres / 1000:.1f} 公里 / {format_duration(order.total_seconds)}",
            "任务",
            order.task,
        ],
    ]
    if order.kind == OrderKind.DEPLOY:
        info.append(["技能", "、".join(order.skills) or "—", "人数", f"{order.headcount} 人"])
        if order.contact:
            info.append(["联系人", order.contact, "", ""])
    t = _table(info, [w * 0.12, w * 0.38, w * 0.12, w * 0.38], font, st["cell"], header=False)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f6")),
                ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#eef2f6")),
            ]
        )
    )
    out += [t, Spacer(1, 5), route_drawing(plan, order, w, 66 * mm, font), Spacer(1, 2)]
    out.append(_p(f"路线概要：{order.route_summary()}", st["small"]))
    if order.kind == OrderKind.TRANSFER:
        out.append(_p("物资清单", st["h2"]))
        rows: list[list[object]] = [["物资", "编码", "单位", "数量", "重量(kg)"]]
        for it in order.items:
            rows.append(
                [
                    it.name,
                    it.material,
                    it.unit,
                    format_quantity(it.quantity),
                    f"{it.weight_kg:,.0f}",
                ]
            )
        rows.append(["合计", "", "", "", f"{order.total_weight_kg:,.0f}"])
        out.append(
            _table(
                rows,
                [w * 0.3, w * 0.2, w * 0.12, w * 0.18, w * 0.2],
                font,
                st["cell"],
                align_right=(3, 4),
            )
        )
    out.append(_p("行程与预计时间", st["h2"]))
    rows = [["序号", "趟次", "动作", "地点", "预计时间", "物资"]]
    late_rows = []
    for s in order.stops:
        what = "、".join(f"{i.name} {format_quantity(i.quantity)}{i.unit}" for i in s.items)
        over = late_text(stop_late_s(deadlines, s))
        if over:
            late_rows.append(len(rows))
        eta = eta_text(plan, s.eta_s) + (f" {over}" if over else "")
        rows.append([str(s.seq), str(s.trip), s.action, s.place_name, eta, what or "—"])
    stops = _table(
        rows, [w * 0.07, w * 0.07, w * 0.08, w * 0.25, w * 0.2, w * 0.33], font, st["cell"]
    )
    _mark_rows(stops, late_rows, LATE_BG, LATE_FG)  # after the deadline, as in the desk
    out.append(stops)
    out.append(_p("转向指引（同一道路已合并）", st["h2"]))
    rows = [["路段", "道路", "距离", "用时"]]
    for li, leg in enumerate(order.legs, start=1):
        name = f"{li}. {plan.place_name(leg.from_id)}→{plan.place_name(leg.to_id)}"
        back = order.kind == OrderKind.TRANSFER and leg.to_id == order.origin_id
        if back and leg.steps:  # the way back: one line, the full list is in the XLSX
            roads = "→".join(s.road for s in leg.steps[:4]) + ("…" if len(leg.steps) > 4 else "")
            rows.append(
                [name, f"返回：{roads}", format_distance(leg.metres), format_duration(leg.seconds)]
            )
            continue
        if not leg.steps:
            rows.append(
                [name, "（无道路路径）", format_distance(leg.metres), format_duration(leg.seconds)]
            )
        for k, step in enumerate(leg.steps):
            rows.append(
                [
                    name if k == 0 else "",
                    step.road,
                    format_distance(step.distance_m),
                    format_duration(step.seconds),
                ]
            )
    out.append(
        _table(rows, [w * 0.38, w * 0.32, w * 0.15, w * 0.15], font, st["cell"], align_right=(2, 3))
    )
    for note in order.notes:
        out.append(_p(f"注：{note}", st["small"]))
    sign = _table(
        [["签发人：", "接收人：", "时间："], ["", "", ""]],
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


def _stage_note(stage: StageRun) -> str:
    """What an operator can read from a stage's statistics: its message, else the optimality gap
    where a bound exists (raw objective values have no unit a person can use)."""
    if stage.message:
        return stage.message
    if stage.objective is not None and stage.bound is not None:
        gap = abs(stage.objective - stage.bound) / max(abs(stage.objective), 1e-9)
        return "已证明最优" if gap < 1e-9 else f"与下界差距 {gap:.1%}"
    return "已证明最优" if stage.status.value == "OPTIMAL" else "—"


class _NumberedCanvas(Canvas):
    """Canvas that knows the page count when the document is saved, so each footer can say
    "第 n 页 / 共 N 页" (a missing page of a printed order is then noticed)."""

    footer_font = "Helvetica"
    footer_software = "ReliefDesk"  # the plan's inputs.software ("ReliefDesk 0.2.0")

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
                f"{self.footer_software} 应急资源调度台 · 第 {self._pageNumber} 页 / 共 {total} 页",
            )
            self.restoreState()
            super().showPage()
        super().save()


def export_pdf(plan: Plan, path: Path | str, *, font_path: Path | str | None = None) -> Path:
    """Write the plan's orders as an A4 PDF: summary page, then one order per page."""
    path = Path(path)
    font = register_font(font_path)
    st = _styles(font)
    state = {"order": ""}
    issued = when_text(plan.issued_at)

    def header(canvas, doc) -> None:  # noqa: ANN001 - reportlab callback
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#34495e"))
        y = PAGE_H - MARGIN + 6 * mm
        canvas.drawString(MARGIN, y, f"方案编号 {plan.number}")
        if state["order"]:
            canvas.drawString(MARGIN + 55 * mm, y, f"指令编号 {state['order']}")
        canvas.drawRightString(PAGE_W - MARGIN, y, f"状态 {plan.status_label}　下达时间 {issued}")
        canvas.setStrokeColor(colors.HexColor("#9aa5b1"))
        canvas.line(MARGIN, y - 2 * mm, PAGE_W - MARGIN, y - 2 * mm)
        canvas.restoreState()  # the footer with the page count: _NumberedCanvas

    story: list[Flowable] = _cover(plan, st, font)
    for order in plan.orders:
        story.append(PageBreak())
        story += _order_page(plan, order, st, font, state)
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
            title=f"应急调度方案 {plan.number}",
            author="ReliefDesk",
            subject=clean_text(plan.inputs.scenario_name, PARA_MAX_CHARS),
        )
        frame = Frame(MARGIN, MARGIN, CONTENT_W, PAGE_H - 2 * MARGIN, id="body")
        # the header is drawn when the page ENDS, so it knows which order the page holds
        doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=header)])
        canvas_cls = type(
            "_Canvas",
            (_NumberedCanvas,),
            {"footer_font": font, "footer_software": clean_text(plan.inputs.software, 60)},
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
