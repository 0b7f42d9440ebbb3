"""``orders.pdf`` of a pre-positioning plan: 预置调拨单 / 预置派遣令 in the dispatch orders' look.

A cover page (the warning, the shares before and after, what stays unmet), then one page per
stock trip (source → staging point, the items) and one per team move, each with the turn list
of its road path. The look is the dispatch orders' own — the same embedded CJK font, styles,
tables and page footer ("第 n 页 / 共 N 页") from :mod:`dispatch.export.pdf_base`; every text from
data passes through its escaping helpers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageBreak, PageTemplate, Spacer

from dispatch.export.pdf_base import (
    CONTENT_W,
    MARGIN,
    ExportError,
    NumberedCanvas,
    flat_story,
    para,
    pdf_styles,
    pdf_table,
    register_font,
)
from dispatch.orders import compact_steps, format_distance, format_duration, format_quantity
from dispatch.records import TurnStep
from dispatch.warnings.preposition import PrepositionPlan
from gis.version import SOFTWARE

__all__ = ["order_pages", "write_orders_pdf"]

PAGE_W, PAGE_H = A4


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _path(engine: Any, a: tuple[float, float], b: tuple[float, float]) -> Any:
    snap = engine.network.snap([a[0], b[0]], [a[1], b[1]])
    return engine.path(int(snap.node[0]), int(snap.node[1]))


def _turns(path: Any) -> list[list[object]]:
    rows: list[list[object]] = [["道路", "距离", "用时"]]
    if path is None:
        return [*rows, ["（无道路路径）", "—", "—"]]
    steps = compact_steps(
        TurnStep(str(s.road) or "未命名道路", float(s.distance_m), float(s.seconds))
        for s in path.steps
    )
    for s in steps:
        rows.append([s.road, format_distance(s.distance_m), format_duration(s.seconds)])
    return rows


def order_pages(
    plan: PrepositionPlan, doc: dict[str, Any], scenario: Any, engine: Any
) -> list[tuple[str, str, list[dict[str, Any]], Any]]:
    """Per order: (number, title, its move rows, road path); stock trips first, then teams."""
    where = {
        e.id: e.location.xy for e in (*scenario.stockpiles, *scenario.shelters, *scenario.teams)
    }
    where = {k: (float(v[0]), float(v[1])) for k, v in where.items()}
    trips: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in doc["moves"]:
        if row["kind"] == "stock":
            trips.setdefault((row["from_id"], row["to_id"]), []).append(row)
    stamp = plan.issued_at.strftime("%Y%m%d%H%M")
    out = []
    n = 0
    for (a, b), rows in trips.items():
        n += 1
        out.append((f"YZ{stamp}-{n:02d}", "预置调拨单", rows, _path(engine, where[a], where[b])))
    for row in doc["moves"]:
        if row["kind"] == "team":
            n += 1
            path = _path(engine, where[row["team_id"]], where[row["to_id"]])
            out.append((f"YZ{stamp}-{n:02d}", "预置派遣令", [row], path))
    return out


def _cover(plan: PrepositionPlan, doc: dict[str, Any], st: dict, font: str) -> list[Flowable]:
    w = CONTENT_W
    warn = doc["warning"]
    thr, rest = doc["threatened"], doc["rest_of_county"]
    out: list[Flowable] = [para(f"{warn['colour_zh']}预警 预置方案", st["title"])]
    hazards = "、".join(f"{h['name']}（{h['id']}）" for h in warn["hazards"])
    info: list[list[object]] = [
        ["预警编号", warn["id"], "响应级别", f"{warn['level']}级"],
        ["预警对象", hazards, "求解状态", f"{doc['status_zh']}（{doc['status']}）"],
        ["发布时间", warn["issued_at"], "有效至", warn["valid_until"]],
        [
            "预置调动",
            f"{doc['movements']} 次（{len(doc['moves'])} 行）",
            "最优性间隙",
            "—" if doc["gap"] is None else f"{doc['gap']:.1%}",
        ],
    ]
    out.append(
        pdf_table(info, [w * 0.12, w * 0.43, w * 0.12, w * 0.33], font, st["cell"], header=False)
    )
    out.append(para("预置前后", st["h2"]))
    rows: list[list[object]] = [
        ["指标", "预置前", "预置后"],
        [
            "受威胁区域 按时满足的需求行",
            _pct(thr["before"]["on_time_share"] if thr["before"] else None),
            _pct(thr["after"]["on_time_share"] if thr["after"] else None),
        ],
        [
            "其余县域 60 分钟内可达人口（救援队伍）",
            _pct(rest["before"]["share_within_60"]),
            _pct(rest["after"]["share_within_60"]),
        ],
    ]
    out.append(pdf_table(rows, [w * 0.5, w * 0.25, w * 0.25], font, st["cell"], align_right=(1, 2)))
    out.append(para(f"其余县域覆盖下限：预置前的 {rest['floor']:.0%}", st["small"]))
    out.append(para("设计事件（按预警级别）", st["h2"]))
    rows = [["设计事件", "危险源", "事件类型", "级别", "受影响人数", "时限(分钟)"]]
    for e in doc["design_incidents"]:
        rows.append(
            [e["id"], e["hazard_name"], e["subtype"] or "—", e["level"], str(e["affected"]),
             "—" if e["deadline_min"] is None else f"{e['deadline_min']:g}"]
        )  # fmt: skip
    out.append(
        pdf_table(
            rows, [w * 0.14, w * 0.34, w * 0.14, w * 0.08, w * 0.15, w * 0.15], font, st["cell"]
        )
    )
    if doc["short"]:
        out.append(para("预置后仍不能按时满足", st["h2"]))
        rows = [["设计事件", "物资/技能", "缺少"]] + [
            [s["incident"], plan.materials[s["what"]].name_zh if s["what"] in plan.materials
             else s["what"], format_quantity(s["quantity"])]
            for s in doc["short"][:200]
        ]  # fmt: skip
        out.append(pdf_table(rows, [w * 0.3, w * 0.4, w * 0.3], font, st["cell"]))
    for text in (*doc["problems"], *doc["notes"]):
        out.append(para(f"注：{text}", st["small"]))
    return out


def _order(
    number: str, title: str, rows: list[dict[str, Any]], path: Any, doc: dict, st: dict, font: str
) -> list[Flowable]:
    w = CONTENT_W
    first = rows[0]
    minutes = first.get("minutes")
    route = (
        f"{path.metres / 1000:.1f} 公里 / {format_duration(path.seconds)}"
        if path is not None
        else ("—" if minutes is None else f"{minutes:g} 分钟")
    )
    info: list[list[object]] = [
        ["指令编号", number, "预警编号", doc["warning"]["id"]],
        ["出发地", f"{first['from_name']}（{first['from_id']}）", "预置点",
         f"{first['to_name']}（{first['to_id']}）"],
        ["全程", route, "任务", "预警期间前置待命" if first["kind"] == "team" else "物资前置"],
    ]  # fmt: skip
    if first["kind"] == "team":
        info.append(["技能", "、".join(first["skills"]) or "—", "人数", f"{first['headcount']} 人"])
        info.append(["状态", "到达后 待命", "", ""])
    out: list[Flowable] = [para(title, st["title"])]
    t = pdf_table(info, [w * 0.12, w * 0.38, w * 0.12, w * 0.38], font, st["cell"], header=False)
    out += [t, Spacer(1, 5)]
    if first["kind"] == "stock":
        out.append(para("物资清单", st["h2"]))
        items: list[list[object]] = [["物资", "编码", "单位", "数量", "重量(kg)"]]
        for r in rows:
            items.append([r["material_name"], r["material"], r["unit"],
                          format_quantity(r["quantity"]), f"{r['weight_kg']:,.0f}"])  # fmt: skip
        items.append(["合计", "", "", "", f"{sum(r['weight_kg'] for r in rows):,.0f}"])
        out.append(
            pdf_table(items, [w * 0.3, w * 0.2, w * 0.12, w * 0.18, w * 0.2], font, st["cell"],
                   align_right=(3, 4))
        )  # fmt: skip
    out.append(para("转向指引（同一道路已合并）", st["h2"]))
    out.append(
        pdf_table(_turns(path), [w * 0.6, w * 0.2, w * 0.2], font, st["cell"], align_right=(1, 2))
    )
    sign = pdf_table(
        [["签发人：", "接收人：", "时间："], ["", "", ""]],
        [w / 3] * 3,
        font,
        st["base"],
        header=False,
    )
    out += [Spacer(1, 10), sign]
    return out


def write_orders_pdf(
    plan: PrepositionPlan, doc: dict[str, Any], scenario: Any, engine: Any, path: Path | str
) -> Path:
    """Cover page and one page per order, written atomically (temp file, then replace)."""
    path = Path(path)
    font = register_font()
    st = pdf_styles(font)
    story: list[Flowable] = _cover(plan, doc, st, font)
    for number, title, rows, road in order_pages(plan, doc, scenario, engine):
        story.append(PageBreak())
        story += _order(number, title, rows, road, doc, st, font)
    story = flat_story(story)

    def header(canvas, _doc) -> None:  # noqa: ANN001 - reportlab callback
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#34495e"))
        y = PAGE_H - MARGIN + 6 * 2.8346
        canvas.drawString(MARGIN, y, f"预警编号 {doc['warning']['id']}")
        canvas.drawRightString(PAGE_W - MARGIN, y, f"{doc['warning']['colour_zh']}预警 预置方案")
        canvas.restoreState()

    tmp = path.with_name(path.name + ".tmp")
    try:
        d = BaseDocTemplate(
            str(tmp), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
            bottomMargin=MARGIN, title=f"预置方案 {doc['warning']['id']}", author="ReliefDesk",
        )  # fmt: skip
        frame = Frame(MARGIN, MARGIN, CONTENT_W, PAGE_H - 2 * MARGIN, id="body")
        d.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=header)])
        canvas_cls = type(
            "_Canvas", (NumberedCanvas,), {"footer_font": font, "footer_software": SOFTWARE}
        )
        a85 = rl_config.useA85
        rl_config.useA85 = 0
        try:
            d.build(story, canvasmaker=canvas_cls)
        finally:
            rl_config.useA85 = a85
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write PDF {path}: {exc}") from None
    return path
