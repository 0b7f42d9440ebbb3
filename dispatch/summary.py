"""The plan's summary text: one screen, used by the CLI and the GUI's overview tab.

Per incident the served share of materials and staff, the shelters supplied, unserved needs
with reasons (names from data on one line each), vehicles and orders, solver status and time.
Columns are padded by display width (CJK characters count two).
"""

from __future__ import annotations

import unicodedata

from dispatch.plan import Plan


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


def summary_text(plan: Plan, *, max_unserved: int = 10) -> str:
    """One screen of text: per incident served %, unserved with reasons, vehicles, solvers."""
    lines = [
        f"调度方案 {plan.number}　场景：{_pad(plan.inputs.scenario_name, 60).rstrip()}　"
        f"求解状态：{plan.overall.label_zh}（{plan.overall.value}）"
        + (f"，{len(plan.unserved)} 项需求未满足" if plan.unserved else "")
        + (f"　【{plan.partial_text}】" if plan.partial else ""),
        "",
        _pad("事件", 30)
        + _pad("级别", 6, right=True)
        + _pad("物资满足率", 12, right=True)
        + _pad("人员满足率", 12, right=True)
        + _pad("队伍", 6, right=True),
    ]
    for o in plan.incidents:
        lines.append(
            _pad(o.name, 30)
            + _pad(f"{o.level}级", 6, right=True)
            + _pad(f"{100 * o.served_fraction:.0f}%", 12, right=True)
            + _pad(f"{100 * o.staff_fraction:.0f}%", 12, right=True)
            + _pad(str(len(o.teams)), 6, right=True)
        )
    if not plan.incidents:
        lines.append("（无进行中的事件）")
    supply = [p for p in plan.places if p.kind == "shelter"]
    supplied = {ln.site_id for ln in plan.allocation} & {p.id for p in supply}
    if supplied:
        lines.append(f"避难场所补给 {len(supplied)} 处")
    lines.append("")
    if plan.unserved:
        lines.append(f"未满足需求 {len(plan.unserved)} 项：")
        for u in plan.unserved[:max_unserved]:
            where = plan.place_name(u.site_id) if u.site_id else ""
            where = "" if not where or where in u.message_zh else f"{_pad(where, 24).rstrip()}："
            lines.append(f"  - [{u.reason.value}] {where}{_oneline(u.message_zh)}")
        if len(plan.unserved) > max_unserved:
            lines.append(f"  … 另有 {len(plan.unserved) - max_unserved} 项，见 plan.json")
    else:
        lines.append("全部需求均已安排。")
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


__all__ = ["summary_text"]
