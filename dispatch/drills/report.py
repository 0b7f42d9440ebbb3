"""The drill report: ``report.pdf`` (A4, Chinese) and ``report.xlsx`` — the timeline of injects
and decisions (one row per step: simulated time, inject, plan, first-plan seconds, orders
changed, needs on time / late / unmet), the scorecard and the comparison of consecutive plans
(orders added / removed / rerouted / reloaded).

Reuses the plan export's embedded CJK font, paragraph styles, table helper and page-numbering
canvas (:mod:`dispatch.export.pdf_base`) and its in-memory sheet grid (:mod:`dispatch.export.xlsx`),
so text from data is escaped and cleaned the same way (names are text, never markup or
formulas). Both files are written to a temporary name and renamed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reportlab.platypus import KeepTogether, PageBreak, Spacer

from dispatch.drills.compare_cli import INCIDENT_HEADERS, build_pdf, incident_rows
from dispatch.drills.sheets import Sheet, write_sheets
from dispatch.export.map_drawing import OVERVIEW_HEIGHT, OverviewLayers, overview_drawing
from dispatch.export.pdf_base import (
    CONTENT_W,
    para,
    pdf_styles,
    pdf_table,
    register_font,
)

TIMELINE_SHEET = "演练时间线"
SCORECARD_SHEET = "评分表"
COMPARISON_SHEET = "方案对比"
INCIDENT_COMPARISON_SHEET = "各事件对比"
COMPARISON_HEADERS = ("步骤", "方案", "新增指令", "撤销指令", "改道", "改装载", "未变")

TIMELINE_HEADERS = (
    "步骤",
    "模拟时间",
    "分钟",
    "插入事件",
    "方案编号",
    "首个方案(秒)",
    "用时(秒)",
    "变更/新增/取消指令",
    "按时",
    "迟到",
    "未满足",
    "车辆公里",
)

#: scorecard keys in Chinese (the others are shown by their key)
SCORE_ZH = {
    "steps": "插入事件数",
    "planned_steps": "已自动调度步骤",
    "wall_s_total": "总用时(秒，墙钟)",
    "first_plan_s_max": "首个方案最长(秒)",
    "first_plan_s_mean": "首个方案平均(秒)",
    "wall_s_max": "单步最长用时(秒)",
    "orders_changed_total": "指令变动合计（变更+新增+取消）",
    "final_needs_on_time": "最终方案：按时需求项",
    "final_needs_late": "最终方案：迟到需求项",
    "final_needs_unmet": "最终方案：未满足需求项",
    "final_people_to_shelter": "最终方案：需转移人数",
    "final_people_sheltered_on_time": "最终方案：时限内安置人数",
    "final_teams_sent": "最终方案：派出队伍",
    "final_teams_on_site_on_time": "最终方案：时限内到场队伍",
    "final_served_fraction": "最终方案：物资满足率",
    "final_on_time_fraction": "最终方案：物资按时率",
    "final_vehicle_km": "最终方案：车辆公里",
    "safety_stock_used_max": "动用安全库存（单步最多）",
    "worst_needs_unmet": "未满足需求项（单步最多）",
    "note": "说明",
}


def _changes(rec: Mapping[str, Any]) -> str:
    c = rec.get("changed_orders")
    if not c:
        return "—"
    return f"{c['changed']}/{c['new']}/{c['cancelled']}"


def _num(value: Any) -> Any:
    return "—" if value is None else value


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def timeline_rows(drill: Mapping[str, Any]) -> list[list[Any]]:
    """One row per step, the baseline plan (if any) first."""
    rows = []
    steps = ([drill["baseline"]] if drill.get("baseline") else []) + list(drill["steps"])
    for r in steps:
        m = r["metrics"] if r["plan_dir"] is not None else {}
        rows.append(
            [
                r["step"],
                r["simulated_at"].replace("T", " "),
                f"{r['at_min']:g}",
                r["text"],
                _num(r.get("plan_number")),
                _secs(r.get("first_plan_s")),
                _secs(r["wall_s"]),
                _changes(r),
                _num(m.get("needs_on_time")),
                _num(m.get("needs_late")),
                _num(m.get("needs_unmet")),
                _num(m.get("vehicle_km")),
            ]
        )
    return rows


def comparison_rows(drill: Mapping[str, Any]) -> list[list[Any]]:
    """One row per compared pair of plans (drill.json ``comparison``)."""
    rows = []
    for c in drill.get("comparison") or ():
        o = c["orders"]
        rows.append(
            [
                f"{c['from_step']} → {c['to_step']}",
                " → ".join(c["plans"]),
                "、".join(o["added"]) or "—",
                "、".join(o["removed"]) or "—",
                "、".join(o["rerouted"]) or "—",
                "、".join(o["reloaded"]) or "—",
                o["unchanged"],
            ]
        )
    return rows


def map_section(
    title: str, maps: Sequence[tuple[str, OverviewLayers]], font: str, st: Mapping[str, Any]
) -> list[Any]:
    """A new page headed ``title`` and one captioned overview map per ``(caption, layers)``."""
    if not maps:
        return []
    out: list[Any] = [PageBreak(), para(title, st["h2"])]
    for caption, layers in maps:
        out.append(
            KeepTogether(
                [
                    para(caption, st["base"]),
                    overview_drawing(layers, CONTENT_W, OVERVIEW_HEIGHT, font),
                    Spacer(1, 6),
                ]
            )
        )
    return out


def incident_comparison_rows(drill: Mapping[str, Any]) -> list[list[Any]]:
    """Per compared pair of plans, one row per incident (served, on time, ETAs of both)."""
    rows = []
    for c in drill.get("comparison") or ():
        for row in incident_rows(c):
            rows.append([f"{c['from_step']} → {c['to_step']}", *row])
    return rows


def write_pdf(
    drill: Mapping[str, Any],
    path: Path,
    maps: Sequence[tuple[str, OverviewLayers]] = (),
) -> Path:
    """The report; ``maps``: one ``(caption, layers)`` per planned step (drawn after the
    tables, one map each, :func:`map_section`)."""
    font = register_font()
    st = pdf_styles(font)
    story: list[Any] = [
        para(f"演练报告：{drill['name']}", st["title"]),
        para(f"工作区 {drill['workspace']}　开始 {drill['start']}　"
           f"{'自动调度' if drill['auto'] else '未自动调度（仅列出情景状态）'}", st["base"]),
        para(f"每步求解时间 {drill['seconds_per_step']} 秒　种子 {drill['seed']}", st["base"]),
        para("演练时间线", st["h2"]),
    ]  # fmt: skip
    widths = [0.045, 0.12, 0.05, 0.2, 0.145, 0.07, 0.06, 0.09, 0.05, 0.05, 0.06, 0.06]
    story.append(
        pdf_table(
            [list(TIMELINE_HEADERS), *timeline_rows(drill)],
            [w * CONTENT_W for w in widths],
            font,
            st["cell"],
        )
    )
    story.append(para("评分表", st["h2"]))
    score = [["指标", "数值"]] + [
        [SCORE_ZH.get(k, k), _num(v)] for k, v in drill["scorecard"].items()
    ]
    story.append(pdf_table(score, [0.6 * CONTENT_W, 0.4 * CONTENT_W], font, st["cell"]))
    comparison = comparison_rows(drill)
    if comparison:
        story.append(para("方案对比（指令按车辆/队伍比对）", st["h2"]))
        cw = [0.07, 0.25, 0.18, 0.12, 0.18, 0.12, 0.08]
        story.append(
            pdf_table(
                [list(COMPARISON_HEADERS), *comparison],
                [w * CONTENT_W for w in cw],
                font,
                st["cell"],
            )
        )
    last = (drill.get("comparison") or [None])[-1]
    if last is not None:
        story.append(
            para(f"各事件：步骤 {last['from_step']} → {last['to_step']}（满足率、按时率、到达时间）", st["h2"])
        )
        story.append(
            pdf_table(
                [list(INCIDENT_HEADERS), *incident_rows(last)],
                [w * CONTENT_W for w in (0.2, 0.12, 0.12, 0.12, 0.22, 0.22)],
                font,
                st["cell"],
            )
        )
    story.append(Spacer(1, 6))
    story.append(para("说明", st["h2"]))
    story += [para(n, st["small"]) for n in drill["notes"]]
    story += map_section("各步骤地图（橙色粗线：本步相对上一方案变更的指令）", maps, font, st)
    build_pdf(story, path, font, f"演练报告 {drill['name']}")
    return path


def write_xlsx(drill: Mapping[str, Any], path: Path) -> Path:
    """``report.xlsx``: timeline, scorecard (and its notes), comparisons when there are any
    (:func:`dispatch.drills.sheets.write_sheets`)."""
    items = list(drill["scorecard"].items())
    sheets = [
        Sheet(TIMELINE_SHEET, TIMELINE_HEADERS, timeline_rows(drill)),
        Sheet(
            SCORECARD_SHEET,
            ("指标", "数值"),
            [(SCORE_ZH.get(k, k), _num(v)) for k, v in items],
            [("说明", note) for note in drill["notes"]],
        ),
    ]
    comparison = comparison_rows(drill)
    if comparison:
        sheets.append(Sheet(COMPARISON_SHEET, tuple(COMPARISON_HEADERS), comparison))
    incident_cmp = incident_comparison_rows(drill)
    if incident_cmp:
        headers = ("步骤", *INCIDENT_HEADERS)
        sheets.append(Sheet(INCIDENT_COMPARISON_SHEET, headers, incident_cmp))
    return write_sheets(sheets, path, title=f"演练报告 {drill['name']}")


__all__ = [
    "COMPARISON_SHEET",
    "INCIDENT_COMPARISON_SHEET",
    "incident_comparison_rows",
    "SCORECARD_SHEET",
    "TIMELINE_HEADERS",
    "TIMELINE_SHEET",
    "map_section",
    "write_pdf",
    "write_xlsx",
]
