"""One order per page of the orders PDF: title, late stops named under it (orange rows, "迟到 N
分钟"), stops and loads, and the route map drawn with reportlab graphics from the road geometry of
the order's legs (no map tiles): outbound legs solid, return legs dashed, start/stop markers, a
scale bar (:mod:`dispatch.export.map_drawing`). Shared machinery: :mod:`dispatch.export.pdf_base`.
"""

from __future__ import annotations

from reportlab.graphics.shapes import Circle, Drawing, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Spacer,
    TableStyle,
)

from dispatch.export.common import (
    clean_text,
    destinations_text,
    distance_text,
    duration_text,
    eta_text,
    item_text,
    late_text,
    list_sep,
    note_text,
    order_title,
    road_text,
    route_summary_text,
    stop_late_s,
    task_text,
)
from dispatch.export.map_drawing import (
    Projection,
    add_north,
    add_scale_bar,
    frame,
    overlap,
)
from dispatch.export.pdf_base import CONTENT_W, LATE_BG, LATE_FG, mark_rows, para, pdf_table
from dispatch.orders import format_quantity
from dispatch.plan import Plan
from dispatch.records import DispatchOrder, OrderKind
from dispatch.timeliness import (
    incident_deadlines,
)
from gis.phrases import paren, say, word, words


class PageState(Flowable):
    """Zero-size flowable that tells the page header which order is on the page."""

    def __init__(self, state: dict[str, str], order_no: str) -> None:
        super().__init__()
        self.state = state
        self.order_no = order_no
        self.width = self.height = 0

    def draw(self) -> None:
        self.state["order"] = self.order_no


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


def order_story(
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
        PageState(state, order.number),
        para(order_title(order, lang), st["title"]),
    ]
    deadlines = incident_deadlines(plan)
    late_stops = [(s, stop_late_s(deadlines, s)) for s in order.stops]
    late_stops = [(s, x) for s, x in late_stops if x > 0]
    if late_stops:
        out.append(
            para(
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
    table = pdf_table(
        info, [w * 0.12, w * 0.38, w * 0.12, w * 0.38], font, st["cell"], header=False
    )
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
    out.append(para(t("路线概要：{text}", text=route_summary_text(order, lang)), st["small"]))
    if order.kind == OrderKind.TRANSFER:
        out.append(para(t("物资清单"), st["h2"]))
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
            pdf_table(
                rows,
                [w * 0.3, w * 0.2, w * 0.12, w * 0.18, w * 0.2],
                font,
                st["cell"],
                align_right=(3, 4),
            )
        )
    out.append(para(t("行程与预计时间"), st["h2"]))
    rows = [[t(h) for h in ("序号", "趟次", "动作", "地点", "预计时间", "物资")]]
    late_rows = []
    for s in order.stops:
        what = list_sep(lang).join(item_text(plan, i, lang) for i in s.items)
        over = late_text(stop_late_s(deadlines, s), lang)
        if over:
            late_rows.append(len(rows))
        eta = eta_text(plan, s.eta_s, lang) + (f" {over}" if over else "")
        rows.append([str(s.seq), str(s.trip), word(s.action, lang), s.place_name, eta, what or "—"])
    stops = pdf_table(
        rows, [w * 0.07, w * 0.07, w * 0.08, w * 0.25, w * 0.2, w * 0.33], font, st["cell"]
    )
    mark_rows(stops, late_rows, LATE_BG, LATE_FG)  # after the deadline, as in the desk
    out.append(stops)
    out.append(para(t("转向指引（同一道路已合并）"), st["h2"]))
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
        pdf_table(
            rows, [w * 0.38, w * 0.32, w * 0.15, w * 0.15], font, st["cell"], align_right=(2, 3)
        )
    )
    for note in order.notes:
        out.append(para(t("注：{note}", note=note_text(note, lang)), st["small"]))
    sign = pdf_table(
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
