"""English for the words and phrases that plain-Python code puts in front of people.

The plan summary (:mod:`dispatch.summary`), the exports (:mod:`dispatch.export`), the CLI and
the placement warnings (:mod:`gis.placement`) have no Qt, so they cannot use the desk's Qt
translations (a leaf module in gis/, so every layer can use it). Their Chinese texts stay the source
(orders for Chinese teams are Chinese by default); :data:`EN` gives each one its English, once.
The desk's :func:`gui.i18n.tr` falls back to this table for the same words (units, skills,
incident types, reasons), so no word has two English definitions.

The services' progress messages (:data:`PROGRESS`, worded by :func:`progress_text`) and the
planner warnings of an opened workspace (:data:`LOAD_WARNINGS`, :func:`load_warning_text`) are
shown in the desk in its UI language (``gui.i18n.tr_progress``, ``gui.i18n.tr_warning``).

``say("方案 {no}", "en", no=3)`` formats the template of the chosen language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: Languages of the outputs: the Chinese source and English.
LANGUAGES = ("zh_CN", "en")

#: Progress messages of the Qt-free services (solvers, road preprocessing, planning tools),
#: shown while a desk job runs. A message is ``stage：step`` (:func:`progress_text` words each
#: part); templates with ``{placeholders}`` are matched whole (the values are kept).
PROGRESS: dict[str, str] = {
    # dispatch (the dispatch.pipeline stages are in EN: 路网与行程时间, 人员转移 …)
    "{n} 个地点": "{n} places",
    "{n} 份指令": "{n} orders",
    "最小费用流完成，正在减少分拆": "min-cost flow done, reducing splits",
    "整组安置方案完成，正在求精确最优": "whole-group placement found, proving the optimum",
    "疏散方案完成": "evacuation plan done",
    "物资 {name} 已分配": "{name} allocated",
    "物资分配完成": "allocation done",
    "已找到第 {n} 个方案，目标 {value}": "solution {n} found, objective {value}",
    "已由上一方案得到完整方案，继续优化": "complete plan from the previous one, improving it",
    "PyVRP：{depot} 路径优化": "PyVRP: optimising the routes from {depot}",
    "OR-Tools：路径优化": "OR-Tools: optimising the routes",
    "路径规划完成": "routing done",
    "完成": "done",
    # road network hierarchy (gis.matrix.engine.PREP_TEXT + gis.matrix.cch steps)
    "道路网络预处理…": "Preprocessing the road network…",
    "合并二度节点路段": "merging degree-2 road segments",
    "节点排序（{n} 个核心节点）": "ordering nodes ({n} core nodes)",
    "构建层次结构": "building the hierarchy",
    # site selection, stock and prepositioning (dispatch.planning, dispatch.warnings)
    "计算行驶时间": "computing travel times",
    "建立模型": "building the model",
    "拉格朗日松弛": "Lagrangian relaxation",
    "贪心与交换搜索": "greedy and swap search",
    "拉格朗日下界与变量固定": "Lagrangian bound and variable fixing",
    "分支定界": "branch and bound",
    "半径模型（SCIP）": "radius model (SCIP)",
    "汇总": "summarising",
    "设计事件与路网时间": "designing incidents and road travel times",
    "建立预置模型": "building the prepositioning model",
    "求解预置模型": "solving the prepositioning model",
    # relaxation search (dispatch.relax: "site：need kind", dispatch.timeliness.NeedKind)
    "{site}：物资": "{site}: materials",
    "{site}：人员": "{site}: staff",
    "{site}：转移": "{site}: evacuation",
    # desk services (gui/services, Qt-free)
    "计算覆盖…": "Computing coverage…",
    "绘制…": "Drawing…",
    "读取 {file}…": "Reading {file}…",
    "预览完成": "Preview done",
    "导出 {layer}…": "Exporting {layer}…",
}

#: The planner warnings of an opened workspace (:func:`gis.workspace.checks.validate_scenario`),
#: shown in the desk's message log; :func:`load_warning_text` words them.
LOAD_WARNINGS: dict[str, str] = {
    "储备库 {id}（{name}）没有车辆，物资无法从此处发出": (
        "Stockpile {id} ({name}) has no vehicles: no material can leave it"
    ),
    "储备库 {id}（{name}）的 {material} 库存 {stock} 低于安全库存 {safety}": (
        "Stockpile {id} ({name}): stock of {material} {stock} is below the safety stock {safety}"
    ),
    "避难场所 {id}（{name}）容量为 0": "Shelter {id} ({name}) has capacity 0",
    "避难场所 {id}（{name}）已安置 {occupancy}/{capacity} 人（{share}%），超过 90%": (
        "Shelter {id} ({name}) holds {occupancy}/{capacity} persons ({share}%), over 90%"
    ),
    "事件 {id}（{name}）需要 {material} {quantity}，但没有任何储备库存有该物资": (
        "Incident {id} ({name}) needs {material} {quantity}, but no stockpile holds it"
    ),
    "所有未结束事件共需 {material} {quantity}，全县库存只有 {stock}": (
        "The open incidents need {material} {quantity} in all; the county holds only {stock}"
    ),
    "事件 {id}（{name}）需要技能「{skill}」，但没有待命队伍具备": (
        'Incident {id} ({name}) needs the skill "{skill}", but no standby team has it'
    ),
    "需求点 {id}（{name}）所属乡镇代码 {code} 不在乡镇图层中": (
        "Demand point {id} ({name}): township code {code} is not in the townships layer"
    ),
    "乡镇 {code}（{name}）的需求点人口合计 {population} 超过乡镇人口 {total}": (
        "Township {code} ({name}): its demand points add up to {population} people, more than"
        " its population {total}"
    ),
    "储备库 {id}（{name}）位于县界之外": "Stockpile {id} ({name}) is outside the county boundary",
    "避难场所 {id}（{name}）位于县界之外": "Shelter {id} ({name}) is outside the county boundary",
    "救援队伍 {id}（{name}）位于县界之外": "Team {id} ({name}) is outside the county boundary",
    "事件 {id}（{name}）位于县界之外": "Incident {id} ({name}) is outside the county boundary",
    "需求点 {id}（{name}）位于县界之外": (
        "Demand point {id} ({name}) is outside the county boundary"
    ),
    "乡镇 {code}（{name}）驻地位于县界之外": (
        "The seat of township {code} ({name}) is outside the county boundary"
    ),
    "危险源 {id}（{name}）位于县界之外": "Hazard {id} ({name}) is outside the county boundary",
}

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
    "综合性消防救援": "Fire and rescue",
    "专业救援": "Specialist rescue",
    "医疗": "Medical",
    "民兵": "Militia",
    "社会应急力量": "Volunteer rescue",
    "基层应急队": "Local response team",
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
    # the PDF, XLSX and HTML exports (dispatch/export/)
    "应急物资调拨单": "Emergency materials transfer order",
    "救援队伍派遣令": "Rescue team deployment order",
    "应急调度方案 {no}": "Emergency dispatch plan {no}",
    "调度方案 {no}": "Dispatch plan {no}",
    "场景：{name}　　生成时间：{created}　　状态：{status}　　求解状态：{solve}": (
        "Scenario: {name}    created: {created}    status: {status}    solve status: {solve}"
    ),
    "场景指纹 SHA-256：{hash}…　{software}": "Scenario fingerprint SHA-256: {hash}…  {software}",
    "全方案：物资满足 {served}，按时送达 {on_time}；人员满足 {staff}，人员按时 {staff_on_time}": (
        "Whole plan: materials served {served}, on time {on_time}; staff served {staff},"
        " on time {staff_on_time}"
    ),
    "；迟到 {n} 项（最长 {late}）": "; late {n} (worst {late})",
    "；未满足 {n} 项": "; unmet {n}",
    "事件保障情况": "Incident coverage",
    "派遣队伍": "Teams sent",
    "{r} 级": "{r}",
    "物资满足、按时送达按重量计；人员满足、人员按时按所需人数计。": (
        "Materials served and on time are by weight; staff served and on time by the headcount"
        " needed."
    ),
    "…… 另有 {n} 起事件（按级别与满足率排在前者已列出），见 orders.xlsx 与 plan.json。": (
        "…… {n} more incidents (the most urgent by level and share served are listed), see"
        " orders.xlsx and plan.json."
    ),
    "…… 另有 {n} 项未满足或迟到的需求，见 orders.xlsx 与 plan.json。": (
        "…… {n} more needs unmet or late, see orders.xlsx and plan.json."
    ),
    "…… 另有 {n} 项安全库存动用，见 orders.xlsx 与 plan.json。": (
        "…… {n} more safety stock releases, see orders.xlsx and plan.json."
    ),
    "…… 另有 {n} 条转移安排，见 orders.xlsx 与 plan.json。": (
        "…… {n} more evacuation moves, see orders.xlsx and plan.json."
    ),
    "…… 另有 {n} 处避难场所补给，见 orders.xlsx 与 plan.json。": (
        "…… {n} more shelter supplies, see orders.xlsx and plan.json."
    ),
    "未满足或迟到的需求": "Needs unmet or late",
    "未满足或迟到": "Unmet or late",
    "状态": "Status",
    "项目": "Item",
    "内容": "Entry",
    "原因": "Reason",
    "动用安全库存": "Safety stock released",
    "储备库": "Stockpile",
    "动用数量": "Released",
    "该库安全库存": "Safety stock there",
    "用于": "For",
    "响应级别": "Response level",
    "人员转移与安置（共 {n} 人）": "Evacuation and sheltering ({n} persons)",
    "人员转移与安置": "Evacuation and sheltering",
    "转移群众": "Evacuees",
    "安置场所": "Shelter",
    "避难场所": "Shelter",
    "事发点": "Incident site",
    "队伍驻地": "Team base",
    "行程(分钟)": "Travel (min)",
    "调拨物资": "Materials allocated",
    "已排车送达": "Delivered by vehicle",
    "避难场所补给": "Shelter supply",
    "求解过程": "Solve",
    "阶段": "Stage",
    "求解器": "Solver",
    "说明": "Note",
    "用时(秒)": "Time taken (s)",
    "已证明最优": "proven optimal",
    "与下界差距 {gap}": "gap to bound {gap}",
    "指令清单（共 {n} 份，使用车辆 {v} 辆）": "Orders ({n}; vehicles used: {v})",
    "目的地": "Destination",
    "预计到达": "Arrival",
    "{clock} (+{n} 分钟)": "{clock} (+{n} min)",
    "{clock} (-{n} 分钟)": "{clock} (-{n} min)",
    "审批记录": "Approvals",
    "环节": "Step",
    "人员": "Person",
    "时间": "Time",
    "备注": "Remarks",
    "批准": "Approved",
    "作废": "Void",
    "下达": "Issued",
    "退回": "Returned to draft",
    "第 {seq} 站 {place} 预计{late}（时限 {limit} 分钟）": (
        "Stop {seq} {place}: expected {late} (deadline {limit} min)"
    ),
    "方案编号": "Plan no.",
    "执行单位": "Assigned unit",
    "出发地": "From",
    "出发时间": "Departure",
    "全程": "Total",
    "任务": "Task",
    "技能": "Skills",
    "联系人": "Contact",
    "{n} 人": "{n} persons",
    "{km} 公里 / {time}": "{km} km / {time}",
    "{n} 公里": "{n} km",
    "{n} 米": "{n} m",
    "不足 1 分钟": "under 1 min",
    "{h} 小时 {m} 分钟": "{h} h {m} min",
    "无路线几何": "No route geometry",
    "无地图数据": "No map data",
    "起 {name}": "Start {name}",
    "路线概要：{text}": "Route summary: {text}",
    "路线概要": "Route summary",
    "经 {roads}，全程 {km} 公里，约 {min} 分钟": "via {roads}, {km} km, about {min} min",
    "（无道路路径）": "(no road path)",
    "未命名道路": "Unnamed road",
    "物资清单": "Materials",
    "编码": "Code",
    "合计": "Total",
    "行程与预计时间": "Stops and expected times",
    "转向指引（同一道路已合并）": "Turn list (same road merged)",
    "路段": "Leg",
    "道路": "Roads",
    "距离": "Distance",
    "用时": "Time",
    "返回：{roads}": "Return: {roads}",
    "注：{note}": "Note: {note}",
    "签发人：": "Issued by:",
    "接收人：": "Received by:",
    "时间：": "Time:",
    "方案编号 {no}": "Plan {no}",
    "指令编号 {no}": "Order {no}",
    "状态 {status}　下达时间 {issued}": "Status {status}  issued: {issued}",
    "未下达": "not issued",
    "{software} 应急资源调度台 · 第 {page} 页 / 共 {total} 页": (
        "{software} emergency dispatch desk · page {page} of {total}"
    ),
    "{status}（部分方案）": "{status} (partial plan)",
    "草稿": "Draft",
    "已批准": "Approved",
    "已下达": "Issued",
    "执行中": "Executing",
    "已完成": "Completed",
    "已作废": "Void",
    # order tasks and notes (dispatch.orders)
    "物资调拨：{places}": "Material transfer: {places}",
    "赶赴{place}，承担{kind}处置": "Go to {place} for {kind} response",
    "应急处置": "emergency response",
    "共 {n} 趟（返回装货后再次出发）": "{n} trips (back to load, then out again)",
    "第 {seq} 站 {place} 晚于时限约 {n} 分钟送达": (
        "Stop {seq} {place} is reached about {n} min after its deadline"
    ),
    "部分路段无道路路径，按直线示意": "Some legs have no road path, drawn as straight lines",
    "预计到达晚于时限（{n} 分钟）": "Expected after the deadline ({n} min)",
    "无道路路径，按直线示意": "No road path, drawn as a straight line",
    # XLSX sheets and columns (dispatch/export/xlsx.py)
    "方案汇总": "Plan summary",
    "项目编码": "Item code",
    "共需": "Requested",
    "时限(分钟)": "Deadline (min)",
    "储备库编号": "Stockpile id",
    "用于编号": "For id",
    "全程(公里)": "Distance (km)",
    "用时(分钟)": "Time (min)",
    "总重(kg)": "Total weight (kg)",
    "方案信息": "Plan",
    "场景": "Scenario",
    "场景指纹": "Scenario fingerprint",
    "生成时间": "Created",
    "下达时间": "Issued",
    "求解状态": "Solve status",
    "使用车辆": "Vehicles used",
    "物资满足(按重量)": "Materials served (by weight)",
    "物资按时送达": "Materials on time",
    "{n} 项（见工作表「{sheet}」）": "{n} (see sheet \"{sheet}\")",
    "未动用": "none released",
    "事件编号": "Incident ID",
    "物资满足率": "Materials served",
    "按时送达率": "On time",
    "人员满足率": "Staff served",
    "人员按时率": "Staff on time",
    "最长迟到(分钟)": "Worst lateness (min)",
    "群众编号": "Group id",
    "场所编号": "Shelter id",
    "目标值": "Objective",
    "指令": "Order",
    "路段/道路": "Leg/road",
    "距离(公里)": "Distance (km)",
    # the offline HTML map (dispatch/export/html_map.py)
    "迟到 最长 {late}": "late, worst {late}",
    "（时限 {n} 分钟）": " (deadline {n} min)",
    "{kind}（{r}级）": "{kind} ({r})",
    "调度方案 ": "Dispatch plan ",
    " · 指令 ": " · orders: ",
    " 份": "",
    "ReliefDesk 离线地图（无底图）": "ReliefDesk offline map (no base map)",
    " 人，约 ": " persons, about ",
    " 分钟": " min",
    " 公里，约 ": " km, about ",
    "预计 ": "ETA ",
    " · 预计到达 ": " · arrives ",
    "物资满足率 ": "Materials served ",
    "，人员满足率 ": ", staff served ",
    "按时送达率 ": "On time ",
    "，人员按时率 ": ", staff on time ",
    "路线": "Routes",
    "停靠点": "Stops",
    "人员转移（示意直线）": "Evacuation (straight lines)",
    # solver status labels (dispatch.results.Status.label_zh)
    "最优": "Optimal",
    "可行": "Feasible",
    "无可行解": "Infeasible",
    "超时(当前最优)": "Time limit (best so far)",
    "已取消(当前最优)": "Cancelled (best so far)",
}
EN.update(PROGRESS)
EN.update(LOAD_WARNINGS)


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


_FILLED: dict[str, re.Pattern[str]] = {}


def resay(text: str, language: str, templates: Iterable[str]) -> str:
    """``text`` that one of the Chinese ``templates`` made (``"共 {n} 趟…"`` → ``"共 3 趟…"``)
    in ``language``: the values it was filled with (names from data) are kept, only the template
    changes. Text no template made: :func:`word` (as is when unknown)."""
    if language != "en" or not text:
        return text
    for template in templates:
        m = _filled(template).match(text)
        if m:
            return say(template, language, **m.groupdict())
    return word(text, language)


def _filled(template: str) -> re.Pattern[str]:
    """The pattern of ``template`` filled in: each ``{name}`` a group of that name."""
    pattern = _FILLED.get(template)
    if pattern is None:
        parts = re.split(r"\{(\w+)\}", template)
        pattern = re.compile(
            "".join(f"(?P<{x}>.+?)" if i % 2 else re.escape(x) for i, x in enumerate(parts))
            + r"\Z",
            re.S,
        )
        _FILLED[template] = pattern
    return pattern


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_PROGRESS_TEMPLATES = tuple(k for k in PROGRESS if "{" in k)
_WARNING_TEMPLATES = tuple(LOAD_WARNINGS)


def progress_text(text: str, language: str, names: Mapping[str, str] | None = None) -> str:
    """A service's progress message in ``language``.

    The message is a :data:`PROGRESS` (or :data:`EN`) phrase, one of its templates filled with
    values (kept as they are, but a value ``names`` maps — a material's Chinese name → its
    ``name_en`` — is replaced), or parts of those joined by ``：`` (``stage：step``, each part
    worded on its own) or after ``…`` (``道路网络预处理…合并二度节点路段``). Text with no Chinese
    (already worded, or a file name) and parts no phrase knows stay as they are."""
    if language != "en" or not text or not _CJK.search(text):
        return text
    if text in EN:
        return EN[text]
    head, colon, rest = text.partition("：")
    if colon and head in EN:  # a stage label first: its step is worded on its own
        return f"{EN[head]}: {progress_text(rest, language, names)}"
    for template in _PROGRESS_TEMPLATES:
        m = _filled(template).match(text)
        if m:
            values = {k: (names or {}).get(v) or v for k, v in m.groupdict().items()}
            return say(template, language, **values)
    if colon and head and rest:
        return f"{progress_text(head, language, names)}: {progress_text(rest, language, names)}"
    head, dots, rest = text.partition("…")
    if dots and rest and head + dots in EN:
        return f"{EN[head + dots]} {progress_text(rest, language, names)}"
    return text


_MATERIAL = re.compile(r"(?P<name>.+)（(?P<code>[^（）]+)）\Z", re.S)


def load_warning_text(
    text: str, language: str, material_names: Mapping[str, str] | None = None
) -> str:
    """A warning of an opened workspace in ``language``: the planner warnings
    (:data:`LOAD_WARNINGS`; names from data kept, skills worded, a material ``名称（CODE）`` as
    ``name (CODE)`` with its English name from ``material_names`` (code → ``name_en``) when it
    has one). The file warnings are English already; text no template made stays as is."""
    if language != "en" or not _CJK.search(text or ""):
        return text
    for template in _WARNING_TEMPLATES:
        m = _filled(template).match(text)
        if m is None:
            continue
        values = m.groupdict()
        if "skill" in values:
            values["skill"] = word(values["skill"], language)
        mat = _MATERIAL.match(values.get("material", ""))
        if mat:
            code = mat["code"]
            name = (material_names or {}).get(code) or mat["name"]
            values["material"] = f"{name} ({code})"
        return say(template, language, **values)
    return text


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


__all__ = [
    "EN",
    "LANGUAGES",
    "LOAD_WARNINGS",
    "PROGRESS",
    "load_warning_text",
    "paren",
    "progress_text",
    "reason_text",
    "resay",
    "say",
    "word",
    "words",
]
