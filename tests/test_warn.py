"""Hazard warnings → pre-positioning (``app.py warn``, dispatch/warnings/) on the demo county.

Checked against the data, not the solver's word: moved quantities against the ledger's stock
above safety stock, staging points' distance from the hazard areas measured in another
projection (pyproj UTM 48N, not the module's transform), the rest-of-county floor recomputed
from the JSON, the workspace file's bytes, and a drill with a warning inject.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point

from dispatch.results import Status
from tests.test_coverage import one_line_error

HAZARDS = ("HZ-001", "HZ-005")
UTM48 = Transformer.from_crs(4326, 32648, always_xy=True)


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run(demo_workspace_path: Path, tmp_path_factory: Any) -> dict[str, Any]:
    import app

    out = tmp_path_factory.mktemp("warn") / "out"
    before = sha(demo_workspace_path)
    args = ["warn", str(demo_workspace_path), "--colour", "orange", "--seconds", "5"]
    for h in HAZARDS:
        args += ["--hazard", h]
    assert app.main([*args, "--out", str(out)]) == 0
    doc = json.loads((out / "preposition.json").read_text(encoding="utf-8"))
    return {"doc": doc, "out": out, "before": before, "after": sha(demo_workspace_path)}


def test_contract_keys_and_shares(run: dict[str, Any]) -> None:
    doc = run["doc"]
    for key in ("moves", "threatened", "rest_of_county", "status"):
        assert key in doc
    assert doc["status"] in {s.value for s in Status}
    assert doc["status"] in ("OPTIMAL", "FEASIBLE")
    assert doc["bound"] is not None and doc["bound"] <= doc["objective"] + 1e-6
    assert doc["moves"], "the demo's warned hazards need stock staged"
    for m in doc["moves"]:
        assert m["kind"] in ("stock", "team") and m["from_id"] and m["to_id"]
        if m["kind"] == "stock":
            assert m["material"] and m["quantity"] > 0
        else:
            assert m["team_id"] == m["from_id"]
    thr = doc["threatened"]
    assert 0 <= thr["before"]["on_time_share"] <= thr["after"]["on_time_share"] <= 1
    # staging helps on the demo: the landslide and the flood area are beyond most depots
    assert thr["after"]["on_time_share"] > thr["before"]["on_time_share"]
    rest = doc["rest_of_county"]
    assert rest["floor"] == 0.9
    assert rest["after"]["share_within_60"] >= 0.9 * rest["before"]["share_within_60"] - 1e-9
    assert doc["warning"]["level"] == "II" and doc["warning"]["colour_zh"] == "橙色"
    assert [e["level"] for e in doc["design_incidents"]] == ["II", "II"]


def test_moves_are_valid(run: dict[str, Any], demo_scenario: Any) -> None:
    doc = run["doc"]
    stock = {s.id: s for s in demo_scenario.stockpiles}
    teams = {t.id: t for t in demo_scenario.teams}
    places = {e.id: e for e in (*demo_scenario.stockpiles, *demo_scenario.shelters)}
    moved: dict[tuple[str, str], float] = defaultdict(float)
    for m in doc["moves"]:
        assert m["to_id"] in places and m["to_id"] != m["from_id"]
        if m["kind"] == "stock":
            moved[(m["from_id"], m["material"])] += m["quantity"]
        else:
            assert teams[m["team_id"]].status.value == "待命"
    for (sid, code), q in moved.items():
        s = stock[sid]
        # a depot keeps its safety stock: at most stock − safety stock leaves
        assert q <= s.inventory.get(code, 0) - s.safety_stock.get(code, 0) + 1e-6, (sid, code)
    team_ids = [m["team_id"] for m in doc["moves"] if m["kind"] == "team"]
    assert len(team_ids) == len(set(team_ids))
    hazards = [h for h in demo_scenario.hazards if h.id in HAZARDS]
    areas = [shapely.transform(h.geometry, UTM48.transform, interleaved=False) for h in hazards]
    for m in doc["moves"]:
        x, y = UTM48.transform(*places[m["to_id"]].location.xy)
        # outside the hazard area: ≥ 500 m (the default safe distance; 1 m for the projection)
        assert min(a.distance(Point(x, y)) for a in areas) >= 499.0, m["to_id"]


def test_staging_reaches_under_likely_closures(
    run: dict[str, Any], demo_scenario: Any, demo_engine: Any
) -> None:
    from dispatch.warnings.preposition import WarnRequest, likely_closures

    hazards = [h for h in demo_scenario.hazards if h.id in HAZARDS]
    engine = demo_engine.with_closures(likely_closures(hazards, WarnRequest(HAZARDS, "orange")))
    doc = run["doc"]
    places = {e.id: e for e in (*demo_scenario.stockpiles, *demo_scenario.shelters)}
    to = sorted({m["to_id"] for m in doc["moves"]})
    pts = [h.geometry if h.geometry.geom_type == "Point" else h.geometry.representative_point()
           for h in hazards]  # fmt: skip
    m = engine.matrix_lonlat(
        np.array([places[t].location.xy[0] for t in to]),
        np.array([places[t].location.xy[1] for t in to]),
        np.array([p.x for p in pts]),
        np.array([p.y for p in pts]),
        metres=False,
    )
    deadlines = [e["deadline_min"] for e in doc["design_incidents"]]
    minutes = np.where(m.reachable, m.seconds / 60.0, np.inf)
    for i, t in enumerate(to):
        assert any(minutes[i, k] <= deadlines[k] + 0.05 for k in range(len(pts))), t


def test_workspace_unchanged_and_pdf(run: dict[str, Any]) -> None:
    assert run["before"] == run["after"]
    pdf = run["out"] / "orders.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    doc = run["doc"]
    trips = {(m["from_id"], m["to_id"]) for m in doc["moves"] if m["kind"] == "stock"}
    teams = [m for m in doc["moves"] if m["kind"] == "team"]
    assert text.count("预置调拨单") == len(trips)
    assert text.count("预置派遣令") == len(teams)
    assert doc["warning"]["id"] in text and "橙色预警" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "WenQuanYi" in fonts or "yes yes" in fonts  # the CJK font is embedded


def test_bad_inputs_exit_2(
    demo_workspace_path: Path, demo_ws: Any, tmp_path: Path, capsys: Any
) -> None:
    from gis.model import Hazard
    from gis.workspace import write_workspace

    ws = str(demo_workspace_path)
    out = tmp_path / "out"
    msg = one_line_error(
        capsys, "warn", ws, "--hazard", "HZ-999", "--colour", "red", "--out", str(out)
    )
    assert "HZ-999" in msg and "unknown hazard" in msg
    msg = one_line_error(
        capsys, "warn", ws, "--hazard", "HZ-001", "--colour", "purple", "--out", str(out)
    )
    assert "blue|yellow|orange|red" in msg
    # a hazard far from every demand point: the road node farthest from any of them
    net = demo_ws.scenario
    sites = np.array([UTM48.transform(*d.location.xy) for d in net.demand_points])
    from gis.loading import load_road_network

    roads = load_road_network(demo_workspace_path, demo_ws.scenario)
    xy = np.column_stack(UTM48.transform(roads.lon, roads.lat))
    far = np.array([np.min(np.hypot(*(sites - p).T)) for p in xy[::7]])
    k = int(np.argmax(far))
    if far[k] < 2600:
        pytest.skip("no road point of the demo is 2.6 km from every demand point")
    lon, lat = float(roads.lon[::7][k]), float(roads.lat[::7][k])
    lonely = Hazard("HZ-LONE", "无人区滑坡隐患点", "地质灾害隐患点", 3, Point(lon, lat))
    path = tmp_path / "lonely.gpkg"
    write_workspace(
        path,
        demo_ws.scenario.upsert(lonely),
        road_nodes=demo_ws.road_nodes,
        road_edges=demo_ws.road_edges,
        documents=demo_ws.documents,
    )
    before = sha(path)
    msg = one_line_error(
        capsys, "warn", str(path), "--hazard", "HZ-LONE", "--colour", "yellow", "--out", str(out)
    )
    assert "HZ-LONE" in msg and "no demand points" in msg
    assert not out.exists() and sha(path) == before


def test_save_records_warning_and_moves(demo_copy: Path, tmp_path: Path, capsys: Any) -> None:
    import app
    from gis.event_log import log_entries
    from gis.hazard_warnings import read_warnings
    from gis.workspace import read_workspace

    out = tmp_path / "o"
    args = ["warn", str(demo_copy), "--hazard", "HZ-005", "--colour", "red", "--seconds", "3"]
    assert app.main([*args, "--valid-hours", "6", "--out", str(out), "--save"]) == 0
    doc = json.loads((out / "preposition.json").read_text(encoding="utf-8"))
    ws = read_workspace(demo_copy, include_roads=False)
    (w,) = read_warnings(ws.documents)
    assert w.id == doc["warning"]["id"] and w.colour == "red" and w.level == 1
    assert w.hazard_ids == ("HZ-005",)
    assert (w.valid_until - w.issued_at).total_seconds() == 6 * 3600
    assert len(w.moves) == len(doc["moves"])
    assert [e for e in log_entries(ws.documents) if e.get("warning") == w.id]
    moved = {m["team_id"] for m in doc["moves"] if m["kind"] == "team"}
    assert all(t.status.value == "待命" for t in ws.scenario.teams if t.id in moved)
    check_preposition_lifecycle(demo_copy, doc, w, capsys)


def check_preposition_lifecycle(path: Path, doc: dict[str, Any], w: Any, capsys: Any) -> None:
    """--save files a 预置方案 in 草稿 that follows the plans' workflow: refused steps write
    nothing; stock stays pending (the ledger is never touched) until the record is 已完成."""
    from datetime import datetime, timedelta

    from dispatch.plan import PlanStatusError
    from dispatch.warnings.lifecycle import change_preposition_status, read_prepositions
    from gis.event_log import log_entries
    from gis.workspace import read_workspace

    from_ledger = read_workspace(path, include_roads=False).scenario.stockpiles
    (rec,) = read_prepositions(read_workspace(path, include_roads=False).documents)
    assert rec.warning_id == w.id and rec.status.value == "草稿"
    stock = [m for m in doc["moves"] if m["kind"] == "stock"]
    assert stock and [dict(m)["quantity"] for m in rec.pending_transfers] == [
        m["quantity"] for m in stock
    ]
    assert set(rec.teams_standby) == {m["team_id"] for m in doc["moves"] if m["kind"] == "team"}
    t0 = w.issued_at + timedelta(minutes=5)
    before = sha(path)
    with pytest.raises(PlanStatusError, match="不能从「草稿」改为「已下达」"):
        change_preposition_status(path, rec.number, "已下达", "李四", when=t0)
    with pytest.raises(PlanStatusError, match="作废须填写原因"):
        change_preposition_status(path, rec.number, "已作废", "李四", when=t0)
    # app.py plan-status steps a 预置方案 by its number like a dispatch plan
    capsys.readouterr()
    msg = one_line_error(capsys, "plan-status", str(path), rec.number, "--to", "已下达",
                         "--who", "李四")  # fmt: skip
    assert "不能从「草稿」改为「已下达」" in msg and sha(path) == before
    import app

    assert app.main(["plan-status", str(path), rec.number, "--to", "已批准", "--who", "李四"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"预置方案 {rec.number}：草稿 → 已批准") and f"{len(stock)} 条" in line
    t0 = datetime.now().astimezone()
    for k, to in enumerate(("已下达", "执行中")):
        rec = change_preposition_status(path, w.id, to, "张三", when=t0 + timedelta(minutes=k))
        assert rec.status.value == to and rec.pending_transfers
    rec = change_preposition_status(path, rec.number, "已完成", "张三", when=t0 + timedelta(1))
    assert rec.pending_transfers == () and [a.action for a in rec.approvals] == [
        "批准", "下达", "开始执行", "完成"
    ]  # fmt: skip
    ws = read_workspace(path, include_roads=False)
    assert ws.scenario.stockpiles == from_ledger
    (stored,) = read_prepositions(ws.documents)
    assert stored == rec
    steps = [e for e in log_entries(ws.documents) if e.get("preposition") == rec.number]
    assert [e["to"] for e in steps] == ["已批准", "已下达", "执行中", "已完成"]
    with pytest.raises(PlanStatusError, match="已是最终状态"):
        change_preposition_status(path, rec.number, "已作废", "李四", note="x", when=datetime.now())


def test_standby_teams(demo_scenario: Any) -> None:
    from dataclasses import replace

    from dispatch.warnings.record import standby_teams
    from gis.hazard_warnings import WarningError
    from gis.model import TeamStatus

    a, b, c = demo_scenario.teams[:3]
    scen = demo_scenario.upsert(replace(b, status=TeamStatus.RESTING))
    out, changed = standby_teams(scen, [a.id, b.id])
    assert changed == (b.id,)
    status = {t.id: t.status for t in out.teams}
    assert status[a.id] == status[b.id] == TeamStatus.STANDBY
    assert [t for t in out.teams if t.id not in (a.id, b.id)] == [
        t for t in scen.teams if t.id not in (a.id, b.id)
    ]
    busy = scen.upsert(replace(c, status=TeamStatus.DEPLOYED))
    with pytest.raises(WarningError, match="已出动"):
        standby_teams(busy, [a.id, c.id])
    with pytest.raises(WarningError, match="TM-NONE"):
        standby_teams(scen, ["TM-NONE"])


def test_floor_one_keeps_rest_coverage(demo_scenario: Any, demo_network: Any) -> None:
    from dispatch.warnings.preposition import WarnRequest, plan_preposition

    plan = plan_preposition(
        demo_scenario, demo_network, WarnRequest(("HZ-001", "HZ-004"), "red", seconds=5, floor=1.0)
    )
    r = plan.result
    assert r.info.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert r.rest_after is not None and r.rest_before is not None
    assert r.rest_after >= r.rest_before - 1e-9
    assert r.after is not None and r.before is not None
    assert r.after.on_time_lines >= r.before.on_time_lines


def test_drill_warning_inject(demo_scenario: Any, demo_network: Any) -> None:
    from dispatch.drills.runner import run_drill
    from dispatch.drills.script import DrillScriptError, parse_script

    data = {
        "name": "预警演练",
        "start": "2026-07-12T08:00:00+08:00",
        "injects": [{"at_min": 0, "kind": "warning", "hazard_id": "HZ-005", "colour": "orange"}],
    }
    bad = {**data, "injects": [{**data["injects"][0], "colour": "green"}]}
    with pytest.raises(DrillScriptError, match="inject #1 \\(warning\\)"):
        parse_script(bad, demo_scenario)
    unknown = {**data, "injects": [{**data["injects"][0], "hazard_id": "HZ-999"}]}
    with pytest.raises(DrillScriptError, match="HZ-999"):
        parse_script(unknown, demo_scenario)
    script = parse_script(data, demo_scenario)
    (step,) = run_drill(demo_scenario, demo_network, script, auto=False, seconds_per_step=3)
    pre = step.preposition
    assert pre is not None and pre["status"] in ("OPTIMAL", "FEASIBLE")
    from dispatch.drills.scorecard import step_record

    rec = step_record(step, None, {})
    assert rec["kind"] == "warning" and rec["preposition"]["movements"] == pre["movements"]
    assert f"预置 {pre['movements']} 次调动" in rec["text"]
    assert pre["threatened_after"] >= pre["threatened_before"]
    # the moves are carried out in the drill's state: moved teams stand at their staging point
    base = {t.id: t for t in demo_scenario.teams}
    for t in step.scenario.teams:
        if t.id in pre["teams_moved"]:
            assert t.location != base[t.id].location and t.status.value == "待命"
        else:
            assert t.location == base[t.id].location

    # stock moves conserve stock: what left the depots is at the staging points
    def total(sc: Any) -> float:
        return sum(sum(s.inventory.values()) for s in sc.stockpiles) + sum(
            sum(s.stock.values()) for s in sc.shelters
        )

    assert pre["stock_lines"] > 0
    assert total(step.scenario) == pytest.approx(total(demo_scenario))
    depots = sum(sum(s.inventory.values()) for s in step.scenario.stockpiles)
    assert depots < sum(sum(s.inventory.values()) for s in demo_scenario.stockpiles)


def test_rest_of_county_matches_coverage(
    run: dict[str, Any], demo_scenario: Any, demo_network: Any, demo_engine: Any
) -> None:
    """share_within_60 before/after recomputed with the coverage desk's own compute_coverage
    (teams moved to their staging points), over the people outside the threatened area."""
    import dataclasses

    from dispatch.planning.coverage import CoverageRequest, compute_coverage
    from gis.model import Location

    doc = run["doc"]
    threatened = {s for e in doc["design_incidents"] for s in e["sites"]}
    places = {e.id: e for e in (*demo_scenario.stockpiles, *demo_scenario.shelters)}
    moved = {m["team_id"]: m["to_id"] for m in doc["moves"] if m["kind"] == "team"}
    after = dataclasses.replace(
        demo_scenario,
        teams=tuple(
            dataclasses.replace(t, location=Location(*places[moved[t.id]].location.xy))
            if t.id in moved
            else t
            for t in demo_scenario.teams
        ),
    )
    req = CoverageRequest("teams", minutes=(60.0,), with_isochrones=False)
    for key, sc in (("before", demo_scenario), ("after", after)):
        cov = compute_coverage(sc, demo_network, req, engine=demo_engine)
        rest = [
            p
            for p in cov.points
            if p.site.source != "hazards" and p.population > 0 and p.id not in threatened
        ]
        total = sum(p.population for p in rest)
        within = sum(p.population for p in rest if p.minutes is not None and p.minutes <= 60.0)
        got = doc["rest_of_county"][key]["share_within_60"]
        assert got == pytest.approx(within / total, abs=2e-6), key
