"""``app.py plan-stock``: recommended stock per stockpile as ``stock.json`` and ``stock.xlsx``.

Contract::

    python app.py plan-stock WS --out DIR [--radius-m 1000] [--nearest 1] [--deadline-min M]
                                          [--capacity-factor 1.5] [--seconds 20] [--pairs]

``DIR/stock.json`` keys:

* ``status`` (OPTIMAL/FEASIBLE/INFEASIBLE/TIMEOUT/CANCELLED), ``status_zh``, ``objective`` and
  ``bound`` (kg of stock, plus the shortfall penalty and the 1 % purchase tie-break — see
  :mod:`dispatch.planning.stock`), ``gap``, ``engine``, ``runtime_s``;
* ``total_kg`` (recommended stock weight), ``purchase_kg``;
* ``stockpiles``: per stockpile ``id``, ``name``, ``capacity_m3``, ``capacity_source``
  (``stated`` 库容 / ``estimated`` by the capacity factor / ``unlimited``), ``recommended_m3``,
  ``held_m3``,
  ``items`` — per item ``code``, ``name``, ``unit``, ``recommended``, ``held``, ``gap``
  (= recommended − held), ``shortage`` (缺口, > 0), ``surplus`` (富余), ``safety_stock``,
  ``below_safety``;
* ``design_incidents``: ``id``, ``hazard_id``, ``hazard_name``, ``category``, ``subtype``,
  ``level`` (I–IV), ``affected``, ``sites``, ``deadline_min``, ``needs``, ``reach`` (stockpile
  ids within the deadline), ``minutes`` (stockpile → travel minutes), ``feasible``, ``problem``;
* ``infeasible``: the designs that cannot be planned for, with ``reason``;
* ``procurement``: what to buy (``stockpile_id``, ``stockpile``, ``code``, ``name``, ``unit``,
  ``quantity``, ``weight_kg``, ``volume_m3``); ``below_safety``: items held below safety stock;
* ``rules``: ``radius_m``, ``nearest``, ``deadline_min``, ``capacity_factor``, ``pairs``
  (``--pairs``: any two design incidents at once must be served too), ``objective``;
* ``shortfalls`` (what capacity leaves uncovered), ``over_capacity`` (stockpiles holding more
  than their stated 库容: ``id``, ``name``, ``held_m3``, ``capacity_m3``), ``problems``
  (sentences), ``notes``.

``DIR/stock.xlsx``: sheets 储备建议, 采购清单, 低于安全库存, 临期物资, 设计事件, 说明 — Chinese
headers.

Bad input (bad option, no workspace, no roads, no stockpiles): exit code 2 and one line on stderr
(raised :class:`~dispatch.planning.stock.StockError` / ``WorkspaceError``), nothing written.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from dispatch.export.xlsx import SheetGrid, sheet_row
from dispatch.planning.stock import (
    DEFAULT_CAPACITY_FACTOR,
    DEFAULT_NEAREST,
    DEFAULT_RADIUS_M,
    DesignRules,
    StockError,
    StockPlan,
    StockRequest,
    plan_stock,
)
from gis.errors import WorkspaceError
from gis.model import LEVEL_ROMAN
from gis.workspace.atomic import write_json_atomically

__all__ = ["STOCK_HEADERS", "run_plan_stock_cli", "stock_json", "write_stock_xlsx"]

STOCK_HEADERS: tuple[str, ...] = (
    "储备库编号",
    "储备库",
    "物资编码",
    "物资",
    "单位",
    "建议储备",
    "现有库存",
    "差额(建议−现有)",
    "缺口",
    "富余",
    "安全库存",
    "低于安全库存",
)
PROCUREMENT_HEADERS: tuple[str, ...] = (
    "储备库编号",
    "储备库",
    "物资编码",
    "物资",
    "单位",
    "采购数量",
    "重量(kg)",
    "体积(m³)",
)
EXPIRY_HEADERS: tuple[str, ...] = (
    "储备库编号",
    "储备库",
    "物资编码",
    "物资",
    "单位",
    "库存",
    "到期日",
    "剩余天数（负数为已过期）",
)
SAFETY_HEADERS: tuple[str, ...] = (
    "储备库编号",
    "储备库",
    "物资编码",
    "物资",
    "单位",
    "现有库存",
    "安全库存",
    "差额",
)
INCIDENT_HEADERS: tuple[str, ...] = (
    "设计事件",
    "危险源编号",
    "危险源",
    "类别",
    "事件类型",
    "响应级别",
    "受影响人数",
    "时限(分钟)",
    "时限内可达储备库",
    "状态",
    "原因",
)


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 3)


def stock_json(plan: StockPlan) -> dict[str, Any]:
    today = plan.request.today or date.today()
    """The JSON document of ``stock.json`` (see module doc)."""
    mats = {m.code: m for m in plan.materials}
    info = plan.result.info
    names = dict(zip(plan.problem.stockpiles, plan.problem.stockpile_names, strict=True))
    stockpiles = []
    sources = plan.problem.capacity_source or ("estimated",) * len(plan.problem.stockpiles)
    for sid, cap, source in zip(
        plan.problem.stockpiles, plan.problem.capacity_m3, sources, strict=True
    ):
        lines = [ln for ln in plan.report.lines if ln.stockpile_id == sid]
        vol = sum(ln.recommended * mats[ln.code].unit_volume_m3 for ln in lines if ln.code in mats)
        held = sum(ln.held * mats[ln.code].unit_volume_m3 for ln in lines if ln.code in mats)
        stockpiles.append(
            {
                "id": sid,
                "name": names[sid],
                "capacity_m3": cap,
                "capacity_source": source,
                "recommended_m3": round(vol, 3),
                "held_m3": round(held, 3),
                "items": [
                    {
                        "code": ln.code,
                        "name": mats[ln.code].name_zh if ln.code in mats else ln.code,
                        "unit": mats[ln.code].unit if ln.code in mats else "",
                        "recommended": _num(ln.recommended),
                        "held": _num(ln.held),
                        "gap": _num(ln.gap),
                        "shortage": _num(ln.shortage),
                        "surplus": _num(ln.surplus),
                        "safety_stock": _num(ln.safety_stock),
                        "below_safety": ln.below_safety,
                    }
                    for ln in lines
                ],
            }
        )
    incidents = [
        {
            "id": e.id,
            "hazard_id": e.hazard_id,
            "hazard_name": e.hazard_name,
            "category": e.category,
            "subtype": e.subtype,
            "level": LEVEL_ROMAN[e.level],
            "affected": e.affected,
            "sites": list(e.sites),
            "deadline_min": e.deadline_min,
            "needs": {c: _num(q) for c, q in e.needs.items()},
            "reach": list(e.reach),
            "minutes": dict(e.minutes),
            "feasible": e.feasible,
            "problem": e.problem,
        }
        for e in plan.incidents
    ]
    procurement = [
        {
            "stockpile_id": ln.stockpile_id,
            "stockpile": ln.stockpile_name,
            "code": ln.code,
            "name": mats[ln.code].name_zh,
            "unit": mats[ln.code].unit,
            "quantity": _num(ln.shortage),
            "weight_kg": round(ln.shortage * mats[ln.code].unit_weight_kg, 3),
            "volume_m3": round(ln.shortage * mats[ln.code].unit_volume_m3, 3),
        }
        for ln in plan.report.procurement()
        if ln.code in mats
    ]
    total_kg = sum(q * mats[c].unit_weight_kg for (_s, c), q in plan.result.recommended.items())
    rules = plan.request.rules
    return {
        **info.as_json(),
        "total_kg": round(total_kg, 3),
        "purchase_kg": plan.result.purchase_kg,
        "stockpiles": stockpiles,
        "design_incidents": incidents,
        "infeasible": [
            {
                "id": e.id,
                "hazard_id": e.hazard_id,
                "hazard_name": e.hazard_name,
                "reason": e.problem,
            }
            for e in plan.incidents
            if not e.feasible
        ],
        "procurement": procurement,
        "below_safety": [
            {
                "stockpile_id": ln.stockpile_id,
                "stockpile": ln.stockpile_name,
                "code": ln.code,
                "held": _num(ln.held),
                "safety_stock": _num(ln.safety_stock),
            }
            for ln in plan.report.below_safety()
        ],
        "expiry_days": plan.request.expiry_days,
        "expiry_checked_lines": sum(1 for ln in plan.report.lines if ln.expiry is not None),
        "expiring": [
            {
                "stockpile_id": ln.stockpile_id,
                "stockpile": ln.stockpile_name,
                "code": ln.code,
                "held": _num(ln.held),
                "expiry": ln.expiry.isoformat(),
                "days_left": (ln.expiry - today).days,
            }
            for ln in plan.report.expiring(today, plan.request.expiry_days)
            if ln.expiry is not None
        ],
        "shortfalls": [
            {"incident": e, "code": c, "quantity": _num(q)} for e, c, q in plan.result.shortfalls
        ],
        "over_capacity": [
            {"id": sid, "name": names[sid], "held_m3": held, "capacity_m3": cap}
            for sid, held, cap in plan.problem.over_capacity
        ],
        "problems": [
            *plan.result.problems,
            *(
                f"储备库 {names[sid]} 现有库存 {held:g} m³ 超出库容 {cap:g} m³"
                for sid, held, cap in plan.problem.over_capacity
            ),
        ],
        "rules": {
            "radius_m": rules.radius_m,
            "nearest": rules.nearest,
            "deadline_min": rules.deadline_min,
            "capacity_factor": plan.request.capacity_factor,
            "pairs": plan.request.pairs,
            "objective": "最小化储备总重量(kg)；"
            + (
                "每个设计事件单独满足，且任意两个同时发生也能满足"
                if plan.request.pairs
                else "每个设计事件单独满足（不同时发生）"
            ),
        },
        "notes": [
            *(
                []
                if any(ln.expiry is not None for ln in plan.report.lines)
                else ["到期日：库存台账没有到期日，未能检查临期物资（导入台账时可带 到期日 列）"]
            ),
            *_capacity_notes(sources, names, plan.problem.stockpiles, plan.request),
        ],
    }


def _capacity_notes(
    sources: tuple[str, ...], names: dict[str, str], ids: tuple[str, ...], request: Any
) -> list[str]:
    """Which capacities were stated and which assumed (module doc of dispatch.planning.stock)."""
    unstated = [names[i] for i, src in zip(ids, sources, strict=True) if src != "stated"]
    if not unstated:
        return []
    return [
        f"库容：{len(unstated)} 个储备库未填库容（capacity_m3），按现有库存体积 × "
        f"{request.capacity_factor:g} 估算（空库不限）：{'、'.join(unstated[:10])}"
        + ("等" if len(unstated) > 10 else "")
    ]


def write_stock_xlsx(plan: StockPlan, doc: dict[str, Any], path: Path) -> None:
    """Five sheets (module doc); names from data stay text (the export grid's rule)."""
    wb = Workbook(write_only=True)

    def sheet(title: str, headers: tuple[str, ...], rows: list[list[Any]]) -> None:
        g = SheetGrid()
        g.header(1, 1, headers)
        g.rows.extend(rows)
        ref = f"A1:{get_column_letter(len(headers))}{max(1, len(g.rows))}"
        g.write(wb.create_sheet(title), filter_ref=ref)

    rows = []
    for sp in doc["stockpiles"]:
        for it in sp["items"]:
            rows.append(
                sheet_row(
                    sp["id"],
                    sp["name"],
                    it["code"],
                    it["name"],
                    it["unit"],
                    it["recommended"],
                    it["held"],
                    it["gap"],
                    it["shortage"],
                    it["surplus"],
                    it["safety_stock"],
                    "是" if it["below_safety"] else "",
                )
            )
    sheet("储备建议", STOCK_HEADERS, rows)
    sheet(
        "采购清单",
        PROCUREMENT_HEADERS,
        [
            sheet_row(
                p["stockpile_id"],
                p["stockpile"],
                p["code"],
                p["name"],
                p["unit"],
                p["quantity"],
                p["weight_kg"],
                p["volume_m3"],
            )
            for p in doc["procurement"]
        ],
    )
    mats = {m.code: m for m in plan.materials}
    sheet(
        "低于安全库存",
        SAFETY_HEADERS,
        [
            sheet_row(
                b["stockpile_id"],
                b["stockpile"],
                b["code"],
                mats[b["code"]].name_zh if b["code"] in mats else b["code"],
                mats[b["code"]].unit if b["code"] in mats else "",
                b["held"],
                b["safety_stock"],
                _num(b["held"] - b["safety_stock"]),
            )
            for b in doc["below_safety"]
        ],
    )
    sheet(
        "临期物资",
        EXPIRY_HEADERS,
        [
            sheet_row(
                e["stockpile_id"],
                e["stockpile"],
                e["code"],
                mats[e["code"]].name_zh if e["code"] in mats else e["code"],
                mats[e["code"]].unit if e["code"] in mats else "",
                e["held"],
                e["expiry"],
                e["days_left"],
            )
            for e in doc["expiring"]
        ],
    )
    sheet(
        "设计事件",
        INCIDENT_HEADERS,
        [
            sheet_row(
                e["id"],
                e["hazard_id"],
                e["hazard_name"],
                e["category"],
                e["subtype"] or "",
                e["level"],
                e["affected"],
                e["deadline_min"] if e["deadline_min"] else "",
                "、".join(e["reach"]),
                "可规划" if e["feasible"] else "无法满足",
                e["problem"],
            )
            for e in doc["design_incidents"]
        ],
    )
    info = [
        ("求解状态", f"{doc['status_zh']} ({doc['status']})"),
        ("目标值", doc["objective"]),
        ("下界", doc["bound"]),
        ("建议储备总重量(kg)", doc["total_kg"]),
        ("需采购重量(kg)", doc["purchase_kg"]),
        ("求解器", doc["engine"]),
        ("受影响范围(米)", doc["rules"]["radius_m"]),
        ("库容系数", doc["rules"]["capacity_factor"]),
        ("口径", doc["rules"]["objective"]),
        *[("问题", p) for p in doc["problems"]],
        *[("说明", n) for n in doc["notes"]],
    ]
    sheet("说明", ("项目", "内容"), [sheet_row(k, "" if v is None else v) for k, v in info])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        wb.save(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def run_plan_stock_cli(
    workspace: Path,
    out: Path,
    *,
    radius_m: float = DEFAULT_RADIUS_M,
    nearest: int = DEFAULT_NEAREST,
    deadline_min: float | None = None,
    capacity_factor: float = DEFAULT_CAPACITY_FACTOR,
    seconds: float = 20.0,
    pairs: bool = False,
    expiry_days: int = 90,
) -> int:
    """Compute and write ``stock.json`` and ``stock.xlsx``; returns the exit code."""
    from gis.loading import load_road_network, open_workspace

    if not (isinstance(expiry_days, int) and 0 <= expiry_days <= 3650):
        raise StockError(
            f"--expiry-days must be a whole number of days 0–3650, got {expiry_days!r}"
        )
    request = StockRequest(
        DesignRules(radius_m, nearest, deadline_min),
        capacity_factor,
        seconds,
        pairs,
        expiry_days=expiry_days,
    )
    request.rules.check()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WorkspaceError("output exists and is not a folder", path=str(out))
    ws = open_workspace(workspace)
    network = load_road_network(workspace, ws.scenario)
    if network is None:
        raise WorkspaceError(
            "workspace has no road network (run import-osm first)", path=str(workspace)
        )
    plan = plan_stock(ws.scenario, network, request)
    doc = stock_json(plan)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out / "stock.json", doc, indent=1)
    write_stock_xlsx(plan, doc, out / "stock.xlsx")
    print(
        f"wrote {out / 'stock.json'} and stock.xlsx: {doc['status']}, "
        f"{len(plan.incidents)} design incident(s) ({len(doc['infeasible'])} infeasible), "
        f"recommended {doc['total_kg']:,.0f} kg, to buy {len(doc['procurement'])} line(s)",
        file=sys.stderr,
    )
    return 0
