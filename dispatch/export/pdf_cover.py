"""The cover page of the orders PDF: plan summary, incidents with their served and on-time
shares (:mod:`dispatch.timeliness`), the needs 未满足或迟到 (red / orange rows), safety stock
released, evacuation, shelter supply, solver stages and approvals; "全部需求均已按时安排" only
when every need is met on time. Shared machinery: :mod:`dispatch.export.pdf_base`.
"""

from __future__ import annotations

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    Flowable,
    Paragraph,
    Spacer,
)

from dispatch.export.common import (
    destinations_text,
    eta_text,
    late_text,
    level_text,
    list_sep,
    minutes_in,
    quantities_text,
    served_pct,
    shelter_supply,
    status_text,
    stop_late_s,
)
from dispatch.export.pdf_base import (
    CONTENT_W,
    LATE_BG,
    LATE_FG,
    PDF_MAX_ROWS,
    PDF_MAX_UNSERVED,
    UNMET_BG,
    UNMET_FG,
    mark_rows,
    para,
    pdf_table,
)
from dispatch.orders import format_quantity
from dispatch.plan import Plan
from dispatch.records import StageRun
from dispatch.timeliness import (
    NeedState,
    incident_deadlines,
    plan_timeliness,
    problem_lines,
    problem_quantity,
)
from gis.phrases import reason_text, say, word


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
    return [para(say(template, language, n=total - shown), st["base"])]


_NUMERALS = "一二三四五六七八九十"


def cover_story(
    plan: Plan, st: dict[str, ParagraphStyle], font: str, lang: str = "zh_CN"
) -> list[Flowable]:
    sections = iter(_NUMERALS)
    en = lang == "en"

    def t(zh: str, **values: object) -> str:
        return say(zh, lang, **values)

    def h2(title: str) -> Paragraph:
        n = next(sections)
        return para(f"{_NUMERALS.index(n) + 1}. {title}" if en else f"{n}、{title}", st["h2"])

    def more(total: int, what: str, shown: int = PDF_MAX_ROWS) -> list[Flowable]:
        return _more(total, what, st, shown, lang)

    tl = plan_timeliness(plan)
    out: list[Flowable] = [
        para(t("应急调度方案 {no}", no=plan.number), st["title"]),
        para(
            t(
                "场景：{name}　　生成时间：{created}　　状态：{status}　　求解状态：{solve}",
                name=plan.inputs.scenario_name,
                created=f"{plan.created_at:%Y-%m-%d %H:%M}",
                status=status_text(plan, lang),
                solve=t(plan.overall.label_zh),
            ),
            st["base"],
        ),
        para(
            t(
                "场景指纹 SHA-256：{hash}…　{software}",
                hash=plan.inputs.scenario_hash[:32],
                software=plan.inputs.software,
            ),
            st["small"],
        ),
        Spacer(1, 4),
        h2(t("事件保障情况")),
        para(
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
        pdf_table(
            rows,
            [w * x for x in (0.16, 0.065, 0.085, 0.095, 0.095, 0.095, 0.095, 0.095, 0.215)],
            font,
            st["cell"],
            align_right=(2, 3, 4, 5, 6, 7),
        )
    )
    out.append(para(t("物资满足、按时送达按重量计；人员满足、人员按时按所需人数计。"), st["small"]))
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
        tbl = pdf_table(rows, [w * 0.09, w * 0.21, w * 0.12, w * 0.2, w * 0.38], font, st["cell"])
        shown = problems[:PDF_MAX_UNSERVED]
        late = [i for i, ln in enumerate(shown, 1) if ln.state is NeedState.LATE]
        unmet = [i for i, ln in enumerate(shown, 1) if ln.state is NeedState.UNMET]
        mark_rows(tbl, late, LATE_BG, LATE_FG)
        mark_rows(tbl, unmet, UNMET_BG, UNMET_FG)
        out.append(tbl)
        out += more(len(problems), "项未满足或迟到的需求", PDF_MAX_UNSERVED)
    elif tl.on_time_fraction is None:
        out.append(para(t("全部需求均已安排（此方案未记录是否按时）。"), st["base"]))
    else:
        out.append(para(t("全部需求均已按时安排。"), st["base"]))
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
            pdf_table(
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
                    f"{m.trip_s / 60:.0f}",
                ]
            )
        out.append(
            pdf_table(
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
        out.append(pdf_table(rows, [w * 0.3, w * 0.35, w * 0.35], font, st["cell"]))
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
    out.append(pdf_table(rows, [w * 0.2, w * 0.22, w * 0.22, w * 0.2, w * 0.16], font, st["cell"]))
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
    out.append(pdf_table(rows, [w * 0.24, w * 0.1, w * 0.22, w * 0.26, w * 0.18], font, st["cell"]))
    if plan.approvals:
        out.append(h2(t("审批记录")))
        rows = [[t(h) for h in ("环节", "人员", "时间", "备注")]]
        for a in plan.approvals:
            rows.append([word(a.action, lang), a.who, f"{a.when:%Y-%m-%d %H:%M}", a.note])
        out.append(pdf_table(rows, [w * 0.15, w * 0.25, w * 0.25, w * 0.35], font, st["cell"]))
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
