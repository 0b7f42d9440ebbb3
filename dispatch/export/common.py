"""Small helpers shared by the exporters: labels, times and per-order rows."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from dispatch.orders import clock, format_quantity
from dispatch.plan import Plan
from dispatch.records import DispatchOrder, OrderKind, OrderStop
from dispatch.timeliness import (
    arrival_late_s,
    minutes_text,
)
from gis.map_style import route_color

KIND_LABEL = {
    "stockpile": "储备库",
    "incident": "事发点",
    "shelter": "避难场所",
    "team": "队伍驻地",
    "group": "转移群众",
}


#: Longest text from data put into one table cell of an export (PDF cells cannot grow past a
#: page; spreadsheet cells hold 32,767 characters): longer names are cut with "…".
CELL_MAX_CHARS = 120


def clean_text(text: object, limit: int | None = None) -> str:
    """``text`` safe for any export: control and format characters (ESC, ``\x01``, newlines,
    bidi overrides …) become spaces and it is cut to ``limit``
    characters with "…". Exports never trust the model to have done this."""
    s = str(text)
    if s.isprintable() and (limit is None or len(s) <= limit):  # the usual case, C-fast
        return s
    s = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") else c
        for c in s
    )
    if limit is not None and len(s) > limit:
        s = s[: max(1, limit - 1)] + "…"
    return s


def when_text(t: datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M}" if t is not None else "未下达"


def eta_text(plan: Plan, seconds: float) -> str:
    """``09:42 (+37 分钟)``."""
    return f"{clock(plan.created_at, seconds)} (+{seconds / 60:.0f} 分钟)"


def destinations_text(plan: Plan, order: DispatchOrder) -> str:
    return "、".join(plan.place_name(d) for d in order.destination_ids)


#: the order stops that arrive at a site to serve it (a deadline applies to them)
ARRIVAL_ACTIONS = ("卸货", "到达")


def stop_late_s(deadlines: dict[str, float], stop: OrderStop) -> float:
    """How late ``stop`` arrives against its incident's deadline (0: on time, or not an
    arrival at an incident); ``deadlines`` from :func:`dispatch.timeliness.incident_deadlines`."""
    if stop.action not in ARRIVAL_ACTIONS:
        return 0.0
    return arrival_late_s(deadlines.get(stop.place_id), stop.eta_s)


def late_text(late_s: float) -> str:
    """``迟到 12 分钟`` ("" when on time)."""
    return f"迟到 {minutes_text(late_s)}" if late_s > 0 else ""


def order_rows(
    plan: Plan, order: DispatchOrder, deadlines: dict[str, float] | None = None
) -> Iterator[dict[str, Any]]:
    """One row per item per stop (or one row per stop without items): the CSV/XLSX body.
    With ``deadlines`` (:func:`dispatch.timeliness.incident_deadlines`) each row also has
    ``late_min``: how many minutes after its incident's deadline the stop arrives ("" on time)."""
    for stop in order.stops:
        base = {
            "order_no": order.number,
            "kind": order.kind.value,
            "unit_id": order.unit_id,
            "unit_name": order.unit_name,
            "trip": stop.trip,
            "seq": stop.seq,
            "action": stop.action,
            "place_id": stop.place_id,
            "place_name": stop.place_name,
            "eta_min": round(stop.eta_s / 60.0, 1),
            "eta_time": clock(plan.created_at, stop.eta_s),
        }
        if deadlines is not None:
            late = stop_late_s(deadlines, stop)
            base["late_min"] = round(late / 60.0, 1) if late > 0 else ""
        if stop.items:
            for it in stop.items:
                yield {
                    **base,
                    "material": it.material,
                    "material_name": it.name,
                    "unit": it.unit,
                    "quantity": it.quantity,
                    "weight_kg": it.weight_kg,
                    "headcount": "",
                }
        else:
            yield {
                **base,
                "material": "",
                "material_name": "",
                "unit": "",
                "quantity": "",
                "weight_kg": "",
                "headcount": order.headcount if order.kind == OrderKind.DEPLOY else "",
            }


ROW_FIELDS: tuple[tuple[str, str], ...] = (
    ("order_no", "指令编号"),
    ("kind", "类型"),
    ("unit_id", "单位编号"),
    ("unit_name", "车辆/队伍"),
    ("trip", "趟次"),
    ("seq", "序号"),
    ("action", "动作"),
    ("place_id", "地点编号"),
    ("place_name", "地点"),
    ("eta_min", "预计用时(分钟)"),
    ("eta_time", "预计时间"),
    ("material", "物资编码"),
    ("material_name", "物资"),
    ("unit", "单位"),
    ("quantity", "数量"),
    ("weight_kg", "重量(kg)"),
    ("headcount", "人数"),
)


def items_text(order: DispatchOrder) -> str:
    return "、".join(f"{i.name} {format_quantity(i.quantity)}{i.unit}" for i in order.items)


def served_pct(fraction: float | None) -> str:
    """``87%``; ``—`` for a share a plan did not record (on-time shares of older plans)."""
    return "—" if fraction is None else f"{100.0 * fraction:.0f}%"


def quantities_text(plan: Plan, quantities: dict[str, float]) -> str:
    return "、".join(
        f"{plan.material_label(c)} {format_quantity(q)}{plan.material_unit(c)}"
        for c, q in sorted(quantities.items())
        if q > 0
    )


def shelter_supply(plan: Plan) -> list[tuple[str, dict[str, float], dict[str, float]]]:
    """(shelter id, allocated, delivered) for every shelter the plan supplies."""
    shelters = {p.id for p in plan.places if p.kind == "shelter"}
    allocated: dict[str, dict[str, float]] = {}
    for ln in plan.allocation:
        if ln.site_id in shelters:
            d = allocated.setdefault(ln.site_id, {})
            d[ln.material] = d.get(ln.material, 0.0) + ln.quantity
    delivered: dict[str, dict[str, float]] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                if s.site_id in shelters:
                    d = delivered.setdefault(s.site_id, {})
                    for k, v in s.loads.items():
                        d[k] = d.get(k, 0.0) + v
    return [(sid, allocated[sid], delivered.get(sid, {})) for sid in sorted(allocated)]


def vehicle_colors(plan: Plan) -> dict[str, str]:
    """Vehicle id → route colour (:func:`gis.map_style.route_color`), in the order of the plan's
    transfer orders (stable per plan): the desk's map and tables and the HTML map agree."""
    out: dict[str, str] = {}
    for o in plan.transfer_orders:
        if o.unit_id not in out:
            out[o.unit_id] = route_color(len(out))
    for r in plan.routes:
        if r.vehicle_id not in out and any(t.stops for t in r.trips):
            out[r.vehicle_id] = route_color(len(out))
    return out
