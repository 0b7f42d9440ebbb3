"""The dispatch dock's result tables: a read-only :class:`PlanTable` and the rows of a plan.

:func:`fill_plan_tables` fills the four tables of the 调度方案 dock from a
:class:`dispatch.plan.Plan`: allocation (物资分配, with the material shortfalls in red), team
assignments (队伍派遣, pinned pairs marked, skill shortfalls in red, teams arriving after the
deadline in orange with 迟到 N 分钟), vehicle routes (车辆路线, the vehicle's map colour as the
row icon) and the needs not met on time (未满足或迟到: every need line of
:func:`dispatch.timeliness.need_lines` that is not 按时, with its 状态 — 未满足 rows in red, 迟到
rows in orange — minutes late and the Chinese reason). Cells are plain text (names from data never become markup); long texts are
elided in capped columns and shown in full in the tooltip.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from dispatch.orders import clock
from dispatch.plan import Plan
from dispatch.results import Unserved
from dispatch.timeliness import (
    NeedState,
    arrival_late_s,
    incident_deadlines,
    problem_lines,
    problem_quantity,
)
from gis.model import Scenario
from gis.phrases import reason_text
from gui.i18n import current_language, tr
from gui.plan_layers import vehicle_colors

#: Background / text colours of unserved rows, background of pinned rows.
UNSERVED_BG = QColor("#fde0dc")
UNSERVED_FG = QColor("#b71c1c")
PINNED_BG = QColor("#e3f2fd")
#: Background / text colours of late rows (arrive, but after the deadline).
LATE_BG = QColor("#fff1dc")
LATE_FG = QColor("#a04000")
#: Item data roles: row kind ("line" / "unserved" / "pinned") and the row's key.
KIND_ROLE = Qt.ItemDataRole.UserRole + 11
KEY_ROLE = Qt.ItemDataRole.UserRole + 12
#: widest a result-table column starts (px); wider texts are elided, full in the tooltip
MAX_COLUMN_PX = 150

#: a table row: its cells, its kind, its key (site id, "team|incident", vehicle id)
Row = tuple[list[QTableWidgetItem], str, Any]


# ---- formatting ----------------------------------------------------------------------------------


def eta_text(plan: Plan, seconds: float | None) -> str:
    """``09:42 (+37 分钟)`` in the UI language (clock time after the plan's creation)."""
    if seconds is None:
        return ""
    return tr("{t}（+{m:.0f} 分钟）").format(t=clock(plan.created_at, seconds), m=seconds / 60)


def duration_text(seconds: float) -> str:
    """A duration in whole minutes, in the UI language (as ``dispatch.orders.format_duration``)."""
    minutes = int(round(float(seconds) / 60.0))
    if minutes < 1:
        return tr("不足 1 分钟")
    if minutes < 60:
        return tr("{m} 分钟").format(m=minutes)
    return tr("{h} 小时 {m} 分钟").format(h=minutes // 60, m=minutes % 60)


def _qty(plan: Plan, code: str, q: float) -> str:
    return f"{q:g} {plan.material_unit(code, current_language())}".strip()


def cell(text: Any, *, sort: Any = None, tip: str = "") -> QTableWidgetItem:
    """A read-only plain-text cell; ``sort`` kept as user data, ``tip`` after the full text."""
    it = QTableWidgetItem(str(text))
    it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if sort is not None:
        it.setData(Qt.ItemDataRole.UserRole, sort)
    if tip:
        # the full text first (a capped column may elide it), then the id / details
        it.setToolTip(tip if tip == str(text) else f"{text}\n{tip}")
    return it


def delivery_etas(plan: Plan) -> dict[tuple[str, str, str], float]:
    """(stockpile, site, material) → arrival of the last load of it (the delivery's ETA)."""
    out: dict[tuple[str, str, str], float] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                for code, q in s.loads.items():
                    if q > 0:
                        key = (t.depot_id, s.site_id, code)
                        out[key] = max(out.get(key, 0.0), s.arrival_s)
    return out


def material_codes(plan: Plan, scenario: Scenario | None = None) -> set[str]:
    codes = {m.code for m in plan.materials} | {ln.material for ln in plan.allocation}
    if scenario is not None:
        codes |= {m.code for m in scenario.materials}
    return codes


def skill_names(plan: Plan) -> set[str]:
    return {s for o in plan.incidents for s in o.required_skills}


# ---- the table -----------------------------------------------------------------------------------


class PlanTable(QTableWidget):
    """Read-only table with plain-text cells; rows can be marked as unserved (red)."""

    def __init__(self, headers: list[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels([tr(h) for h in headers])
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setDefaultSectionSize(22)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def fill(self, rows: list[Row]) -> None:
        """Rows of (cells, kind, key); kind ``unserved`` is highlighted (red), ``late`` in
        orange."""
        self.setSortingEnabled(False)
        self.clearContents()
        self.setRowCount(len(rows))
        for r, (cells, kind, key) in enumerate(rows):
            for c, it in enumerate(cells):
                it.setData(KIND_ROLE, kind)
                it.setData(KEY_ROLE, key)
                if kind == "unserved":
                    it.setBackground(QBrush(UNSERVED_BG))
                    it.setForeground(QBrush(UNSERVED_FG))
                elif kind == "late":
                    it.setBackground(QBrush(LATE_BG))
                    it.setForeground(QBrush(LATE_FG))
                elif kind == "pinned":
                    it.setBackground(QBrush(PINNED_BG))
                self.setItem(r, c, it)
        self.resizeColumnsToContents()
        # long place names and stop lists must not push the other columns out of the dock: cap
        # the widths (the full text is in the cell tooltip), keep at least the header readable
        header = self.horizontalHeader()
        for c in range(self.columnCount() - 1):
            if self.columnWidth(c) > MAX_COLUMN_PX:
                self.setColumnWidth(c, max(MAX_COLUMN_PX, header.sectionSizeHint(c)))
        self.setSortingEnabled(False)

    def row_kind(self, row: int) -> str:
        it = self.item(row, 0)
        return str(it.data(KIND_ROLE)) if it is not None else ""

    def row_key(self, row: int) -> Any:
        it = self.item(row, 0)
        return it.data(KEY_ROLE) if it is not None else None

    def rows_of_kind(self, kind: str) -> list[int]:
        return [r for r in range(self.rowCount()) if self.row_kind(r) == kind]

    def is_highlighted(self, row: int) -> bool:
        it = self.item(row, 0)
        return it is not None and it.background().color() == UNSERVED_BG


# ---- rows of a plan ------------------------------------------------------------------------------


def _unserved_cells(plan: Plan, u: Unserved, *, alloc: bool) -> list[QTableWidgetItem]:
    reason = tr("未满足：{r}").format(r=tr(u.reason.value))
    if alloc:
        return [
            cell(plan.place_name(u.site_id), tip=u.site_id),
            cell(plan.material_label(u.what, current_language()), tip=u.what),
            cell(_qty(plan, u.what, u.quantity), sort=u.quantity),
            cell(reason),
            cell(""),
            cell(u.message_zh, tip=u.message_zh),
        ]
    return [
        cell(tr("（缺）")),
        cell(plan.place_name(u.site_id), tip=u.site_id),
        cell(u.what),
        cell(f"{u.quantity:g}", sort=u.quantity),
        cell(reason),
        cell(u.message_zh, tip=u.message_zh),
    ]


def allocation_rows(plan: Plan, scenario: Scenario) -> list[Row]:
    """One row per allocation line, then the material shortfalls (unserved)."""
    mats = material_codes(plan, scenario)
    etas = delivery_etas(plan)
    rows: list[Row] = []
    for ln in plan.allocation:
        eta = etas.get((ln.stockpile_id, ln.site_id, ln.material))
        note = "" if eta is not None else tr("直达约 {m:.0f} 分钟").format(m=ln.travel_s / 60)
        cells = [
            cell(plan.place_name(ln.site_id), tip=ln.site_id),
            cell(plan.material_label(ln.material, current_language()), tip=ln.material),
            cell(_qty(plan, ln.material, ln.quantity), sort=ln.quantity),
            cell(plan.place_name(ln.stockpile_id), tip=ln.stockpile_id),
            cell(eta_text(plan, eta), sort=eta),
            cell(note),
        ]
        rows.append((cells, "line", ln.site_id))
    for u in plan.unserved:
        if u.what in mats:
            rows.append((_unserved_cells(plan, u, alloc=True), "unserved", u.site_id))
    return rows


def team_rows(plan: Plan, scenario: Scenario, pins: Collection[tuple[str, str]]) -> list[Row]:
    """One row per team dispatch (pinned ones marked), then the skill shortfalls (unserved)."""
    mats = material_codes(plan, scenario)
    skills = skill_names(plan)
    names = {t.id: t.name for t in scenario.teams}
    deadlines = incident_deadlines(plan)
    rows: list[Row] = []
    for a in plan.assignment:
        pinned = (a.team_id, a.incident_id) in pins
        skills_txt = tr("、").join(f"{tr(k)} {v}" for k, v in a.contributes.items()) or tr(
            "、"
        ).join(tr(s) for s in a.skills)
        late_s = arrival_late_s(deadlines.get(a.incident_id), a.eta_s)
        notes = [tr("已固定")] if pinned else []
        if late_s > 0:
            notes.append(late_text(late_s))
        cells = [
            cell(names.get(a.team_id, a.team_id), tip=a.team_id),
            cell(plan.place_name(a.incident_id), tip=a.incident_id),
            cell(skills_txt),
            cell(a.headcount, sort=a.headcount),
            cell(eta_text(plan, a.eta_s), sort=a.eta_s),
            cell("；".join(notes)),
        ]
        if late_s > 0:  # the row stays a dispatch ("line"/"pinned"): late shows in its colour
            for it in cells:
                it.setForeground(QBrush(LATE_FG))
        rows.append((cells, "pinned" if pinned else "line", f"{a.team_id}|{a.incident_id}"))
    for u in plan.unserved:
        if u.what in skills and u.what not in mats:
            rows.append((_unserved_cells(plan, u, alloc=False), "unserved", u.site_id))
    return rows


def route_rows(plan: Plan) -> list[Row]:
    """One row per vehicle used: trips, last delivery, distance, time busy, the stops."""
    colors = vehicle_colors(plan)
    by_vehicle = {o.unit_id: o for o in plan.transfer_orders}
    rows: list[Row] = []
    for r in plan.routes:
        trips = [t for t in r.trips if t.stops]
        if not trips:
            continue
        order = by_vehicle.get(r.vehicle_id)
        stops = tr("；").join(
            tr("{i}：").format(i=i) + "→".join(plan.place_name(s.site_id) for s in t.stops)
            for i, t in enumerate(trips, start=1)
        )
        last = max(s.arrival_s for t in trips for s in t.stops)
        # departure → return, as the printed order's "全程" (the route's own duration also
        # counts the wait for loading before the first departure)
        busy_s = order.total_seconds if order else r.duration_s
        first = cell(order.unit_name if order else r.vehicle_id, tip=r.vehicle_id)
        first.setData(Qt.ItemDataRole.DecorationRole, QColor(colors.get(r.vehicle_id, "#1f78b4")))
        cells = [
            first,
            cell(len(trips), sort=len(trips)),
            cell(eta_text(plan, last), sort=last),
            cell(f"{r.distance_m / 1000:.1f} km", sort=r.distance_m),
            cell(duration_text(busy_s), sort=busy_s),
            cell(stops, tip=stops),
        ]
        rows.append((cells, "line", r.vehicle_id))
    return rows


def late_text(seconds: float) -> str:
    """``迟到 12 分钟`` in the UI language ("" when not late)."""
    if seconds <= 0:
        return ""
    return tr("迟到 {m} 分钟").format(m=max(1, round(seconds / 60.0)))


def problem_rows(plan: Plan) -> list[Row]:
    """The 未满足或迟到 tab: one row per need line that is not on time (unmet rows red, late
    rows orange): 状态, place, item, quantity, minutes late, reason, explanation."""
    rows: list[Row] = []
    lang = current_language()
    messages = {u.message_zh: u.message_en for u in plan.unserved if u.message_en}
    for ln in problem_lines(plan):
        unmet = ln.state is NeedState.UNMET
        q = problem_quantity(ln)
        qty = f"{q:g} {tr(ln.unit)}".strip()
        if abs(q - ln.requested) > 1e-6:
            qty += tr("（共需 {n:g}）").format(n=ln.requested)
        records = [u for u in plan.unserved_for(ln.site_id) if u.what == ln.what]
        if not records and unmet:  # allocated, on no vehicle: why the site's visits are missing
            records = [u for u in plan.unserved_for(ln.site_id) if u.what == "visit"]
        reasons = sorted({tr(u.reason.value) for u in records})
        if not unmet:
            reasons = [tr("迟到")]
        late_min = round(ln.late_by_s / 60.0) if ln.late_by_s > 0 else None
        cells = [
            cell(tr(ln.state.value)),
            cell(ln.site_name, tip=ln.site_id),
            cell(plan.material_label(ln.what, lang), tip=ln.what),
            cell(qty, sort=q),
            cell("" if late_min is None else max(1, late_min), sort=late_min),
            cell(tr("、").join(reasons)),
            cell(reason_text(ln.reason, lang, messages), tip=ln.reason),
        ]
        rows.append((cells, "unserved" if unmet else "late", ln.site_id))
    return rows


@dataclass(frozen=True)
class PlanTables:
    """The four result tables of the dock."""

    allocation: PlanTable
    teams: PlanTable
    routes: PlanTable
    unserved: PlanTable


def incident_overview_rows(plan: Plan) -> list[Row]:
    """The 概况 tab's per-incident table (``dispatch.summary.incident_rows``): a row whose
    needs are not all met is red, one with lateness orange; numbers right-aligned."""
    from dispatch.summary import INCIDENT_COLUMNS, incident_rows

    out: list[Row] = []

    rows = incident_rows(plan, current_language())
    for o, cells in zip(plan.incidents, rows, strict=True):
        items = [cell(c, tip=c if i == 0 else "") for i, c in enumerate(cells)]
        for it, (_h, _w, right) in zip(items, INCIDENT_COLUMNS, strict=True):
            if right:
                it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        unmet = min(o.served_fraction, o.staff_fraction) < 1.0 - 1e-9
        kind = "unserved" if unmet else "late" if o.late_by_s > 0 else ""
        out.append((items, kind, o.incident_id))
    return out


def fill_plan_tables(
    tables: PlanTables,
    plan: Plan | None,
    scenario: Scenario,
    pins: Collection[tuple[str, str]] = (),
) -> None:
    """Fill the tables from ``plan`` (None empties them)."""
    if plan is None:
        for t in (tables.allocation, tables.teams, tables.routes, tables.unserved):
            t.fill([])
        return
    tables.allocation.fill(allocation_rows(plan, scenario))
    tables.teams.fill(team_rows(plan, scenario, pins))
    tables.routes.fill(route_rows(plan))
    tables.unserved.fill(problem_rows(plan))


def plan_shares_text(plan: Plan) -> str:
    """Served and on-time shares, late and unmet lines, safety stock released (translated)."""
    from dispatch.timeliness import plan_timeliness

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{100 * x:.0f}%"

    tl = plan_timeliness(plan)
    hard = plan.inputs.options.get("hard_deadlines")  # the mode the plan was made with
    mode = "" if hard is None else (tr("硬时限") if hard else tr("软时限"))
    text = tr("{mode}　").format(mode=mode) if mode else ""
    text += tr("物资满足 {s}，按时 {o}；人员满足 {ss}，按时 {so}").format(
        s=pct(tl.served_fraction),
        o=pct(tl.on_time_fraction),
        ss=pct(tl.staff_fraction),
        so=pct(tl.staff_on_time_fraction),
    )
    if tl.late_lines:
        text += tr("；迟到 {n} 项（最长 {m} 分钟）").format(
            n=tl.late_lines, m=max(1, round(tl.worst_late_s / 60))
        )
    if tl.unmet_lines:
        text += tr("；未满足 {n} 项").format(n=tl.unmet_lines)
    if plan.safety_releases:
        text += tr("；动用安全库存 {n} 项").format(n=len(plan.safety_releases))
    return text


__all__ = [
    "KEY_ROLE",
    "KIND_ROLE",
    "LATE_BG",
    "LATE_FG",
    "PINNED_BG",
    "UNSERVED_BG",
    "UNSERVED_FG",
    "PlanTable",
    "PlanTables",
    "allocation_rows",
    "delivery_etas",
    "fill_plan_tables",
    "incident_overview_rows",
    "plan_shares_text",
    "late_text",
    "material_codes",
    "problem_rows",
    "route_rows",
    "skill_names",
    "team_rows",
]
