"""Issue 11 ("Never a quietly wrong plan"), the solve/export half: bounded solves, exports robust
to any name, concurrent saves, an honest overall status. Each reproduction of the issue is a test.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dispatch.plan import Plan
from dispatch.results import Reason, Status, Unserved
from tests.conftest import ROOT

EVIL = "\x1b[31m红色\x01事件\u202e"  # ESC sequence, SOH, a bidi override
LONG = "长" * 10_000


def _write_ws(src: Path, dst: Path, edit: Any) -> Path:
    from gis.workspace import read_workspace, write_workspace

    ws = read_workspace(src, include_roads=True)
    write_workspace(
        dst,
        edit(ws.scenario),
        road_nodes=ws.road_nodes,
        road_edges=ws.road_edges,
        documents=ws.documents,
    )
    return dst


def _tiny_vehicles(kg: float) -> Any:
    def edit(sc: Any) -> Any:
        sps = tuple(
            dataclasses.replace(
                sp, vehicles=tuple(dataclasses.replace(v, capacity_kg=kg) for v in sp.vehicles)
            )
            for sp in sc.stockpiles
        )
        return sc.replace(stockpiles=sps)

    return edit


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    import app

    rc = app.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


# ---- item 3: bounded solves ---------------------------------------------------------------------


@pytest.mark.parametrize("kg", [5.0, 1.0])
def test_tonnes_typed_as_kg_is_bounded_reported_and_warned(
    kg: float, demo_workspace_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: 5 kg ran past 300 s at 7.4 GB; 1 kg → MemoryError (30.5 GiB)."""
    ws = _write_ws(demo_workspace_path, tmp_path / "ws.gpkg", _tiny_vehicles(kg))
    t0 = time.perf_counter()
    rc, out, err = _main(
        capsys, "dispatch", str(ws), "--out", str(tmp_path / "o"), "--seconds", "2"
    )
    wall = time.perf_counter() - t0
    assert rc == 0, err
    (line,) = err.splitlines()
    assert line.startswith("warning: 车辆 VH-001 载重 ") and f"是否应为 {kg:g} 吨？" in line
    assert wall < 2 + 20  # budget + reading, orders and exports on a busy 2-core machine
    plan = json.loads((tmp_path / "o" / "plan.json").read_text(encoding="utf-8"))
    capped = [u for u in plan["unserved"] if "只安排" in u["message_zh"]]
    assert capped and all(u["reason"] == Reason.OVER_CAPACITY.value for u in capped)
    assert all("车次" in u["message_zh"] and "是否应为" in u["message_zh"] for u in capped)
    assert f"是否应为 {kg:g} 吨" in out  # the summary's notes say it too


def _heavy_problem(kg: float, n_sites: int = 4) -> Any:
    from dispatch.routing import Delivery, RoutingProblem, RoutingVehicle

    n = 1 + n_sites
    dur = np.full((n, n), 600, dtype=np.int64)
    np.fill_diagonal(dur, 0)
    names = tuple(f"L{i}" for i in range(n))
    vehicles = tuple(RoutingVehicle(f"V{i}", 0, kg, 30.0, 12 * 3600, 6) for i in range(3))
    dels = tuple(
        Delivery(f"D{i}", 1 + i, 0, 20_000.0, 40.0, {"water": 2000.0}, 600) for i in range(n_sites)
    )
    return RoutingProblem(names, dur, dur.copy(), names[:1], vehicles, dels, 900)


def test_split_delivery_pieces_are_capped_and_the_cap_reported() -> None:
    from dispatch.routing import RoutingOptions, solve_routing
    from dispatch.routing.jobs import MAX_PIECES_PER_DELIVERY, prepare_jobs

    p = _heavy_problem(1.0)  # 20 t in 1 kg pieces: 20,000 pieces per delivery uncapped
    prepared = prepare_jobs(p)
    trips = 3 * 6
    assert len(prepared.jobs) <= len(p.deliveries) * min(trips, MAX_PIECES_PER_DELIVERY)
    assert {c.pieces for c in prepared.cut} == {20_000}
    t0 = time.perf_counter()
    result = solve_routing(p, RoutingOptions(engine="pyvrp", time_limit_s=1.0))
    assert time.perf_counter() - t0 < 10
    cut = [u for u in result.unserved if "只安排" in u.message_zh]
    assert len(cut) == len(p.deliveries)
    assert all(u.reason == Reason.OVER_CAPACITY and 0.99 < u.quantity <= 1 for u in cut)
    assert "是否应为 1 吨" in cut[0].message_zh


def test_total_pieces_fit_the_memory_budget_highest_priority_first() -> None:
    from dispatch.routing.jobs import matrix_bytes, max_jobs_for_memory, prepare_jobs

    p = _heavy_problem(1000.0, n_sites=30)  # 20 pieces each, 600 in all
    p = dataclasses.replace(
        p,
        deliveries=tuple(
            dataclasses.replace(d, priority=10.0 if i == 7 else 1.0)
            for i, d in enumerate(p.deliveries)
        ),
    )
    prepared = prepare_jobs(p, max_jobs=100)
    assert len(prepared.jobs) == 100
    per = {}
    for j in prepared.jobs:
        per[j.delivery] = per.get(j.delivery, 0) + 1
    assert per[7] == 18  # the urgent one gets all the trips its fleet has (3 × 6)
    assert all(n >= 1 for n in per.values()) and len(per) == 30  # every delivery starts
    assert all(("内存上限" in c.message) == (c.kept < 18) for c in prepared.cut)
    assert all("每项配送最多分 18 车次" in c.message for c in prepared.cut)
    budget = 600 * 2**20
    n = max_jobs_for_memory(p, budget) + len(p.depots) + 3 * 5
    assert matrix_bytes(n) <= budget * 1.01


def test_stage_time_limits_share_the_budget() -> None:
    from dispatch.pipeline import ASSIGNMENT_SHARE, EVACUATION_SHARE, _Budget

    b = _Budget(time.perf_counter(), 4.0)
    assert b.share(EVACUATION_SHARE) == pytest.approx(0.6, abs=0.05)
    assert b.share(ASSIGNMENT_SHARE) == pytest.approx(0.6, abs=0.05)
    assert 3.5 < b.rest() <= 4.0
    late = _Budget(time.perf_counter() - 10, 4.0)  # earlier stages overran
    assert late.share(EVACUATION_SHARE) == 0.05 and late.rest() == pytest.approx(0.8)


def test_repair_of_a_long_infeasible_plan_is_fast() -> None:
    from dispatch.routing.jobs import prepare_jobs
    from dispatch.routing.schedule import REPAIR_EXACT_MAX, repair, schedule

    p = _heavy_problem(2000.0, n_sites=30)
    p = dataclasses.replace(p, vehicles=(dataclasses.replace(p.vehicles[0], max_trips=400),))
    jobs = prepare_jobs(p).jobs[:300]
    assert len(jobs) > REPAIR_EXACT_MAX
    t0 = time.perf_counter()
    trips, dropped = repair(p, p.vehicles[0], [[j] for j in jobs])  # far past 12 h
    assert time.perf_counter() - t0 < 5
    assert schedule(p, p.vehicles[0], trips).feasible
    assert len(dropped) + sum(len(t) for t in trips) == len(jobs) and dropped


# ---- item 4: exports robust to any name ---------------------------------------------------------


def _evil_plan(plan: Plan) -> Plan:
    first = plan.incidents[0].incident_id
    places = tuple(
        dataclasses.replace(p, name=EVIL if p.id == first else ("__LEAFLET_JS__" + LONG))
        if p.kind in ("incident", "stockpile")
        else p
        for p in plan.places
    )
    incidents = tuple(
        dataclasses.replace(o, name=EVIL if o.incident_id == first else LONG)
        for o in plan.incidents
    )
    unserved = (Unserved(first, "TENT", 5, Reason.OUT_OF_STOCK, f"{EVIL}：{LONG}"),)
    orders = tuple(dataclasses.replace(o, unit_name=EVIL, task=LONG) for o in plan.orders)
    inputs = dataclasses.replace(plan.inputs, scenario_name="__LEAFLET_JS__" + EVIL)
    return dataclasses.replace(
        plan,
        places=places,
        incidents=incidents,
        unserved=plan.unserved + unserved,
        orders=orders,
        inputs=inputs,
    )


def test_every_export_survives_control_characters_long_names_and_placeholders(
    demo_plan: Plan, tmp_path: Path
) -> None:
    """Was: ESC/\\x01 → IllegalCharacterError (XLSX); 10,000 characters → LayoutError (PDF); no
    file at all; a name __LEAFLET_JS__ put Leaflet into <title> and blanked the map."""
    from openpyxl import load_workbook

    from dispatch.export import OUTPUT_FILES, export_all

    out = tmp_path / "out"
    files = export_all(_evil_plan(demo_plan), out)
    assert sorted(files) == sorted(OUTPUT_FILES)
    wb = load_workbook(out / "orders.xlsx", read_only=True)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    text = "".join(c for c in cells if isinstance(c, str))
    assert "红色" in text and "\x1b" not in text and "\x01" not in text
    assert (out / "orders.pdf").read_bytes().startswith(b"%PDF")
    html = (out / "plan.html").read_text(encoding="utf-8")
    title = html[html.index("<title>") : html.index("</title>")]
    assert "__LEAFLET_JS__" in title and len(title) < 300  # the name, not Leaflet's source
    assert html.count("L.map(") >= 1 and "__LEAFLET_CSS__" not in html


def test_cli_prints_no_control_characters_and_a_failed_export_fails_alone(
    demo_plan: Plan,
    demo_workspace_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dispatch.cli as cli
    import dispatch.export.pdf as pdf

    evil = _evil_plan(demo_plan)
    monkeypatch.setattr(cli, "plan_dispatch", lambda *a, **k: evil)
    out = tmp_path / "o"
    rc, stdout, err = _main(capsys, "dispatch", str(demo_workspace_path), "--out", str(out))
    assert rc == 0, err
    assert err == ""
    for bad in ("\x1b", "\x01", "\u202e"):
        assert bad not in stdout
    assert "红色" in stdout

    def broken(*_a: Any, **_k: Any) -> None:
        raise ValueError(f"cannot lay out {EVIL}\nsecond line")

    monkeypatch.setattr(pdf, "export_pdf", broken)
    rc, stdout, err = _main(capsys, "dispatch", str(demo_workspace_path), "--out", str(out))
    assert rc == 2
    (line,) = err.splitlines()
    assert line.startswith("error: 导出失败：orders.pdf（ValueError: cannot lay out")
    assert "其余 5 个文件已写入" in line and "\x1b" not in line and "\x01" not in line
    assert not (out / "orders.pdf").exists() and (out / "orders.xlsx").exists()
    assert "调度方案" in stdout  # the summary is still printed


def test_pdf_of_a_large_plan_is_bounded(demo_plan: Plan, tmp_path: Path) -> None:
    """1,000 incident rows and 8,000 shortfalls: the cover lists 200 shortfalls and counts the
    rest; long tables are cut into pieces so the layout stays linear."""
    from dispatch.export.pdf import PDF_MAX_UNSERVED, export_pdf

    o = demo_plan.incidents[0]
    incidents = tuple(
        dataclasses.replace(o, incident_id=f"X{i}", name=f"事件{i}") for i in range(1000)
    )
    u = Unserved(o.incident_id, "TENT", 1, Reason.OUT_OF_STOCK, "缺少 救灾帐篷 1 顶：库存不足")
    big = dataclasses.replace(demo_plan, incidents=incidents, unserved=(u,) * 8000)
    t0 = time.perf_counter()
    export_pdf(big, tmp_path / "big.pdf")
    assert time.perf_counter() - t0 < 60
    data = (tmp_path / "big.pdf").read_bytes()
    assert (
        data.count(b"/Type /Page\n") + data.count(b"/Type /Page>") + data.count(b"/Type /Page ")
        < 200
    )
    assert PDF_MAX_UNSERVED == 200


# ---- item 5: concurrent saves -------------------------------------------------------------------

_SAVER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from dispatch.plan import Plan
from dispatch.plan_store import save_plan_to_workspace
plan = Plan.from_json(Path({plan!r}).read_text(encoding="utf-8"))
go = Path({go!r})
while not go.exists():
    time.sleep(0.005)
stored = save_plan_to_workspace(Path({ws!r}), plan)
print(stored.number)
"""


def test_two_processes_saving_at_once_store_both_plans(
    demo_plan: Plan, demo_copy: Path, tmp_path: Path
) -> None:
    """Was: both printed '方案 HJ-…-003 已保存', only one was stored."""
    from dispatch.plan import plans_from_documents
    from gis.workspace import read_workspace

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(demo_plan.to_json(), encoding="utf-8")
    go = tmp_path / "go"
    script = _SAVER.format(root=str(ROOT), plan=str(plan_file), go=str(go), ws=str(demo_copy))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(3.0)  # both started and waiting (imports done)
    go.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    numbers = sorted(o.strip() for o, _ in outs)
    assert numbers[0] != numbers[1]
    assert demo_plan.number in numbers
    stored = plans_from_documents(read_workspace(demo_copy, include_roads=False).documents)
    assert sorted(p.number for p in stored) == numbers
    for p in stored:  # a renumbered plan's orders follow its number
        assert all(o.number.startswith(p.number + "-") for o in p.orders)


# ---- item 8 (part): an honest overall status ----------------------------------------------------


def test_overall_status_is_not_optimal_when_nothing_can_be_served(
    demo_scenario: Any, demo_network: Any
) -> None:
    from dispatch.pipeline import DispatchOptions, plan_dispatch

    sc = demo_scenario.replace(
        stockpiles=tuple(dataclasses.replace(s, inventory={}) for s in demo_scenario.stockpiles),
        teams=(),
        shelters=(),
    )
    plan = plan_dispatch(sc, demo_network, DispatchOptions(seconds=1.0))
    assert plan.unserved
    assert plan.overall == Status.INFEASIBLE
    from dispatch.summary import summary_text

    assert f"{len(plan.unserved)} 项需求未满足" in summary_text(plan).splitlines()[0]
