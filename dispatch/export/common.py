"""Small helpers shared by the exporters: labels, times and per-order rows.

Each text helper takes the export's ``language`` (``zh_CN``, the default, or ``en``:
:mod:`gis.phrases`); names from data stay as they are in both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from dispatch.orders import clock, format_quantity
from dispatch.plan import Plan
from dispatch.records import DispatchOrder, OrderKind, OrderStop
from dispatch.timeliness import arrival_late_s
from gis.map_style import route_color
from gis.model import LEVEL_ROMAN
from gis.phrases import resay, say, word

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


def when_text(t: datetime | None, language: str = "zh_CN") -> str:
    return f"{t:%Y-%m-%d %H:%M}" if t is not None else say("未下达", language)


def eta_text(plan: Plan, seconds: float, language: str = "zh_CN") -> str:
    """``09:42 (+37 分钟)``; before the plan's time (a team kept on site in a drill re-plan)
    ``09:51 (-9 分钟)``."""
    return say(
        "{clock} (-{n} 分钟)" if seconds < -30 else "{clock} (+{n} 分钟)",
        language,
        clock=clock(plan.created_at, seconds),
        n=f"{abs(seconds) / 60:.0f}",
    )


def list_sep(language: str = "zh_CN") -> str:
    """The separator of a list of names: ``、`` or ``, ``."""
    return ", " if language == "en" else "、"


def destinations_text(plan: Plan, order: DispatchOrder, language: str = "zh_CN") -> str:
    return list_sep(language).join(plan.place_name(d) for d in order.destination_ids)


def minutes_in(seconds: float, language: str = "zh_CN") -> str:
    """:func:`dispatch.timeliness.minutes_text` in ``language``."""
    return say("{n} 分钟", language, n=max(1, round(seconds / 60.0)) if seconds > 0 else 0)


def duration_text(seconds: float, language: str = "zh_CN") -> str:
    """:func:`dispatch.orders.format_duration` in ``language``."""
    minutes = int(round(float(seconds) / 60.0))
    if minutes < 1:
        return say("不足 1 分钟", language)
    if minutes < 60:
        return say("{n} 分钟", language, n=minutes)
    return say("{h} 小时 {m} 分钟", language, h=minutes // 60, m=minutes % 60)


def distance_text(metres: float, language: str = "zh_CN") -> str:
    """:func:`dispatch.orders.format_distance` in ``language``."""
    if metres >= 1000:
        return say("{n} 公里", language, n=f"{metres / 1000:.1f}")
    return say("{n} 米", language, n=f"{metres:.0f}")


def level_text(level: object, language: str = "zh_CN") -> str:
    """``II 级`` (English: ``II``)."""
    return say("{r} 级", language, r=LEVEL_ROMAN.get(level, level))  # type: ignore[call-overload]


def status_text(plan: Plan, language: str = "zh_CN") -> str:
    """:attr:`Plan.status_label` in ``language``."""
    if language != "en":
        return plan.status_label
    status = word(plan.status.value, language)
    return say("{status}（部分方案）", language, status=status) if plan.partial else status


def order_title(order: DispatchOrder, language: str = "zh_CN") -> str:
    return say(order.title, language)


def road_text(road: str, language: str = "zh_CN") -> str:
    """A road of a turn list: its name from data, or 未命名道路 in ``language``."""
    return word(road, language) if road == "未命名道路" else road


#: the notes :mod:`dispatch.orders` writes on an order (templates of :data:`gis.phrases.EN`)
NOTE_TEMPLATES = (
    "共 {n} 趟（返回装货后再次出发）",
    "第 {seq} 站 {place} 晚于时限约 {n} 分钟送达",
    "部分路段无道路路径，按直线示意",
    "预计到达晚于时限（{n} 分钟）",
    "无道路路径，按直线示意",
)


def note_text(note: str, language: str = "zh_CN") -> str:
    return resay(note, language, NOTE_TEMPLATES)


_DEPLOY_TASK = re.compile(
    r"赶赴(?P<place>.*)，承担(?P<kind>.*?)(?:（(?P<skills>[^（]*)）)?\Z", re.S
)


def task_text(plan: Plan, order: DispatchOrder, language: str = "zh_CN") -> str:
    """The order's task (:mod:`dispatch.orders` writes it in Chinese) in ``language``."""
    if language != "en" or not order.task:
        return order.task
    if order.kind == OrderKind.TRANSFER:
        return say("物资调拨：{places}", language, places=destinations_text(plan, order, language))
    m = _DEPLOY_TASK.match(order.task)
    if m is None:
        return order.task
    kind = m["kind"]
    kind = word(kind[: -len("处置")], language) if kind.endswith("处置") else word(kind, language)
    text = say("赶赴{place}，承担{kind}处置", language, place=m["place"], kind=kind)
    skills = order.skills or tuple(filter(None, (m["skills"] or "").split("、")))
    return text + (f" ({', '.join(word(x, language) for x in skills)})" if skills else "")


def route_summary_text(order: DispatchOrder, language: str = "zh_CN") -> str:
    """:meth:`DispatchOrder.route_summary` in ``language``."""
    if language != "en":
        return order.route_summary()
    roads = "→".join(road_text(r, language) for r in order.main_roads())
    return say(
        "经 {roads}，全程 {km} 公里，约 {min} 分钟",
        language,
        roads=roads or say("（无道路路径）", language),
        km=f"{order.total_metres / 1000:.1f}",
        min=f"{order.total_seconds / 60:.0f}",
    )


#: the order stops that arrive at a site to serve it (a deadline applies to them)
ARRIVAL_ACTIONS = ("卸货", "到达")


def stop_late_s(deadlines: dict[str, float], stop: OrderStop) -> float:
    """How late ``stop`` arrives against its incident's deadline (0: on time, or not an
    arrival at an incident); ``deadlines`` from :func:`dispatch.timeliness.incident_deadlines`."""
    if stop.action not in ARRIVAL_ACTIONS:
        return 0.0
    return arrival_late_s(deadlines.get(stop.place_id), stop.eta_s)


def late_text(late_s: float, language: str = "zh_CN") -> str:
    """``迟到 12 分钟`` ("" when on time)."""
    return say("迟到 {late}", language, late=minutes_in(late_s, language)) if late_s > 0 else ""


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


def item_text(plan: Plan, item: Any, language: str = "zh_CN") -> str:
    """``大米 20袋`` (English: the catalogue's name, ``rice 20 bags``)."""
    if language != "en":
        return f"{item.name} {format_quantity(item.quantity)}{item.unit}"
    name = plan.material_label(item.material, language) if item.material else item.name
    return f"{name} {format_quantity(item.quantity)} {word(item.unit, language)}"


def items_text(order: DispatchOrder, plan: Plan | None = None, language: str = "zh_CN") -> str:
    if plan is None or language != "en":
        return "、".join(f"{i.name} {format_quantity(i.quantity)}{i.unit}" for i in order.items)
    return ", ".join(item_text(plan, i, language) for i in order.items)


def served_pct(fraction: float | None) -> str:
    """``87%``; ``—`` for a share a plan did not record (on-time shares of older plans)."""
    return "—" if fraction is None else f"{100.0 * fraction:.0f}%"


def quantities_text(plan: Plan, quantities: dict[str, float], language: str = "zh_CN") -> str:
    gap = " " if language == "en" else ""
    return list_sep(language).join(
        f"{plan.material_label(c, language)} {format_quantity(q)}{gap}"
        f"{plan.material_unit(c, language)}"
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
