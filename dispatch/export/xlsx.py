"""Excel workbook of a plan (openpyxl): a summary sheet 方案汇总 plus one sheet per order.

Every sheet has Chinese headers in row 1 (frozen), sensible column widths (from the text width,
CJK characters counted double) and an auto-filter. Each order sheet lists its stops/items as a
table (one row per item per stop) and, to the right, the order's details and its turn list.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dispatch.export.common import (
    ROW_FIELDS,
    clean_text,
    destinations_text,
    eta_text,
    items_text,
    order_rows,
    quantities_text,
    served_pct,
    shelter_supply,
    when_text,
)
from dispatch.orders import format_duration
from dispatch.plan import Plan
from dispatch.records import DispatchOrder

SUMMARY_SHEET = "方案汇总"
ORDER_HEADERS: tuple[str, ...] = tuple(label for _, label in ROW_FIELDS[4:])
INDEX_HEADERS: tuple[str, ...] = (
    "指令编号",
    "类型",
    "单位编号",
    "车辆/队伍",
    "出发地",
    "目的地",
    "预计到达",
    "全程(公里)",
    "用时(分钟)",
    "物资",
    "总重(kg)",
    "任务",
)
_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="E4EBF3")
_TITLE_FONT = Font(bold=True, size=12)


def _text_width(value: Any) -> int:
    s = "" if value is None else str(value)
    return sum(2 if ord(c) > 0x2E80 else 1 for c in s)


#: Longest text in a spreadsheet cell (Excel's limit is 32,767 characters).
XLSX_MAX_CHARS = 32000


def _v(value: Any) -> Any:
    """A cell value from data: text without the control characters XLSX cannot hold
    (openpyxl raises IllegalCharacterError on ESC, \x01 …), cut to Excel's cell limit."""
    return clean_text(value, XLSX_MAX_CHARS) if isinstance(value, str) else value


def _row(*values: Any) -> list[Any]:
    return [_v(x) for x in values]


def _header(ws: Worksheet, row: int, col: int, labels: Sequence[str]) -> None:
    for j, label in enumerate(labels):
        c = ws.cell(row=row, column=col + j, value=label)
        c.font = _HEAD_FONT
        c.fill = _HEAD_FILL
        c.alignment = Alignment(horizontal="center", vertical="center")


def _written(ws: Worksheet) -> Any:
    """The cells that hold something. ``ws.iter_rows()`` would create (and the file would then
    store) an empty cell at every free position of the used rectangle — on an order sheet, whose
    details sit to the right of a long table, most of the sheet."""
    return list(ws._cells.values())  # noqa: SLF001 - openpyxl keeps written cells here


def _fit_columns(ws: Worksheet, *, minimum: int = 6, maximum: int = 48) -> None:
    widths: dict[int, int] = {}
    for c in _written(ws):
        if c.value is not None:
            widths[c.column] = max(widths.get(c.column, 0), _text_width(c.value))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(minimum, min(maximum, w + 2))


def sheet_title(order: DispatchOrder) -> str:
    """Excel sheet names are ≤ 31 characters without []:*?/\\ — order numbers fit."""
    bad = set("[]:*?/\\")
    return "".join("_" if ch in bad else ch for ch in order.number)[:31]


def _summary(ws: Worksheet, plan: Plan) -> None:
    _header(ws, 1, 1, INDEX_HEADERS)
    for o in plan.orders:
        ws.append(
            _row(
                o.number,
                o.kind.value,
                o.unit_id,
                o.unit_name,
                plan.place_name(o.origin_id),
                destinations_text(plan, o),
                eta_text(plan, o.eta_s),
                round(o.total_metres / 1000, 1),
                round(o.total_seconds / 60, 1),
                items_text(o) or "—",
                round(o.total_weight_kg, 1),
                o.task,
            )
        )
    v: Any
    values: tuple[Any, ...]

    r = ws.max_row + 2
    ws.cell(row=r, column=1, value="方案信息").font = _TITLE_FONT
    info = [
        ("方案编号", plan.number),
        ("场景", plan.inputs.scenario_name),
        ("场景指纹", plan.inputs.scenario_hash),
        ("生成时间", f"{plan.created_at:%Y-%m-%d %H:%M}"),
        ("状态", plan.status.value),
        ("下达时间", when_text(plan.issued_at)),
        ("求解状态", plan.overall.label_zh),
        ("使用车辆", plan.vehicles_used),
    ]
    for k, v in info:
        r += 1
        ws.cell(row=r, column=1, value=k).font = _HEAD_FONT
        ws.cell(row=r, column=2, value=_v(v))
    r += 2
    ws.cell(row=r, column=1, value="事件保障情况").font = _TITLE_FONT
    r += 1
    _header(ws, r, 1, ("事件编号", "事件", "级别", "物资满足率", "人员满足率", "派遣队伍"))
    for inc in plan.incidents:
        r += 1
        for j, v in enumerate(
            (
                inc.incident_id,
                inc.name,
                inc.level,
                served_pct(inc.served_fraction),
                served_pct(inc.staff_fraction),
                "、".join(plan.place_name(t) for t in inc.teams),
            ),
            start=1,
        ):
            ws.cell(row=r, column=j, value=_v(v))
    r += 2
    ws.cell(row=r, column=1, value="未满足需求").font = _TITLE_FONT
    r += 1
    _header(ws, r, 1, ("地点编号", "地点", "项目编码", "项目", "缺口", "单位", "原因", "说明"))
    for u in plan.unserved:
        r += 1
        for j, v in enumerate(
            (
                u.site_id,
                plan.place_name(u.site_id),
                u.what,
                plan.material_label(u.what),
                u.quantity,
                plan.material_unit(u.what),
                u.reason.value,
                u.message_zh,
            ),
            start=1,
        ):
            ws.cell(row=r, column=j, value=_v(v))
    r += 2
    ws.cell(row=r, column=1, value="人员转移与安置").font = _TITLE_FONT
    r += 1
    _header(ws, r, 1, ("群众编号", "转移群众", "场所编号", "安置场所", "人数", "行程(分钟)"))
    for m in plan.evacuation:
        r += 1
        values = (
            m.group_id,
            plan.place_name(m.group_id),
            m.shelter_id,
            plan.place_name(m.shelter_id),
            m.people,
            round(m.travel_s / 60, 1),
        )
        for j, v in enumerate(values, start=1):
            ws.cell(row=r, column=j, value=_v(v))
    r += 2
    ws.cell(row=r, column=1, value="避难场所补给").font = _TITLE_FONT
    r += 1
    _header(ws, r, 1, ("场所编号", "避难场所", "调拨物资", "已排车送达"))
    for sid, allocated, delivered in shelter_supply(plan):
        r += 1
        values = (
            sid,
            plan.place_name(sid),
            quantities_text(plan, allocated),
            quantities_text(plan, delivered),
        )
        for j, v in enumerate(values, start=1):
            ws.cell(row=r, column=j, value=_v(v))
    r += 2
    ws.cell(row=r, column=1, value="求解过程").font = _TITLE_FONT
    r += 1
    _header(ws, r, 1, ("阶段", "求解器", "状态", "目标值", "用时(秒)"))
    for s in plan.stages:
        r += 1
        for j, v in enumerate(
            (s.stage, s.engine, s.status.label_zh, s.objective, round(s.runtime_s, 3)), start=1
        ):
            ws.cell(row=r, column=j, value=_v(v))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(INDEX_HEADERS))}{max(2, len(plan.orders) + 1)}"
    _fit_columns(ws)


def _order_sheet(ws: Worksheet, plan: Plan, order: DispatchOrder) -> None:
    keys = [k for k, _ in ROW_FIELDS[4:]]
    _header(ws, 1, 1, ORDER_HEADERS)
    rows = list(order_rows(plan, order))
    for row in rows:
        ws.append([_v(row[k]) for k in keys])
    ncols = len(keys)
    ws.auto_filter.ref = f"A1:{get_column_letter(ncols)}{max(2, len(rows) + 1)}"
    c0 = ncols + 2  # details to the right of the table
    _header(ws, 1, c0, ("项目", "内容"))
    info: list[tuple[str, Any]] = [
        ("指令", order.title),
        ("指令编号", order.number),
        ("方案编号", plan.number),
        ("状态", plan.status.value),
        ("执行单位", f"{order.unit_name}（{order.unit_id}）"),
        ("类型", order.unit_type),
        ("出发地", plan.place_name(order.origin_id)),
        ("目的地", destinations_text(plan, order)),
        ("预计到达", eta_text(plan, order.eta_s)),
        ("全程", f"{order.total_metres / 1000:.1f} 公里 / {format_duration(order.total_seconds)}"),
        ("任务", order.task),
        ("路线概要", order.route_summary()),
    ]
    if order.skills:
        info.append(("技能", "、".join(order.skills)))
    if order.headcount:
        info.append(("人数", order.headcount))
    info += [("备注", n) for n in order.notes]
    r = 1
    for k, v in info:
        r += 1
        ws.cell(row=r, column=c0, value=k).font = _HEAD_FONT
        ws.cell(row=r, column=c0 + 1, value=_v(v))
    r += 2
    _header(ws, r, c0, ("路段/道路", "距离(公里)", "用时(分钟)"))
    for li, leg in enumerate(order.legs, start=1):
        r += 1
        ws.cell(
            row=r,
            column=c0,
            value=_v(f"{li}. {plan.place_name(leg.from_id)}→{plan.place_name(leg.to_id)}"),
        ).font = _HEAD_FONT
        ws.cell(row=r, column=c0 + 1, value=round(leg.metres / 1000, 2))
        ws.cell(row=r, column=c0 + 2, value=round(leg.seconds / 60, 1))
        for step in leg.steps:
            r += 1
            ws.cell(row=r, column=c0, value=_v(f"　{step.road}"))
            ws.cell(row=r, column=c0 + 1, value=round(step.distance_m / 1000, 2))
            ws.cell(row=r, column=c0 + 2, value=round(step.seconds / 60, 1))
    ws.freeze_panes = "A2"
    _fit_columns(ws)


def export_xlsx(plan: Plan, path: Path | str) -> Path:
    """Write ``path`` (.xlsx): sheet 方案汇总 then one sheet per order (named by its number)."""
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    _summary(ws, plan)
    for order in plan.orders:
        _order_sheet(wb.create_sheet(sheet_title(order)), plan, order)
    # openpyxl stores any text starting with "=" as a formula: names from data are text only
    for sheet in wb.worksheets:
        for cell in _written(sheet):
            if cell.data_type == "f":
                cell.data_type = "s"
    wb.properties.title = _v(f"应急调度方案 {plan.number}")
    wb.properties.creator = "ReliefDesk"
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


__all__ = ["INDEX_HEADERS", "ORDER_HEADERS", "SUMMARY_SHEET", "export_xlsx", "sheet_title"]
