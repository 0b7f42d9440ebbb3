"""English for the words and phrases that plain-Python code puts in front of people.

The plan summary (:mod:`dispatch.summary`), the exports (:mod:`dispatch.export`), the CLI and
the placement warnings (:mod:`gis.placement`) have no Qt, so they cannot use the desk's Qt
translations (a leaf module in gis/, so every layer can use it). Their Chinese texts stay the source
(orders for Chinese teams are Chinese by default); :data:`EN` gives each one its English, once.
The desk's :func:`gui.i18n.tr` falls back to this table for the same words (units, skills,
incident types, reasons), so no word has two English definitions.

``say("方案 {no}", "en", no=3)`` formats the template of the chosen language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: Languages of the outputs: the Chinese source and English.
LANGUAGES = ("zh_CN", "en")

#: Chinese source → English. Templates keep their ``{placeholders}``.
EN: dict[str, str] = {
    # units (data/materials.csv) and counting words
    "个": "pcs",
    "件": "pcs",
    "副": "pairs",
    "升": "L",
    "卷": "rolls",
    "双": "pairs",
    "台": "units",
    "块": "pcs",
    "套": "sets",
    "床": "pcs",
    "座": "units",
    "张": "pcs",
    "把": "pcs",
    "条": "pcs",
    "桶": "drums",
    "盒": "boxes",
    "箱": "cases",
    "艘": "boats",
    "部": "units",
    "顶": "pcs",
    "人": "persons",
    "辆": "vehicles",
    # material categories (data/materials.csv)
    "医疗类": "Medical",
    "抢险类": "Rescue equipment",
    "救生类": "Life-saving",
    "油料类": "Fuel",
    "照明通信类": "Lighting and communication",
    "生活类": "Living supplies",
    "防护类": "Protective",
    # standard skills (gis.vocabulary.STANDARD_SKILLS)
    "水域救援": "Water rescue",
    "山地搜救": "Mountain search and rescue",
    "危化品处置": "Hazmat response",
    "医疗救护": "Medical care",
    "电力抢修": "Power repair",
    "通信保障": "Communications",
    "道路抢通": "Road clearing",
    "森林灭火": "Forest firefighting",
    "城市搜救": "Urban search and rescue",
    "心理援助": "Psychological support",
    "后勤保障": "Logistics",
    "人员转移": "Evacuation",
    # incident types (预案 subtypes, data/plan_templates.json)
    "山洪": "Flash flood",
    "内涝": "Urban flooding",
    "滑坡": "Landslide",
    "泥石流": "Debris flow",
    "森林火灾": "Forest fire",
    "地震": "Earthquake",
    "危化品泄漏": "Hazmat leak",
    # hazard categories (dispatch.planning.stock.CATEGORY_SUBTYPE)
    "地质灾害隐患点": "Geological hazard site",
    "滑坡隐患点": "Landslide hazard site",
    "崩塌隐患点": "Rockfall hazard site",
    "泥石流隐患点": "Debris-flow hazard site",
    "尾矿库": "Tailings dam",
    "山洪危险区": "Flash-flood danger zone",
    "山洪灾害危险区": "Flash-flood danger zone",
    "内涝风险区": "Urban-flooding risk zone",
    "洪涝风险区": "Flood risk zone",
    "危化品企业": "Hazardous-chemicals plant",
    "危险化学品企业": "Hazardous-chemicals plant",
    "加油站": "Filling station",
    "森林火险区": "Forest-fire risk zone",
    "林区": "Forest area",
    "地震断裂带": "Earthquake fault zone",
    # gis.vocabulary enums the tables show
    "县级": "County",
    "乡镇": "Township",
    "村": "Village",
    "企业": "Enterprise",
    "社会": "Civil society",
    "室内": "Indoor",
    "室外": "Outdoor",
    "紧急": "Emergency",
    "短期": "Short-term",
    "长期": "Long-term",
    "村庄": "Village",
    "学校": "School",
    "工厂": "Factory",
    "其他": "Other",
    # need states and reasons (dispatch.timeliness, dispatch.results.Reason)
    "按时": "on time",
    "迟到": "late",
    "未满足": "unmet",
    "已分配但未装车": "allocated but not loaded",
    "配送车次": "delivery trips",
    "转移人员": "people to evacuate",
    # plan summary (dispatch.summary)
    "调度方案 {no}　场景：{name}　求解状态：{label}（{status}）": (
        "Dispatch plan {no}  scenario: {name}  solve status: {label} ({status})"
    ),
    "，{n} 项需求未满足": ", {n} needs unmet",
    "，{n} 项迟到（最长 {late}）": ", {n} late (worst {late})",
    "物资：满足 {served}，按时 {on_time}；人员：满足 {staff}，按时 {staff_on_time}": (
        "Materials: served {served}, on time {on_time}; staff: served {staff},"
        " on time {staff_on_time}"
    ),
    "事件": "Incident",
    "级别": "Level",
    "时限": "Limit",
    "物资满足": "Served",
    "按时送达": "On time",
    "人员满足": "Staffed",
    "人员按时": "Staff OT",
    "队伍": "Teams",
    "最长迟到": "Max late",
    "{r}级": "{r}",
    "{n}分": "{n} min",
    "{n} 分钟": "{n} min",
    "（无进行中的事件）": "(no incident in progress)",
    "避难场所补给 {n} 处": "Shelters supplied: {n}",
    "未满足或迟到 {n} 项：": "Unmet or late: {n}",
    "（共需 {n}）": " (of {n} needed)",
    "  … 另有 {n} 项，见 plan.json": "  … {n} more, see plan.json",
    "全部需求均已安排（此方案未记录是否按时）。": (
        "Every need is planned (this plan did not record timeliness)."
    ),
    "全部需求均已按时安排。": "Every need is planned on time.",
    "动用安全库存 {n} 项：": "Safety stock released: {n}",
    "（安全库存 {n} {unit}）": " (safety stock {n} {unit})",
    (
        "使用车辆 {v} 辆；指令 {o} 份（调拨单 {t}，派遣令 {d}）；转移 {p} 人"
    ): "Vehicles used {v}; orders {o} (transfers {t}, deployments {d}); evacuated {p} persons",
    "求解：": "Solve: ",
    "注意：": "Note: ",
    "迟到 {late}（时限 {limit} 分钟）": "late {late} (deadline {limit} min)",
    "迟到 {late}": "late {late}",
    "部分方案：计算被取消，未完成的部分未安排": (
        "Partial plan: the computation was cancelled, the unfinished part is not planned"
    ),
    "部分方案：计算超时，未完成的部分未安排": (
        "Partial plan: the computation timed out, the unfinished part is not planned"
    ),
    "部分方案：部分计算步骤失败，相应需求未安排": (
        "Partial plan: some computation steps failed, their needs are not planned"
    ),
    # pipeline stages (dispatch.pipeline)
    "路网与行程时间": "Road network and travel times",
    "物资分配": "Allocation",
    "队伍派遣": "Teams",
    "车辆路径": "Vehicle routing",
    "生成指令": "Orders",
    "未运行": "not run",
    "无配送任务": "no deliveries",
    # orders and the CSV export (dispatch.records.OrderKind, dispatch.orders, export/common.py)
    "调拨单": "Transfer order",
    "派遣令": "Deployment order",
    "装货": "load",
    "卸货": "unload",
    "返回": "return",
    "出发": "depart",
    "到达": "arrive",
    "指令编号": "Order no.",
    "类型": "Type",
    "单位编号": "Unit id",
    "车辆/队伍": "Vehicle/team",
    "趟次": "Trip",
    "序号": "Seq.",
    "动作": "Action",
    "地点编号": "Place id",
    "地点": "Place",
    "预计用时(分钟)": "ETA (min)",
    "预计时间": "ETA",
    "物资编码": "Item code",
    "物资": "Item",
    "单位": "Unit",
    "数量": "Quantity",
    "重量(kg)": "Weight (kg)",
    "人数": "Headcount",
    "迟到(分钟)": "Late (min)",
    "事件按时送达率": "Incident on-time share",
    "事件最长迟到(分钟)": "Incident worst lateness (min)",
    # solver progress (shown while a plan is computed: "stage：message")
    "最小费用流完成，正在减少分拆": "min-cost flow done, reducing splits",
    "整组安置方案完成，正在求精确最优": "whole-group placement found, proving the optimum",
    "疏散方案完成": "evacuation plan done",
    "已由上一方案得到完整方案，继续优化": "complete plan from the previous one, improving it",
    "路径规划完成": "routing done",
    "物资分配完成": "allocation done",
    "完成": "done",
    # incident placement warnings (gis/placement.py)
    "坐标无效：经度 {lon}，纬度 {lat}": "Invalid coordinates: longitude {lon}, latitude {lat}",
    "事发点在县界外": "The incident is outside the county",
    "{what}（{county}），调度时可能无法送达，请核对坐标": (
        "{what} ({county}); dispatch may not reach it, check the coordinates"
    ),
    "事发点距道路 {km} km（超出吸附距离）": "The incident is {km} km from a road (beyond the snap limit)",
    "{cause}：吸附距离上限 {km} km，调度时按不可达处理，请核对坐标及坐标系": (
        "{cause}: the snap limit is {km} km, dispatch treats it as unreachable; check the"
        " coordinates and their system"
    ),
    "事发点附近道路被管制/中断切断：所有储备库和队伍驻地均无法到达": (
        "Roads near the incident are closed or cut: no stockpile or team base can reach it"
    ),
    # app.py dispatch (dispatch/cli.py)
    "本次临时封闭道路 {n} 处（--close，未写入工作区）": (
        "Roads closed for this run only: {n} (--close, not written to the workspace)"
    ),
    "首个完整方案 {s} 秒": "First complete plan after {s} s",
    "用时 {s} 秒；输出：": "Took {s} s; wrote: ",
    "，": ", ",
    "无": "nothing",
    "方案 {no} 已保存到工作区 {ws}": "Plan {no} saved to the workspace {ws}",
    # Reason (dispatch.results.Reason)
    "库存不足": "Out of stock",
    "不可达": "Unreachable",
    "超出时限": "Too late",
    "无可用队伍": "No team available",
    "无可用车辆": "No vehicle available",
    "容量不足": "Over capacity",
    "计算已取消": "Computation cancelled",
    "计算超时": "Computation timed out",
    "计算失败": "Computation failed",
    # solver status labels (dispatch.results.Status.label_zh)
    "最优": "Optimal",
    "可行": "Feasible",
    "无可行解": "Infeasible",
    "超时(当前最优)": "Time limit (best so far)",
    "已取消(当前最优)": "Cancelled (best so far)",
}


def say(zh: str, language: str = "zh_CN", /, **values: Any) -> str:
    """The phrase ``zh`` in ``language``, formatted with ``values`` (unknown phrases: as is)."""
    template = EN.get(zh, zh) if language == "en" else zh
    return template.format(**values) if values else template


def word(zh: str, language: str = "zh_CN") -> str:
    """One vocabulary word (unit, skill, incident type …) in ``language``; data stays as is."""
    return EN.get(zh, zh) if language == "en" else zh


def paren(text: str, language: str = "zh_CN") -> str:
    """``text`` in brackets as the language writes them (full-width in Chinese)."""
    return f" ({text})" if language == "en" else f"（{text}）"


def words(items: Iterable[str], language: str = "zh_CN") -> str:
    """A list of words joined as the language writes it (``、`` or ``, ``)."""
    return (", " if language == "en" else "、").join(word(w, language) for w in items)


_LATE = re.compile(r"迟到 (\d+) 分钟(?:（时限 (\d+) 分钟）)?")


def reason_text(text: str, language: str, messages: Mapping[str, str] | None = None) -> str:
    """A need line's reason (parts joined by ``；``) in ``language``. ``messages`` maps the
    solvers' Chinese sentences to their English (``Unserved.message_en``) where they gave one."""
    if language != "en" or not text:
        return text
    out = []
    for part in text.split("；"):
        head, sep, rest = part.partition("：")
        if messages and messages.get(part):
            out.append(messages[part])
        elif part in EN:
            out.append(EN[part])
        elif sep and head in EN:
            out.append(f"{EN[head]}: {reason_text(rest.replace('、', '；'), language, messages)}")
        else:
            out.append(_LATE.sub(_late_en, part))
    return "; ".join(out)


def _late_en(m: re.Match[str]) -> str:
    late = f"{m.group(1)} min"
    return f"late {late} (deadline {m.group(2)} min)" if m.group(2) else f"late {late}"


__all__ = ["EN", "LANGUAGES", "paren", "reason_text", "say", "word", "words"]
