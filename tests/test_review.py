"""Plan comparison (`app.py compare`) and after-action review (`app.py review`), issue 14 §4–§6,
on the demo county.

The comparison is checked against a hand-built pair: plan B is the demo plan with one order
removed, one rerouted (a leg's road metres changed), one re-loaded (a quantity changed) and one
added (a copy for a new unit). The review's report deadlines are checked on a constructed log
(a late 首报, an on-time one, a missing one); the command runs end to end on a copy of the demo
with the generated history of tools/demo_event_history.py (0.5 s solves).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from dispatch.drills.compare import compare_plans
from dispatch.drills.review import (
    DEFAULT_RULES,
    ReportDeadlines,
    events,
    load_deadlines,
    plan_in_force,
    received_times,
    review,
    scenario_as_known,
)
from dispatch.plan import Plan
from dispatch.records import OrderKind
from gis.errors import ValidationError
from gis.event_log import report_entry, with_log_entry

ROOT = Path(__file__).resolve().parents[1]
CST = timezone(timedelta(hours=8))
POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdfinfo") is not None


def _app(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, args)],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip


def _pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(next(ln for ln in out.stdout.splitlines() if ln.startswith("Pages:")).split()[1])


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


# ------------------------------------------------------------------------------------------------
# Comparison against a hand-built pair
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(demo_plan: Plan) -> dict[str, Any]:
    a = demo_plan
    transfers = [o for o in a.orders if o.kind == OrderKind.TRANSFER and o.items and o.legs]
    assert len(transfers) >= 3, "the demo plan should hold at least 3 transfer orders"
    gone, reroute, reload = transfers[0], transfers[1], transfers[2]
    leg0 = reroute.legs[0]
    rerouted = dataclasses.replace(
        reroute, legs=(dataclasses.replace(leg0, metres=leg0.metres + 1500.0), *reroute.legs[1:])
    )
    it0 = reload.items[0]
    reloaded = dataclasses.replace(
        reload, items=(dataclasses.replace(it0, quantity=it0.quantity + 1), *reload.items[1:])
    )
    new_unit = dataclasses.replace(gone, unit_id="VH-NEW-1", number=a.number + "-99")
    orders = []
    for o in a.orders:
        if o.unit_id == gone.unit_id:
            continue
        orders.append(
            rerouted
            if o.unit_id == reroute.unit_id
            else reloaded
            if o.unit_id == reload.unit_id
            else o
        )
    b = dataclasses.replace(a, orders=(*orders, new_unit))
    return {
        "a": a,
        "b": b,
        "gone": gone.unit_id,
        "rerouted": reroute.unit_id,
        "reloaded": reload.unit_id,
        "unchanged": len(a.orders) - 3,
    }


def test_compare_counts_hand_built_pair(pair: dict[str, Any]) -> None:
    c = compare_plans(pair["a"], pair["b"])["orders"]
    assert c["added"] == ["VH-NEW-1"]
    assert c["removed"] == [pair["gone"]]
    assert c["rerouted"] == [pair["rerouted"]]
    assert c["reloaded"] == [pair["reloaded"]]
    assert c["unchanged"] == pair["unchanged"]
    # no plan before: every order is added
    none = compare_plans(None, pair["a"])
    assert none["plans"][0] is None
    assert len(none["orders"]["added"]) == len({o.unit_id for o in pair["a"].orders})
    assert all(i["served"][0] is None for i in none["incidents"])


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdfinfo, pdftotext) not installed")
def test_compare_cli(pair: dict[str, Any], tmp_path: Path, demo_workspace_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(pair["a"].to_json(), encoding="utf-8")
    b.write_text(pair["b"].to_json(), encoding="utf-8")
    out = tmp_path / "cmp"
    proc = _app("compare", a, b, "--out", out, "--workspace", demo_workspace_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    o = data["orders"]
    assert (o["added"], o["removed"]) == (["VH-NEW-1"], [pair["gone"]])
    assert (o["rerouted"], o["reloaded"]) == ([pair["rerouted"]], [pair["reloaded"]])
    assert data["figures"]["orders"] == [len(pair["a"].orders), len(pair["b"].orders)]
    inc = {i["incident_id"]: i for i in data["incidents"]}
    assert set(inc) == {o.incident_id for o in pair["a"].incidents}
    for i in inc.values():
        assert i["eta"][0] is not None and i["eta"][1] is not None
    text = _text(out / "compare.pdf")
    assert "路线对比图" in text and "公里" in text  # the map with its scale bar
    assert f"方案A {pair['a'].number}" in text  # the legend names both plans
    wb = load_workbook(out / "compare.xlsx", read_only=True)
    assert wb.sheetnames == ["总体指标", "各事件对比", "指令变化"]


def _main(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str]:
    """app.py in this process (the same exit-code contract, without a process start)."""
    import app

    code = app.main([str(x) for x in args])
    return code, capsys.readouterr().err


def test_compare_bad_input(
    tmp_path: Path, pair: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "a.json"
    good.write_text(pair["a"].to_json(), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a plan"}', encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    for b in (bad, folder, tmp_path / "missing.json"):
        out = tmp_path / "out"
        code, err = _main(capsys, "compare", good, b, "--out", out)
        assert code == 2, err
        line = err.strip()
        assert line.startswith("error: plan B") and "\n" not in line, line
        assert "Traceback" not in err
        assert not out.exists()  # nothing written


# ------------------------------------------------------------------------------------------------
# Report deadlines on a constructed log
# ------------------------------------------------------------------------------------------------


def _at(hh: int, mm: int) -> datetime:
    return datetime(2026, 7, 12, hh, mm, tzinfo=CST)


def _status(iid: str, name: str, old: str, new: str) -> dict[str, str]:
    return {"incident_id": iid, "incident": name, "from": old, "to": new, "text": f"{name} {new}"}


@pytest.fixture(scope="module")
def log_docs(demo_scenario: Any) -> dict[str, dict[str, str]]:
    names = {i.id: i.name for i in demo_scenario.incidents}
    docs: dict[str, dict[str, str]] = {}
    for when, entry in (
        (_at(5, 40), _status("INC-001", names["INC-001"], "", "接报")),  # II: due 07:40
        (_at(7, 15), _status("INC-002", names["INC-002"], "", "接报")),  # III 自然灾害: 11:15
        (_at(7, 30), report_entry("INC-002", names["INC-002"], "首报", "市应急管理局")),
        (_at(8, 0), report_entry("INC-001", names["INC-001"], "首报", "市应急管理局")),
        (_at(9, 5), _status("INC-003", names["INC-003"], "", "接报")),  # 事故灾难: 11:05
    ):
        docs = with_log_entry(docs, entry, now=when)
    return docs


def test_overdue_report_flagged(demo_scenario: Any, log_docs: dict[str, dict[str, str]]) -> None:
    data = review(demo_scenario, log_docs, [], replan=None, as_of=datetime(2026, 7, 12, 12, 0))
    rep = {r["incident_id"]: r for r in data["reports"]}
    assert rep["INC-001"]["state"] == "迟报" and rep["INC-001"]["late_min"] == 20.0
    assert rep["INC-001"]["due"] == "2026-07-12T07:40" and rep["INC-001"]["overdue"]
    assert rep["INC-002"]["state"] == "按时" and not rep["INC-002"]["overdue"]
    assert rep["INC-003"]["state"] == "未报（已超时）" and rep["INC-003"]["late_min"] == 55.0
    assert rep["INC-003"]["deadline_min"] == 120  # 事故灾难: 493号令 Art. 11, not the level rule
    # before INC-003's deadline it is not yet overdue
    early = review(demo_scenario, log_docs, [], replan=None, as_of=datetime(2026, 7, 12, 10, 0))
    assert {r["incident_id"]: r["state"] for r in early["reports"]}["INC-003"] == "未报（未到时限）"
    # the timeline holds every entry in time order, reports included
    kinds = [r["kind"] for r in data["timeline"]]
    assert kinds.count("信息报告") == 2 and len(kinds) == 5
    assert [r["time"] for r in data["timeline"]] == sorted(r["time"] for r in data["timeline"])
    # --incident keeps that incident's rows only
    one = review(demo_scenario, log_docs, [], replan=None, incident="INC-001")
    assert [r["incident_id"] for r in one["reports"]] == ["INC-001"]
    assert {r["incident_id"] for r in one["timeline"]} == {"INC-001"}


def test_deadlines_configurable(tmp_path: Path, demo_scenario: Any, log_docs: Any) -> None:
    f = tmp_path / "d.json"
    f.write_text(json.dumps({"first_report": [{"level": "II", "minutes": 180}]}), encoding="utf-8")
    rules = load_deadlines(f)
    data = review(demo_scenario, log_docs, [], replan=None, deadlines=rules)
    rep = {r["incident_id"]: r for r in data["reports"]}
    assert rep["INC-001"]["state"] == "按时"
    assert rep["INC-002"]["state"] == "无时限规则"  # III: no rule in that file
    for bad in ({"first_report": [{"level": "V", "minutes": 60}]},
                {"first_report": [{"minutes": -1}]}, {"x": 1}):  # fmt: skip
        f.write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(ValidationError, match="deadlines file"):
            load_deadlines(f)
    # every default names its source; the ones not stated as such by the source say so
    assert all(r.source for r in DEFAULT_RULES)
    assert ReportDeadlines().rule_for(3, "事故灾难").minutes == 120
    assert ReportDeadlines().rule_for(3, "自然灾害").assumption


def test_scenario_as_known_and_plan_in_force(
    demo_scenario: Any, log_docs: Any, demo_plan: Plan
) -> None:
    evs = events(log_docs)
    received = received_times(demo_scenario, evs)
    at7 = scenario_as_known(demo_scenario, evs, received, datetime(2026, 7, 12, 7, 0))
    assert [i.id for i in at7.incidents] == ["INC-001"]
    full = {i.id: i for i in demo_scenario.incidents}["INC-001"]
    # the deadline runs from 接报 (05:40): 80 minutes gone at 07:00
    assert at7.incidents[0].deadline_min == pytest.approx(max(0.1, full.deadline_min - 80))
    p = demo_plan.transition("已批准", "t", datetime(2026, 7, 12, 6, 0), "", allow_partial=True)
    p = p.transition("已下达", "t", datetime(2026, 7, 12, 6, 10), "")
    assert plan_in_force([p], datetime(2026, 7, 12, 6, 5)) is None
    assert plan_in_force([p], datetime(2026, 7, 12, 6, 10)) is p
    void = p.transition("已作废", "t", datetime(2026, 7, 12, 8, 0), "重新研判")
    assert plan_in_force([void], datetime(2026, 7, 12, 7, 0)) is void
    assert plan_in_force([void], datetime(2026, 7, 12, 8, 30)) is None


# ------------------------------------------------------------------------------------------------
# The command on the demo with the generated history
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history_ws(tmp_path_factory: pytest.TempPathFactory, demo_workspace_path: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tools.demo_event_history import write_history_copy

    out = tmp_path_factory.mktemp("review_ws") / "history.gpkg"
    return write_history_copy(demo_workspace_path, out, 0.5)


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdfinfo, pdftotext) not installed")
def test_review_cli(history_ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = history_ws.read_bytes()
    out = tmp_path / "rv"
    code, err = _main(
        capsys, "review", history_ws, "--out", out, "--incident", "INC-002", "--seconds", "0.5"
    )
    assert code == 0, err
    assert history_ws.read_bytes() == before  # only read
    data = json.loads((out / "review.json").read_text(encoding="utf-8"))
    rep = data["reports"]
    assert [r["incident_id"] for r in rep] == ["INC-002"] and rep[0]["state"] == "按时"
    # moments: 接报 of INC-002 and the two plan issues; each re-planned and compared
    triggers = [m["trigger"] for m in data["moments"]]
    assert len(triggers) == 3 and "接报" in triggers[1], triggers
    assert all(m["replanned"] and m["comparison"] for m in data["moments"])
    at_report = data["moments"][1]  # 07:15: plan 1 (made before INC-002 was known) in force
    assert at_report["plan_in_force"] == data["moments"][0]["plan_in_force"]
    served = at_report["comparison"]["incidents"][0]["served"]
    assert served[0] is None and served[1] > 0  # in force: nothing for INC-002; proposed: some
    lat = data["decision_latency"][0]
    assert lat["minutes"] == 150.0  # 07:15 接报 → 09:45 plan 2 issued
    text = _text(out / "review.pdf")
    for heading in ("时间线", "信息报告时限", "优化方案", "生效方案"):
        assert heading in text
    assert text.count("公里") >= 3  # a map (scale bar) per moment with a plan in force
    assert _pages(out / "review.pdf") >= 2
    wb = load_workbook(out / "review.xlsx", read_only=True)
    assert wb.sheetnames == ["时间线", "信息报告", "接报到下达", "决策对比", "时限依据"]


def test_review_bad_input(
    history_ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "d.json"
    bad.write_text("{not json", encoding="utf-8")
    for args, says in (
        (("--incident", "INC-404"), "INC-404"),
        (("--deadlines", str(bad)), "deadlines file"),
        (("--seconds", "0"), "--seconds"),
        (("--deadlines", str(tmp_path / "missing.json")), "does not exist"),
    ):
        out = tmp_path / "rv"
        code, err = _main(capsys, "review", history_ws, "--out", out, *args)
        assert code == 2, (args, err)
        line = err.strip()
        assert line.startswith("error:") and says in line and "\n" not in line, line
        assert not out.exists()


def test_review_dialog_read_only(
    qtbot: Any, demo_scenario: Any, log_docs: dict[str, dict[str, str]]
) -> None:
    """规划 → 事件复盘…: the same rows as review.xlsx, overdue reports red, nothing editable."""
    from PyQt6.QtCore import Qt

    from gui.docks.review_dialog import OVERDUE_BG, ReviewDialog

    dlg = ReviewDialog(None, demo_scenario, log_docs)
    qtbot.addWidget(dlg)
    assert dlg.timeline.rowCount() == 5 and dlg.reports.rowCount() == 3
    states = {dlg.reports.item(r, 0).text(): r for r in range(dlg.reports.rowCount())}
    names = {i.id: i.name for i in demo_scenario.incidents}
    late = dlg.reports.item(states[names["INC-001"]], 7)
    assert late.text() == "迟报" and late.background().color().name() == OVERDUE_BG
    on_time = dlg.reports.item(states[names["INC-002"]], 7)
    assert on_time.background().color().name() != OVERDUE_BG
    assert not late.flags() & Qt.ItemFlag.ItemIsEditable
