"""How much to hold (dispatch/planning/stock.py) and ``app.py plan-stock`` on the demo county.

The recommended stock is checked independently: reach from an scipy Dijkstra over the road
arrays (not the engine), and per design incident a max-flow from the recommended quantities
to the incident's needs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook
from pyproj import Geod
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow
from shapely.geometry import Point

from dispatch.planning.stock import (
    DEFAULT_RADIUS_M,
    DesignRules,
    StockRequest,
    plan_stock,
)
from dispatch.results import Status
from gis.catalogue import load_plan_templates, template_needs
from gis.model import Hazard
from tests.test_coverage import one_line_error, oracle_seconds


@pytest.fixture(scope="module")
def plan(demo_scenario: Any, demo_network: Any) -> Any:
    return plan_stock(demo_scenario, demo_network, StockRequest())


def served_at_once(incidents: list[Any], rec: Any, stockpiles: list[str]) -> bool:
    """Max-flow: source → (stockpile, item) [recommended] → (incident, item) [∞ if the stockpile
    reaches the incident in time] → sink [need]; True when every need is met together."""
    codes = sorted({c for e in incidents for c in e.needs})
    node: dict[Any, int] = {"src": 0}
    for key in [(s, c) for s in stockpiles for c in codes] + [
        (e.id, c) for e in incidents for c in e.needs
    ]:
        node[key] = len(node)
    sink = len(node)
    arcs = []
    for s in stockpiles:
        for c in codes:
            arcs.append((0, node[(s, c)], round(rec.get((s, c), 0.0) * 1000)))
    for e in incidents:
        for c, need in e.needs.items():
            arcs.append((node[(e.id, c)], sink, round(need * 1000)))
            for s in e.reach:
                arcs.append((node[(s, c)], node[(e.id, c)], 2**31 - 1))
    u, v, cap = zip(*arcs, strict=True)
    g = csr_matrix((np.array(cap, dtype=np.int32), (u, v)), shape=(sink + 1, sink + 1))
    want = sum(round(q * 1000) for e in incidents for q in e.needs.values())
    return bool(maximum_flow(g, 0, sink).flow_value == want)


def test_design_incidents_follow_the_hazards_and_templates(plan: Any, demo_scenario: Any) -> None:
    templates = load_plan_templates()
    by_hazard = {e.hazard_id: e for e in plan.incidents}
    assert set(by_hazard) == {h.id for h in demo_scenario.hazards}
    assert {
        k: by_hazard[k].subtype for k in ("HZ-001", "HZ-004", "HZ-005", "HZ-006", "HZ-007")
    } == {
        "HZ-001": "滑坡",  # 地质灾害隐患点
        "HZ-004": "泥石流",  # named in 车辋镇泥石流隐患沟
        "HZ-005": "山洪",
        "HZ-006": "危化品泄漏",
        "HZ-007": "内涝",
    }
    geod = Geod(ellps="WGS84")
    people = [d for d in demo_scenario.demand_points if d.population > 0]
    lon = np.array([d.location.xy[0] for d in people])
    lat = np.array([d.location.xy[1] for d in people])
    mats = {m.code: m for m in demo_scenario.materials}
    for h in demo_scenario.hazards:
        e = by_hazard[h.id]
        assert e.feasible, e.problem
        assert e.level == h.risk_level
        if h.geometry.geom_type == "Point":  # affected people: within 1 km, measured here
            _, _, d = geod.inv(
                np.full(lon.size, h.geometry.x), np.full(lat.size, h.geometry.y), lon, lat
            )
            near = d <= DEFAULT_RADIUS_M
            expect = sum(p.population for p, ok in zip(people, near, strict=True) if ok)
            if not near.any():
                expect = people[int(np.argmin(d))].population
            assert e.affected == expect
        needs, _, deadline = template_needs(
            templates, e.subtype, e.level, e.affected, materials=mats
        )
        assert dict(e.needs) == needs and e.deadline_min == deadline


def test_recommended_stock_serves_each_design_incident_in_time(
    plan: Any, demo_scenario: Any, demo_network: Any
) -> None:
    res = plan.result
    assert res.info.status == Status.OPTIMAL and res.info.bound == pytest.approx(res.info.objective)
    assert not res.shortfalls and not res.problems
    sp = demo_scenario.stockpiles
    hz = demo_scenario.hazards
    pts = [
        h.geometry if h.geometry.geom_type == "Point" else h.geometry.representative_point()
        for h in hz
    ]
    minutes = (
        oracle_seconds(
            demo_network,
            np.array([p.x for p in pts]),
            np.array([p.y for p in pts]),
            np.array([s.location.xy[0] for s in sp]),
            np.array([s.location.xy[1] for s in sp]),
        )
        / 60.0
    )
    rec = res.recommended
    for k, e in enumerate(plan.incidents):
        reach = {s.id for i, s in enumerate(sp) if minutes[i, k] <= e.deadline_min + 0.02}
        assert set(e.reach) <= reach  # the engine rounds seconds up: never reaches more
        assert served_at_once([e], rec, [s.id for s in sp]), e.id
    # within each stockpile's capacity (m³)
    mats = {m.code: m for m in plan.materials}
    for sid, cap in zip(plan.problem.stockpiles, plan.problem.capacity_m3, strict=True):
        vol = sum(q * mats[c].unit_volume_m3 for (s, c), q in rec.items() if s == sid)
        assert vol <= cap + 1e-6


def test_pairs_serve_any_two_incidents_at_once(
    plan: Any, demo_scenario: Any, demo_network: Any
) -> None:
    both = plan_stock(demo_scenario, demo_network, StockRequest(pairs=True))
    assert both.result.info.status == Status.OPTIMAL and not both.result.shortfalls
    ids = list(both.problem.stockpiles)
    inc = [e for e in both.incidents if e.feasible]
    pairs = [(a, b) for i, a in enumerate(inc) for b in inc[i + 1 :]]
    assert all(served_at_once([a, b], both.result.recommended, ids) for a, b in pairs)
    # the single-incident stock does not serve every pair, and costs less
    assert not all(served_at_once([a, b], plan.result.recommended, ids) for a, b in pairs)
    assert both.result.info.objective > plan.result.info.objective


def test_recommendation_is_minimal_and_gaps_add_up(plan: Any, demo_scenario: Any) -> None:
    rec = plan.result.recommended
    assert rec
    for (sid, code), q in rec.items():
        less = q - 0.1 * q  # 10 % less of this one line breaks some incident's need
        broken = [
            e.id
            for e in plan.incidents
            if code in e.needs
            and sid in e.reach
            and sum(rec.get((s, code), 0.0) for s in e.reach) - q + less < e.needs[code] - 1e-9
        ]
        assert broken, (sid, code, q)
    held = {(s.id, c): q for s in demo_scenario.stockpiles for c, q in s.inventory.items()}
    lines = {(ln.stockpile_id, ln.code): ln for ln in plan.report.lines}
    assert set(rec) <= set(lines) and set(held) <= set(lines)
    for key, ln in lines.items():
        assert ln.recommended == rec.get(key, 0.0) and ln.held == held.get(key, 0.0)
        assert ln.gap == pytest.approx(ln.recommended - ln.held)
        assert ln.shortage - ln.surplus == pytest.approx(ln.gap)
    assert {(p.stockpile_id, p.code) for p in plan.report.procurement()} == {
        k for k, ln in lines.items() if ln.recommended > ln.held
    }


def test_unreachable_and_unknown_hazards_are_named(demo_scenario: Any, demo_network: Any) -> None:
    far = Hazard("HZ-FAR", "远山滑坡点", "地质灾害隐患点", 2, Point(105.2, 28.2))  # off the roads
    odd = Hazard("HZ-ODD", "某陨石坠落区", "天外来客", 3, Point(105.86, 28.79))
    slow = Hazard("HZ-SLOW", "先滩镇偏远滑坡", "地质灾害隐患点", 1, Point(106.221, 28.8585))
    sc = replace(demo_scenario, hazards=(*demo_scenario.hazards, far, odd, slow))
    p = plan_stock(sc, demo_network, StockRequest(rules=DesignRules(deadline_min=None)))
    by = {e.hazard_id: e for e in p.incidents}
    assert "无法到达" in by["HZ-FAR"].problem
    assert "没有对应的预案模板" in by["HZ-ODD"].problem
    assert p.result.info.status == Status.OPTIMAL
    assert any("远山滑坡点" in t for t in p.result.problems)
    assert any("某陨石坠落区" in t for t in p.result.problems)
    # a deadline no stockpile meets: named with the nearest stockpile's minutes
    tight = plan_stock(sc, demo_network, StockRequest(rules=DesignRules(deadline_min=3.0)))
    e = next(x for x in tight.incidents if x.hazard_id == "HZ-001")
    assert "时限 3 分钟内没有储备库可达" in e.problem and "先滩镇应急物资储备点" in e.problem
    assert tight.result.info.status == Status.OPTIMAL  # HZ-006 sits beside SP-001
    assert [x.hazard_id for x in tight.incidents if x.feasible] == ["HZ-006"]
    only = next(x for x in tight.incidents if x.feasible)
    assert {c for _, c in tight.result.recommended} == set(only.needs)
    assert {s for s, _ in tight.result.recommended} <= set(only.reach) == {"SP-001", "SP-010"}
    # no design can be planned for: INFEASIBLE, said so, no exception
    none = plan_stock(sc, demo_network, StockRequest(rules=DesignRules(deadline_min=1.0)))
    assert none.result.info.status == Status.INFEASIBLE and not none.result.recommended
    assert "没有可规划的设计事件" in none.result.problems[-1]
    assert by["HZ-SLOW"].feasible


def test_capacity_too_small_names_the_shortfalls(demo_scenario: Any, demo_network: Any) -> None:
    # tight capacity is a hard knapsack for SCIP: it may not prove the optimum within 2 s, and
    # then says so (TIMEOUT with the best stocking found and its gap)
    # capacity_factor sizes the stockpiles whose 库容 is not stated (the demo states them all)
    sc = replace(
        demo_scenario,
        stockpiles=tuple(replace(s, capacity_m3=None) for s in demo_scenario.stockpiles),
    )
    p = plan_stock(sc, demo_network, StockRequest(capacity_factor=0.3, seconds=2.0))
    info = p.result.info
    assert info.status in (Status.OPTIMAL, Status.TIMEOUT) and p.result.shortfalls
    assert info.bound is not None and info.bound <= info.objective + 1e-6
    mats = {m.code: m for m in p.materials}
    for sid, cap in zip(p.problem.stockpiles, p.problem.capacity_m3, strict=True):
        vol = sum(
            q * mats[c].unit_volume_m3 for (s, c), q in p.result.recommended.items() if s == sid
        )
        assert vol <= cap + 1e-6
    for eid, code, q in p.result.shortfalls:
        e = next(x for x in p.incidents if x.id == eid)
        have = sum(p.result.recommended.get((s, code), 0.0) for s in e.reach)
        assert have + q == pytest.approx(e.needs[code], abs=1e-3)
    assert any("储备库容量不足" in t for t in p.result.problems)


def test_cli_contract(demo_ws: Any, demo_workspace_path: Path, tmp_path: Path, capsys: Any) -> None:
    import app
    from gis.workspace import write_workspace

    # a stockpile name that a spreadsheet would run as a formula stays text
    sc = demo_ws.scenario
    evil = '=HYPERLINK("http://x","y")'
    sp = (replace(sc.stockpiles[0], name=evil), *sc.stockpiles[1:])
    ws = tmp_path / "ws.gpkg"
    write_workspace(
        ws, sc.replace(stockpiles=sp), road_nodes=demo_ws.road_nodes, road_edges=demo_ws.road_edges
    )
    out = tmp_path / "out"
    assert app.main(["plan-stock", str(ws), "--out", str(out)]) == 0
    assert "OPTIMAL" in capsys.readouterr().err
    doc = json.loads((out / "stock.json").read_text(encoding="utf-8"))
    assert doc["status"] == "OPTIMAL" and doc["bound"] == pytest.approx(doc["objective"])
    assert len(doc["design_incidents"]) == 7 and doc["infeasible"] == []
    for s in doc["stockpiles"]:
        for it in s["items"]:
            assert it["gap"] == pytest.approx(it["recommended"] - it["held"])
    wb = load_workbook(out / "stock.xlsx")
    assert wb.sheetnames == ["储备建议", "采购清单", "低于安全库存", "临期物资", "设计事件", "说明"]
    head = [c.value for c in wb["储备建议"][1]]
    assert head[:8] == [
        "储备库编号",
        "储备库",
        "物资编码",
        "物资",
        "单位",
        "建议储备",
        "现有库存",
        "差额(建议−现有)",
    ]
    assert [c.value for c in wb["采购清单"][1]][:6] == [
        "储备库编号",
        "储备库",
        "物资编码",
        "物资",
        "单位",
        "采购数量",
    ]
    names = [r[1].value for r in wb["储备建议"].iter_rows(min_row=2)]
    cell = next(r[1] for r in wb["储备建议"].iter_rows(min_row=2) if r[1].value == evil)
    assert cell.data_type == "s" and evil in names
    n_buy = wb["采购清单"].max_row - 1
    assert n_buy == len(doc["procurement"]) > 0
    # --pairs reaches the model: more stock, said in the rules
    assert app.main(["plan-stock", str(demo_workspace_path), "--out", str(out), "--pairs"]) == 0
    capsys.readouterr()
    two = json.loads((out / "stock.json").read_text(encoding="utf-8"))
    assert two["rules"]["pairs"] is True and doc["rules"]["pairs"] is False
    assert two["total_kg"] > doc["total_kg"]
    # bad input: one line, exit 2, nothing written
    bad = tmp_path / "bad"
    for args, needle in (
        (("--radius-m", "-5"), "radius"),
        (("--seconds", "0"), "--seconds"),
        (("--deadline-min", "0"), "deadline"),
        (("--capacity-factor", "0"), "capacity factor"),
    ):
        line = one_line_error(
            capsys, "plan-stock", str(demo_workspace_path), "--out", str(bad), *args
        )
        assert needle in line
    bare = tmp_path / "no_stock.gpkg"
    write_workspace(
        bare,
        sc.replace(stockpiles=()),
        road_nodes=demo_ws.road_nodes,
        road_edges=demo_ws.road_edges,
    )
    assert "no stockpiles" in one_line_error(capsys, "plan-stock", str(bare), "--out", str(bad))
    assert not bad.exists()


def test_expiring_inventory_is_flagged_from_the_ledger_dates(plan: Any, demo_scenario: Any) -> None:
    import dataclasses
    from datetime import date, timedelta

    from dispatch.planning.stock import stock_report
    from dispatch.planning.stock_cli import stock_json

    today = date(2026, 12, 3)
    # the demo ledger has no dates: nothing can be checked, and the JSON says so
    doc = stock_json(
        dataclasses.replace(plan, request=dataclasses.replace(plan.request, today=today))
    )
    assert doc["expiring"] == [] and doc["expiry_checked_lines"] == 0
    assert any("到期日" in n for n in doc["notes"])
    sp = demo_scenario.stockpiles[0]
    soon, later, gone = sorted(sp.inventory)[:3]
    dated = dataclasses.replace(
        sp,
        expiry_dates={
            soon: today + timedelta(days=10),
            later: today + timedelta(days=200),
            gone: today - timedelta(days=3),
        },
    )
    scenario = demo_scenario.replace(stockpiles=(dated, *demo_scenario.stockpiles[1:]))
    report = stock_report(scenario, plan.materials, plan.result)
    request = dataclasses.replace(plan.request, today=today, expiry_days=30)
    doc = stock_json(dataclasses.replace(plan, report=report, request=request))
    assert doc["expiry_checked_lines"] == 3 and doc["expiry_days"] == 30
    assert [(e["code"], e["days_left"]) for e in doc["expiring"]] == [(gone, -3), (soon, 10)]
    assert all(e["stockpile_id"] == sp.id and e["held"] > 0 for e in doc["expiring"])
    assert not any("到期日" in n for n in doc["notes"])
