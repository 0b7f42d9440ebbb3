"""Excel workbook of a plan (openpyxl): a summary sheet 方案汇总 (served and on-time shares per
incident and plan-wide), the needs 未满足或迟到 (one row per need line that is not on time, with
its 状态), the safety stock released 动用安全库存, then one sheet per order.

Every sheet has Chinese headers in row 1 (frozen), sensible column widths (from the text width,
CJK characters counted double) and an auto-filter. Each order sheet lists its stops/items as a
table (one row per item per stop) and, to the right, the order's details and its turn list.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from dispatch.export.common import (
    ROW_FIELDS,
    clean_text,
    destinations_text,
    duration_text,
    eta_text,
    items_text,
    level_text,
    list_sep,
    note_text,
    order_rows,
    order_title,
    quantities_text,
    road_text,
    route_summary_text,
    served_pct,
    shelter_supply,
    status_text,
    task_text,
    when_text,
)
from dispatch.plan import Plan
from dispatch.records import DispatchOrder
from dispatch.timeliness import NeedLine, plan_timeliness, problem_lines, problem_quantity
from gis.phrases import paren, reason_text, say, word, words

SUMMARY_SHEET = "方案汇总"
PROBLEMS_SHEET = "未满足或迟到"
SAFETY_SHEET = "动用安全库存"
PROBLEM_HEADERS: tuple[str, ...] = (
    "状态",
    "地点编号",
    "地点",
    "项目编码",
    "项目",
    "数量",
    "单位",
    "共需",
    "迟到(分钟)",
    "时限(分钟)",
    "原因",
)
SAFETY_HEADERS: tuple[str, ...] = (
    "储备库编号",
    "储备库",
    "物资编码",
    "物资",
    "动用数量",
    "单位",
    "该库安全库存",
    "用于编号",
    "用于",
    "响应级别",
)
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
_HEAD_ALIGN = Alignment(horizontal="center", vertical="center")


def _text_width(value: Any) -> int:
    s = "" if value is None else str(value)
    return sum(2 if ord(c) > 0x2E80 else 1 for c in s)


#: Longest text in a spreadsheet cell (Excel's limit is 32,767 characters).
XLSX_MAX_CHARS = 32000


def _v(value: Any) -> Any:
    """A cell value from data: text without the control characters XLSX cannot hold
    (openpyxl raises IllegalCharacterError on ESC, \x01 …), cut to Excel's cell limit."""
    return clean_text(value, XLSX_MAX_CHARS) if isinstance(value, str) else value


def sheet_row(*values: Any) -> list[Any]:
    """One sheet row of values from data (text cleaned and cut as :func:`_v` does)."""
    return [_v(x) for x in values]


_HEAD = "head"  # header cell: bold on a fill, centred
_KEY = "key"  # bold label
_TITLE = "title"  # section title


class _Styled:
    """A value to be written with one of the styles above."""

    __slots__ = ("style", "value")

    def __init__(self, value: Any, style: str) -> None:
        self.value = value
        self.style = style


class SheetGrid:
    """A sheet built in memory, row by row (1-based positions like openpyxl), then streamed to a
    write-only worksheet: column widths and the frozen pane must precede the first row there."""

    def __init__(self, language: str = "zh_CN") -> None:
        self.rows: list[list[Any]] = []
        self.language = language  # headers, keys and titles are written in it

    @property
    def max_row(self) -> int:
        return len(self.rows)

    def put(self, row: int, col: int, value: Any, style: str | None = None) -> None:
        rows = self.rows
        while len(rows) < row:
            rows.append([])
        cells = rows[row - 1]
        if len(cells) < col:
            cells.extend([None] * (col - len(cells)))
        cells[col - 1] = value if style is None else _Styled(value, style)

    def put_row(self, row: int, col: int, values: Sequence[Any]) -> None:
        rows = self.rows
        while len(rows) < row:
            rows.append([])
        cells = rows[row - 1]
        end = col - 1 + len(values)
        if len(cells) < end:
            cells.extend([None] * (end - len(cells)))
        cells[col - 1 : end] = values

    def header(self, row: int, col: int, labels: Sequence[str]) -> None:
        self.put_row(row, col, [_Styled(say(label, self.language), _HEAD) for label in labels])

    def key(self, zh: str) -> _Styled:
        """A bold label (Chinese source ``zh``) in the sheet's language."""
        return _Styled(say(zh, self.language), _KEY)

    def title(self, row: int, zh: str) -> None:
        self.put(row, 1, say(zh, self.language), _TITLE)

    def widths(self, *, minimum: int = 6, maximum: int = 48) -> dict[int, int]:
        """Column widths from the text width of every value (CJK counted double)."""
        widths: dict[int, int] = {}
        for cells in self.rows:
            for j, v in enumerate(cells, start=1):
                if type(v) is _Styled:
                    v = v.value
                if v is None:
                    continue
                w = _text_width(v)
                if w > widths.get(j, -1):
                    widths[j] = w
        return {j: max(minimum, min(maximum, w + 2)) for j, w in widths.items()}

    def write(self, ws: WriteOnlyWorksheet, *, filter_ref: str) -> None:
        for j, w in sorted(self.widths().items()):
            ws.column_dimensions[get_column_letter(j)].width = w
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = filter_ref
        styles = {
            _HEAD: {"font": _HEAD_FONT, "fill": _HEAD_FILL, "alignment": _HEAD_ALIGN},
            _KEY: {"font": _HEAD_FONT},
            _TITLE: {"font": _TITLE_FONT},
        }
        for cells in self.rows:
            out = cells
            for j, v in enumerate(cells):
                if type(v) is _Styled:
                    c = WriteOnlyCell(ws, value=v.value)
                    for attr, style in styles[v.style].items():
                        setattr(c, attr, style)
                elif type(v) is str and len(v) > 1 and v[0] == "=":
                    # openpyxl stores any text starting with "=" as a formula: names from data
                    # are text only
                    c = WriteOnlyCell(ws, value=v)
                    c.data_type = "s"
                else:
                    continue
                if out is cells:
                    out = list(cells)
                out[j] = c
                if c.data_type == "f":
                    c.data_type = "s"
            ws.append(out)


def sheet_title(order: DispatchOrder) -> str:
    """Excel sheet names are ≤ 31 characters without []:*?/\\ — order numbers fit."""
    bad = set("[]:*?/\\")
    return "".join("_" if ch in bad else ch for ch in order.number)[:31]


def _summary(g: SheetGrid, plan: Plan, problems: Sequence[NeedLine]) -> None:
    lang = g.language

    def t(zh: str, **values: object) -> str:
        return say(zh, lang, **values)

    g.header(1, 1, INDEX_HEADERS)
    for o in plan.orders:
        g.rows.append(
            sheet_row(
                o.number,
                word(o.kind.value, lang),
                o.unit_id,
                o.unit_name,
                plan.place_name(o.origin_id),
                destinations_text(plan, o, lang),
                eta_text(plan, o.eta_s, lang),
                round(o.total_metres / 1000, 1),
                round(o.total_seconds / 60, 1),
                items_text(o, plan, lang) or "—",
                round(o.total_weight_kg, 1),
                task_text(plan, o, lang),
            )
        )
    v: Any

    tl = plan_timeliness(plan)
    n_problems = len(problems)
    if tl.on_time_fraction is None:
        conclusion = t("全部需求均已安排（此方案未记录是否按时）。").rstrip("。")
    else:
        conclusion = t("全部需求均已按时安排。").rstrip("。")
    r = g.max_row + 2
    g.title(r, "方案信息")
    info = [
        ("方案编号", plan.number),
        ("场景", plan.inputs.scenario_name),
        ("场景指纹", plan.inputs.scenario_hash),
        ("生成时间", f"{plan.created_at:%Y-%m-%d %H:%M}"),
        ("状态", status_text(plan, lang)),
        ("下达时间", when_text(plan.issued_at, lang)),
        ("求解状态", t(plan.overall.label_zh)),
        ("使用车辆", plan.vehicles_used),
        ("物资满足(按重量)", served_pct(tl.served_fraction)),
        ("物资按时送达", served_pct(tl.on_time_fraction)),
        ("人员满足", served_pct(tl.staff_fraction)),
        ("人员按时", served_pct(tl.staff_on_time_fraction)),
        (
            "未满足或迟到",
            t("{n} 项（见工作表「{sheet}」）", n=n_problems, sheet=t(PROBLEMS_SHEET))
            if n_problems
            else conclusion,
        ),
        (
            "动用安全库存",
            t("{n} 项（见工作表「{sheet}」）", n=len(plan.safety_releases), sheet=t(SAFETY_SHEET))
            if plan.safety_releases
            else t("未动用"),
        ),
    ]
    for k, v in info:
        r += 1
        g.put_row(r, 1, [g.key(k), _v(v)])
    r += 2
    g.title(r, "事件保障情况")
    r += 1
    g.header(
        r,
        1,
        (
            "事件编号",
            "事件",
            "级别",
            "时限(分钟)",
            "物资满足率",
            "按时送达率",
            "人员满足率",
            "人员按时率",
            "最长迟到(分钟)",
            "派遣队伍",
        ),
    )
    for inc in plan.incidents:
        r += 1
        g.put_row(
            r,
            1,
            sheet_row(
                inc.incident_id,
                inc.name,
                inc.level,
                None if inc.deadline_s is None else round(inc.deadline_s / 60, 1),
                served_pct(inc.served_fraction),
                served_pct(inc.on_time_fraction),
                served_pct(inc.staff_fraction),
                served_pct(inc.staff_on_time_fraction),
                round(inc.late_by_s / 60, 1),
                list_sep(lang).join(plan.place_name(x) for x in inc.teams),
            ),
        )
    r += 2
    g.title(r, "人员转移与安置")
    r += 1
    g.header(r, 1, ("群众编号", "转移群众", "场所编号", "安置场所", "人数", "行程(分钟)"))
    for m in plan.evacuation:
        r += 1
        g.put_row(
            r,
            1,
            sheet_row(
                m.group_id,
                plan.place_name(m.group_id),
                m.shelter_id,
                plan.place_name(m.shelter_id),
                m.people,
                round(m.trip_s / 60, 1),
            ),
        )
    r += 2
    g.title(r, "避难场所补给")
    r += 1
    g.header(r, 1, ("场所编号", "避难场所", "调拨物资", "已排车送达"))
    for sid, allocated, delivered in shelter_supply(plan):
        r += 1
        g.put_row(
            r,
            1,
            sheet_row(
                sid,
                plan.place_name(sid),
                quantities_text(plan, allocated, lang),
                quantities_text(plan, delivered, lang),
            ),
        )
    r += 2
    g.title(r, "求解过程")
    r += 1
    g.header(r, 1, ("阶段", "求解器", "状态", "目标值", "用时(秒)"))
    for s in plan.stages:
        r += 1
        g.put_row(
            r,
            1,
            sheet_row(
                t(s.stage), s.engine, t(s.status.label_zh), s.objective, round(s.runtime_s, 3)
            ),
        )


def _problems(g: SheetGrid, lines: Sequence[NeedLine], plan: Plan) -> int:
    """The 未满足或迟到 sheet: one row per need line that is not on time; the number of rows."""
    lang = g.language
    en = lang == "en"
    messages = {u.message_zh: u.message_en for u in plan.unserved if u.message_en}
    g.header(1, 1, PROBLEM_HEADERS)
    for ln in lines:
        g.rows.append(
            sheet_row(
                word(ln.state.value, lang),
                ln.site_id,
                ln.site_name,
                ln.what,
                word(plan.material_label(ln.what, lang), lang) if en else ln.label,
                problem_quantity(ln),
                word(ln.unit, lang),
                ln.requested,
                round(ln.late_by_s / 60, 1) if ln.late_by_s > 0 else None,
                None if ln.deadline_s is None else round(ln.deadline_s / 60, 1),
                reason_text(ln.reason, lang, messages),
            )
        )
    return len(lines)


def _safety(g: SheetGrid, plan: Plan) -> int:
    """The 动用安全库存 sheet: one row per stockpile, material and site; the number of rows."""
    lang = g.language
    g.header(1, 1, SAFETY_HEADERS)
    for x in plan.safety_releases:
        g.rows.append(
            sheet_row(
                x.stockpile_id,
                plan.place_name(x.stockpile_id),
                x.material,
                plan.material_label(x.material, lang),
                x.quantity,
                plan.material_unit(x.material, lang),
                x.safety_stock,
                x.site_id,
                plan.place_name(x.site_id),
                level_text(x.level, lang) if x.level else "—",
            )
        )
    return len(plan.safety_releases)


def _order_sheet(g: SheetGrid, plan: Plan, order: DispatchOrder) -> int:
    """Fill ``g`` with the order's table and details; the number of table rows."""
    lang = g.language
    en = lang == "en"
    keys = [k for k, _ in ROW_FIELDS[4:]]
    g.header(1, 1, ORDER_HEADERS)
    nrows = 0
    for row in order_rows(plan, order):
        if en:  # as in plan.csv
            for k in ("kind", "action", "unit"):
                row[k] = word(row[k], lang)
            if row["material"]:
                row["material_name"] = plan.material_label(row["material"], lang)
        g.rows.append([_v(row[k]) for k in keys])
        nrows += 1
    ncols = len(keys)
    c0 = ncols + 2  # details to the right of the table
    g.header(1, c0, ("项目", "内容"))
    km = f"{order.total_metres / 1000:.1f}"
    info: list[tuple[str, Any]] = [
        ("指令", order_title(order, lang)),
        ("指令编号", order.number),
        ("方案编号", plan.number),
        ("状态", status_text(plan, lang)),
        ("执行单位", order.unit_name + paren(order.unit_id, lang)),
        ("类型", word(order.unit_type, lang)),
        ("出发地", plan.place_name(order.origin_id)),
        ("目的地", destinations_text(plan, order, lang)),
        ("预计到达", eta_text(plan, order.eta_s, lang)),
        (
            "全程",
            say("{km} 公里 / {time}", lang, km=km, time=duration_text(order.total_seconds, lang)),
        ),
        ("任务", task_text(plan, order, lang)),
        ("路线概要", route_summary_text(order, lang)),
    ]
    if order.skills:
        info.append(("技能", words(order.skills, lang)))
    if order.headcount:
        info.append(("人数", order.headcount))
    info += [("备注", note_text(n, lang)) for n in order.notes]
    r = 1
    for k, v in info:
        r += 1
        g.put_row(r, c0, [g.key(k), _v(v)])
    r += 2
    g.header(r, c0, ("路段/道路", "距离(公里)", "用时(分钟)"))
    indent = "  " if lang == "en" else "　"
    for li, leg in enumerate(order.legs, start=1):
        r += 1
        title = _v(f"{li}. {plan.place_name(leg.from_id)}→{plan.place_name(leg.to_id)}")
        g.put_row(
            r, c0, [_Styled(title, _KEY), round(leg.metres / 1000, 2), round(leg.seconds / 60, 1)]
        )
        for step in leg.steps:
            r += 1
            g.put_row(
                r,
                c0,
                [
                    _v(indent + road_text(step.road, lang)),
                    round(step.distance_m / 1000, 2),
                    round(step.seconds / 60, 1),
                ],
            )
    return nrows


def export_xlsx(plan: Plan, path: Path | str, *, language: str = "zh_CN") -> Path:
    """Write ``path`` (.xlsx): sheets 方案汇总, 未满足或迟到, 动用安全库存, then one sheet per
    order (named by its number); Chinese, or English with ``language="en"`` (sheet names,
    headers, labels and vocabulary; names from data as they are).

    openpyxl's write-only mode streams each sheet's rows (through lxml) instead of keeping a
    cell object per value: every sheet is built in memory as plain rows first (an order sheet's
    details sit to the right of its table) and then appended in order."""
    path = Path(path)
    wb = Workbook(write_only=True)
    lang = language
    g = SheetGrid(lang)
    problems = problem_lines(plan)  # the need lines, computed once for both sheets
    _summary(g, plan, problems)
    ref = f"A1:{get_column_letter(len(INDEX_HEADERS))}{max(2, len(plan.orders) + 1)}"
    g.write(wb.create_sheet(say(SUMMARY_SHEET, lang)), filter_ref=ref)
    for title, fill, headers in (
        (PROBLEMS_SHEET, lambda g: _problems(g, problems, plan), PROBLEM_HEADERS),
        (SAFETY_SHEET, lambda g: _safety(g, plan), SAFETY_HEADERS),
    ):
        g = SheetGrid(lang)
        n = fill(g)
        ref = f"A1:{get_column_letter(len(headers))}{max(2, n + 1)}"
        g.write(wb.create_sheet(say(title, lang)), filter_ref=ref)
    for order in plan.orders:
        g = SheetGrid(lang)
        n = _order_sheet(g, plan, order)
        ref = f"A1:{get_column_letter(len(ORDER_HEADERS))}{max(2, n + 1)}"
        g.write(wb.create_sheet(sheet_title(order)), filter_ref=ref)
    wb.properties.title = _v(say("应急调度方案 {no}", lang, no=plan.number))
    wb.properties.creator = "ReliefDesk"
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


__all__ = [
    "INDEX_HEADERS",
    "ORDER_HEADERS",
    "PROBLEMS_SHEET",
    "PROBLEM_HEADERS",
    "SAFETY_HEADERS",
    "SAFETY_SHEET",
    "SUMMARY_SHEET",
    "export_xlsx",
    "sheet_title",
]
