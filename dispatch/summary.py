"""The plan's summary text: one screen, used by the CLI and the GUI's overview tab.

Per incident the served and on-time shares of materials and staff, the deadline and the worst
lateness, the shelters supplied, needs unmet or late with reasons (names from data on one line
each), safety stock released, vehicles and orders, solver status and time.
Columns are padded by display width (CJK characters count two).
"""

from __future__ import annotations

import unicodedata

from dispatch.plan import Plan
from dispatch.records import SafetyStockRelease
from dispatch.timeliness import NeedState, minutes_text, plan_timeliness, problem_lines
from gis.model import LEVEL_ROMAN


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _oneline(text: str) -> str:
    """``text`` with control characters (newlines... in names from data) as spaces."""
    return "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    text = _oneline(text)
    while _width(text) > width:
        text = text[:-2] + "…"
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def safety_release_lines(plan: Plan) -> list[str]:
    """One line per stockpile and material whose safety stock the plan sends out."""
    per: dict[tuple[str, str], list[SafetyStockRelease]] = {}
    for r in plan.safety_releases:
        per.setdefault((r.stockpile_id, r.material), []).append(r)
    out = []
    for (sp, code), rs in per.items():
        q = sum(r.quantity for r in rs)
        unit = plan.material_unit(code)
        sites = "、".join(
            f"{plan.place_name(r.site_id)}（{LEVEL_ROMAN[r.level]}级）"
            if r.level
            else plan.place_name(r.site_id)
            for r in rs
        )
        out.append(
            f"{plan.place_name(sp)}（{sp}）{plan.material_label(code)} {q:g} {unit}"
            f"（安全库存 {rs[0].safety_stock:g} {unit}）→ {sites}"
        )
    return out


#: The per-incident table: (header, display width in the text, right-aligned).
INCIDENT_COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("事件", 28, False),
    ("级别", 6, True),
    ("时限", 8, True),
    ("物资满足", 10, True),
    ("按时送达", 10, True),
    ("人员满足", 10, True),
    ("人员按时", 10, True),
    ("队伍", 6, True),
    ("最长迟到", 10, True),
)


def incident_rows(plan: Plan) -> list[tuple[str, ...]]:
    """The cells of the per-incident table (:data:`INCIDENT_COLUMNS`), one row per incident."""
    return [
        (
            _oneline(o.name),
            f"{LEVEL_ROMAN[o.level]}级",
            "—" if o.deadline_s is None else f"{o.deadline_s / 60:.0f}分",
            _pct(o.served_fraction),
            _pct(o.on_time_fraction),
            _pct(o.staff_fraction),
            _pct(o.staff_on_time_fraction),
            str(len(o.teams)),
            minutes_text(o.late_by_s) if o.late_by_s > 0 else "—",
        )
        for o in plan.incidents
    ]


def _table_line(cells: tuple[str, ...]) -> str:
    return "".join(
        _pad(c, w, right=right) for c, (_h, w, right) in zip(cells, INCIDENT_COLUMNS, strict=True)
    )


def summary_text(plan: Plan, *, max_unserved: int = 10, incident_table: bool = True) -> str:
    """One screen of text: per incident served and on-time %, late or unmet lines with reasons,
    safety stock released, vehicles, solvers.

    ``incident_table`` False leaves out the per-incident table (text columns need a font whose
    CJK characters are exactly two Latin ones wide: the desk shows :func:`incident_rows` in a
    table widget instead)."""
    tl = plan_timeliness(plan)
    problems = problem_lines(plan)
    head = f"调度方案 {plan.number}　场景：{_pad(plan.inputs.scenario_name, 60).rstrip()}　" + (
        f"求解状态：{plan.overall.label_zh}（{plan.overall.value}）"
    )
    if plan.unserved:
        head += f"，{len(plan.unserved)} 项需求未满足"
    if tl.late_lines:
        head += f"，{tl.late_lines} 项迟到（最长 {minutes_text(tl.worst_late_s)}）"
    if plan.partial:
        head += f"　【{plan.partial_text}】"
    lines = [
        head,
        f"物资：满足 {_pct(tl.served_fraction)}，按时 {_pct(tl.on_time_fraction)}；"
        f"人员：满足 {_pct(tl.staff_fraction)}，按时 {_pct(tl.staff_on_time_fraction)}",
        "",
    ]
    if incident_table:
        lines.append(_table_line(tuple(h for h, _w, _r in INCIDENT_COLUMNS)))
        lines += [_table_line(row) for row in incident_rows(plan)]
    if not plan.incidents:
        lines.append("（无进行中的事件）")
    supply = [p for p in plan.places if p.kind == "shelter"]
    supplied = {ln.site_id for ln in plan.allocation} & {p.id for p in supply}
    if supplied:
        lines.append(f"避难场所补给 {len(supplied)} 处")
    lines.append("")
    if problems:
        lines.append(f"未满足或迟到 {len(problems)} 项：")
        for ln in problems[:max_unserved]:
            amount = ln.unmet if ln.state is NeedState.UNMET else ln.late
            lines.append(
                f"  - [{ln.state.value}] {_pad(ln.site_name, 24).rstrip()}：{ln.label} "
                f"{amount:g} {ln.unit}"
                + (f"（共需 {ln.requested:g}）" if abs(amount - ln.requested) > 1e-6 else "")
                + (f"：{_oneline(ln.reason)}" if ln.reason else "")
            )
        if len(problems) > max_unserved:
            lines.append(f"  … 另有 {len(problems) - max_unserved} 项，见 plan.json")
    elif tl.on_time_fraction is None:
        lines.append("全部需求均已安排（此方案未记录是否按时）。")
    else:
        lines.append("全部需求均已按时安排。")
    releases = safety_release_lines(plan)
    if releases:
        lines.append(f"动用安全库存 {len(releases)} 项：")
        lines += [f"  - {_oneline(x)}" for x in releases[:max_unserved]]
        if len(releases) > max_unserved:
            lines.append(f"  … 另有 {len(releases) - max_unserved} 项，见 plan.json")
    lines.append(
        f"使用车辆 {plan.vehicles_used} 辆；指令 {len(plan.orders)} 份"
        f"（调拨单 {len(plan.transfer_orders)}，派遣令 {len(plan.deploy_orders)}）；"
        f"转移 {sum(m.people for m in plan.evacuation)} 人"
    )
    lines.append(
        "求解："
        + "；".join(
            f"{s.stage} {s.status.value} {s.runtime_s:.2f}s"
            + (f"（{s.engine}）" if s.engine else "")
            for s in plan.stages
        )
    )
    for n in plan.inputs.notes[:3]:
        lines.append(f"注意：{_oneline(n)}")
    return "\n".join(lines)


__all__ = ["safety_release_lines", "summary_text"]
