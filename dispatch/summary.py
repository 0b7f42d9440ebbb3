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
from dispatch.timeliness import NeedState, plan_timeliness, problem_lines
from gis.model import LEVEL_ROMAN
from gis.phrases import paren, reason_text, say, word, words


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


def safety_release_lines(plan: Plan, language: str = "zh_CN") -> list[str]:
    """One line per stockpile and material whose safety stock the plan sends out."""
    per: dict[tuple[str, str], list[SafetyStockRelease]] = {}
    for r in plan.safety_releases:
        per.setdefault((r.stockpile_id, r.material), []).append(r)
    out = []
    for (sp, code), rs in per.items():
        q = sum(r.quantity for r in rs)
        unit = plan.material_unit(code, language)
        sites = words(
            (
                plan.place_name(r.site_id)
                + paren(say("{r}级", language, r=LEVEL_ROMAN[r.level]), language)
                if r.level
                else plan.place_name(r.site_id)
                for r in rs
            ),
            language,
        )
        out.append(
            f"{plan.place_name(sp)}{paren(sp, language)}{' ' if language == 'en' else ''}"
            f"{plan.material_label(code, language)} {q:g} {unit}"
            + say("（安全库存 {n} {unit}）", language, n=f"{rs[0].safety_stock:g}", unit=unit)
            + f" → {sites}"
        )
    return out


def _minutes(seconds: float, language: str) -> str:
    """:func:`minutes_text` in ``language``."""
    n = max(1, round(seconds / 60.0)) if seconds > 0 else 0
    return say("{n} 分钟", language, n=n)


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


def incident_rows(plan: Plan, language: str = "zh_CN") -> list[tuple[str, ...]]:
    """The cells of the per-incident table (:data:`INCIDENT_COLUMNS`), one row per incident."""
    lang = language
    return [
        (
            _oneline(o.name),
            say("{r}级", lang, r=LEVEL_ROMAN[o.level]),
            "—" if o.deadline_s is None else say("{n}分", lang, n=f"{o.deadline_s / 60:.0f}"),
            _pct(o.served_fraction),
            _pct(o.on_time_fraction),
            _pct(o.staff_fraction),
            _pct(o.staff_on_time_fraction),
            str(len(o.teams)),
            _minutes(o.late_by_s, lang) if o.late_by_s > 0 else "—",
        )
        for o in plan.incidents
    ]


def _table_line(cells: tuple[str, ...]) -> str:
    return "".join(
        _pad(c, w, right=right) for c, (_h, w, right) in zip(cells, INCIDENT_COLUMNS, strict=True)
    )


def summary_text(
    plan: Plan, *, max_unserved: int = 10, incident_table: bool = True, language: str = "zh_CN"
) -> str:
    """One screen of text: per incident served and on-time %, late or unmet lines with reasons,
    safety stock released, vehicles, solvers. ``language``: ``zh_CN`` (default) or ``en``
    (:mod:`gis.phrases`; names from data stay as they are).

    ``incident_table`` False leaves out the per-incident table (text columns need a font whose
    CJK characters are exactly two Latin ones wide: the desk shows :func:`incident_rows` in a
    table widget instead)."""
    lang = language
    tl = plan_timeliness(plan)
    problems = problem_lines(plan)
    head = say(
        "调度方案 {no}　场景：{name}　求解状态：{label}（{status}）",
        lang,
        no=plan.number,
        name=_pad(plan.inputs.scenario_name, 60).rstrip(),
        label=say(plan.overall.label_zh, lang),
        status=plan.overall.value,
    )
    if plan.unserved:
        head += say("，{n} 项需求未满足", lang, n=len(plan.unserved))
    if tl.late_lines:
        head += say(
            "，{n} 项迟到（最长 {late}）",
            lang,
            n=tl.late_lines,
            late=_minutes(tl.worst_late_s, lang),
        )
    if plan.partial:
        head += f"　【{say(plan.partial_text, lang)}】"
    lines = [
        head,
        say(
            "物资：满足 {served}，按时 {on_time}；人员：满足 {staff}，按时 {staff_on_time}",
            lang,
            served=_pct(tl.served_fraction),
            on_time=_pct(tl.on_time_fraction),
            staff=_pct(tl.staff_fraction),
            staff_on_time=_pct(tl.staff_on_time_fraction),
        ),
        "",
    ]
    if incident_table:
        lines.append(_table_line(tuple(say(h, lang) for h, _w, _r in INCIDENT_COLUMNS)))
        lines += [_table_line(row) for row in incident_rows(plan, lang)]
    if not plan.incidents:
        lines.append(say("（无进行中的事件）", lang))
    supply = [p for p in plan.places if p.kind == "shelter"]
    supplied = {ln.site_id for ln in plan.allocation} & {p.id for p in supply}
    if supplied:
        lines.append(say("避难场所补给 {n} 处", lang, n=len(supplied)))
    lines.append("")
    messages = {u.message_zh: u.message_en for u in plan.unserved if u.message_en}
    if problems:
        lines.append(say("未满足或迟到 {n} 项：", lang, n=len(problems)))
        for ln in problems[:max_unserved]:
            amount = ln.unmet if ln.state is NeedState.UNMET else ln.late
            label = plan.material_label(ln.what, lang) if lang == "en" else ln.label
            unit = word(ln.unit, lang)
            reason = reason_text(_oneline(ln.reason), lang, messages)
            colon = ": " if lang == "en" else "："
            lines.append(
                f"  - [{word(ln.state.value, lang)}] {_pad(ln.site_name, 24).rstrip()}{colon}"
                f"{label} {amount:g} {unit}"
                + (
                    say("（共需 {n}）", lang, n=f"{ln.requested:g}")
                    if abs(amount - ln.requested) > 1e-6
                    else ""
                )
                + (f"{colon}{reason}" if reason else "")
            )
        if len(problems) > max_unserved:
            lines.append(say("  … 另有 {n} 项，见 plan.json", lang, n=len(problems) - max_unserved))
    elif tl.on_time_fraction is None:
        lines.append(say("全部需求均已安排（此方案未记录是否按时）。", lang))
    else:
        lines.append(say("全部需求均已按时安排。", lang))
    releases = safety_release_lines(plan, lang)
    if releases:
        lines.append(say("动用安全库存 {n} 项：", lang, n=len(releases)))
        lines += [f"  - {_oneline(x)}" for x in releases[:max_unserved]]
        if len(releases) > max_unserved:
            lines.append(say("  … 另有 {n} 项，见 plan.json", lang, n=len(releases) - max_unserved))
    lines.append(
        say(
            "使用车辆 {v} 辆；指令 {o} 份（调拨单 {t}，派遣令 {d}）；转移 {p} 人",
            lang,
            v=plan.vehicles_used,
            o=len(plan.orders),
            t=len(plan.transfer_orders),
            d=len(plan.deploy_orders),
            p=sum(m.people for m in plan.evacuation),
        )
    )
    sep = "; " if lang == "en" else "；"
    lines.append(
        say("求解：", lang)
        + sep.join(
            f"{word(s.stage, lang)} {s.status.value} {s.runtime_s:.2f}s"
            + (paren(s.engine, lang) if s.engine else "")
            for s in plan.stages
        )
    )
    for n in plan.inputs.notes[:3]:
        lines.append(say("注意：", lang) + _oneline(n))
    return "\n".join(lines)


__all__ = ["safety_release_lines", "summary_text"]
