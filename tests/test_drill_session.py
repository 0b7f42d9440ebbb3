"""The desk's drill session state machine and the drill scripts kept in the workspace
(issue 14 §1–§3, headless): clock, speed, next inject, manual timing, auto re-plan, storage."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dispatch.drills.runner import plan_step
from dispatch.drills.script import parse_script
from dispatch.drills.session import DrillSession
from dispatch.drills.store import (
    DRILL_SCRIPTS_KIND,
    new_key,
    read_script_file,
    row_problems,
    sorted_injects,
    stored_scripts,
    with_script,
    write_script_file,
)
from dispatch.records import PlanStatus
from gis.errors import ValidationError
from gis.model import TeamStatus
from gis.workspace import read_workspace, write_workspace

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "drills" / "hejiang_flood_drill.json"


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _session(demo_scenario: Any, data: dict[str, Any], **kw: Any) -> DrillSession:
    return DrillSession(demo_scenario, parse_script(data, demo_scenario), **kw)


def test_clock_speed_fires_injects_in_order(demo_scenario: Any, data: dict[str, Any]) -> None:
    s = _session(demo_scenario, data, auto=False)
    assert not s.started and s.next_inject.at_min == 20
    assert s.advance(60) is None  # not playing: the clock stands
    assert s.clock_min == 0
    s.play()
    s.set_speed(60)  # one simulated minute per wall second
    assert s.advance(10) is None and s.clock_min == pytest.approx(10)
    fired = s.advance(15)  # would pass T+25: stops at the closure at T+20
    assert fired is not None and fired.kind == "closure" and s.clock_min == 20
    assert s.awaiting == 1 and s.simulated_at == datetime.fromisoformat(data["start"]).replace(
        minute=20
    )
    assert "DRILL-CL-1" in {c.id for c in s.state.closures}
    assert "DRILL-CL-1" not in {c.id for c in demo_scenario.closures}  # workspace untouched
    assert s.advance(60) is None and s.clock_min == 20  # waits for the step's plan
    s.record_plan(None, manual=True)
    s.set_speed(1)  # real time: 60 wall seconds = 1 simulated minute
    s.advance(60)
    assert s.clock_min == pytest.approx(21)
    with pytest.raises(ValidationError):
        s.set_speed(120)
    texts = [e.text for e in s.log]
    assert texts[0].startswith("演练开始") and any("道路中断" in t for t in texts)
    assert "模拟速度 ×60" in texts and "播放" in texts


def test_step_through_manual_timing_and_state(demo_scenario: Any, data: dict[str, Any]) -> None:
    clock = Clock()
    s = _session(demo_scenario, data, auto=False, monotonic=clock)
    kinds = []
    for n in range(4):
        inj = s.step()
        assert inj is not None and s.awaiting == n + 1
        assert s.step() is None  # the step waits for its plan first
        clock.t += 10.0 * (n + 1)
        step = s.record_plan(None, manual=True)
        assert step.wall_s == pytest.approx(10.0 * (n + 1))  # inject → decision, wall clock
        kinds.append(inj.kind)
    assert kinds == ["closure", "escalate", "incident", "team_unavailable"]
    assert s.finished and s.clock_min == 80
    team = next(t for t in s.state.teams if t.id == "TM-003")
    assert team.status == TeamStatus.RESTING
    assert "DRILL-INC-1" in {i.id for i in s.state.incidents}
    inc2 = next(i for i in s.state.incidents if i.id == "INC-002")
    assert inc2.level == 2 and inc2.affected_people == 600
    # the deadline of the incident added at T+60 runs from T+60 (20 min gone at T+80)
    view = next(i for i in s.view().incidents if i.id == "DRILL-INC-1")
    assert view.deadline_min == pytest.approx(60 - 20)
    recs = s.records()
    assert [r["kind"] for r in recs] == kinds and all(r["plan_dir"] is None for r in recs)
    assert s.scorecard()["steps"] == 4 and s.scorecard()["planned_steps"] == 0


def test_auto_replan_and_manual_acceptance(
    demo_scenario: Any, demo_network: Any, data: dict[str, Any]
) -> None:
    """Baseline and the first inject planned as the CLI plans them; a manual plan is accepted
    only once approved."""
    short = {**data, "injects": data["injects"][:1]}
    s = _session(demo_scenario, short, auto=True, seconds_per_step=1.0, seed=3)
    s.start()
    assert s.awaiting == 0 and s.step() is None  # the baseline comes first
    for _ in range(2):
        req = s.auto_request()
        plan = plan_step(
            req.view, demo_network, req.options, number=req.number, inject=req.inject,
            previous=req.previous,
        )  # fmt: skip
        assert plan.status.value == "已下达" and plan.created_at == s.simulated_at
        s.record_plan(plan, manual=False, wall_s=1.5)
        if s.next_inject is not None:
            s.step()
    assert s.finished and len(s.steps) == 2
    recs = s.records()
    assert [r["kind"] for r in recs] == ["baseline", "closure"]
    assert recs[1]["plan_dir"] == "steps/01" and recs[1]["wall_s"] == 1.5
    # the re-plan starts from the baseline: its changes are counted against it
    assert s.steps[1].plan.inputs.previous_plan == s.steps[0].plan.number
    card = s.scorecard()
    assert card["planned_steps"] == 1 and "final_needs_unmet" in card
    # a manual step accepts an approved plan it has not recorded yet, never a draft
    m = _session(demo_scenario, short, auto=False)
    m.step()
    draft = s.steps[0].plan
    assert not m.accepts(dataclasses.replace(draft, status=PlanStatus.DRAFT))
    assert not m.accepts(draft)  # planned at T+0, not at the inject's time
    assert m.accepts(dataclasses.replace(draft, created_at=m.simulated_at))


def test_scripts_in_the_workspace_round_trip(
    demo_workspace_path: Path, tmp_path: Path, data: dict[str, Any]
) -> None:
    ws = read_workspace(demo_workspace_path)
    assert stored_scripts(ws.documents) == {}  # a workspace from before drills opens as before
    key = new_key(ws.documents, data["name"])
    docs = with_script(ws.documents, key, data)
    assert new_key(docs, data["name"]) == f"{data['name']} (2)"
    out = tmp_path / "ws.gpkg"
    write_workspace(out, ws.scenario, documents=docs)
    back = read_workspace(out)
    assert stored_scripts(back.documents) == {key: data}
    assert DRILL_SCRIPTS_KIND not in with_script(back.documents, key, None)
    # the file format of the CLI, both ways
    f = tmp_path / "drill.json"
    write_script_file(f, data)
    assert read_script_file(f) == data
    f.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValidationError, match="JSON object"):
        read_script_file(f)


def test_row_problems_name_every_wrong_row(demo_scenario: Any, data: dict[str, Any]) -> None:
    assert row_problems(data, demo_scenario) == ({}, "")
    bad = copy.deepcopy(data)
    bad["injects"][0]["closure"].pop("geometry")  # row 0: no geometry
    bad["injects"][2]["incident"]["lon"] = 120.0  # row 2: outside the county
    bad["injects"][3]["team_id"] = "NO-SUCH-TEAM"  # row 3: unknown id
    problems, general = row_problems(bad, demo_scenario)
    assert general == ""
    assert set(problems) == {0, 2, 3}
    assert problems[0].startswith("inject #1 (closure)") and "geometry" in problems[0]
    assert problems[2].startswith("inject #3 (incident)") and "outside the county" in problems[2]
    assert problems[3].startswith("inject #4") and "NO-SUCH-TEAM" in problems[3]
    late = copy.deepcopy(data)
    late["injects"][1]["at_min"] = 5  # before the closure at 20: out of order …
    assert "out of order" in row_problems(late, demo_scenario)[0][1]
    fixed = sorted_injects(late)  # … which sorting fixes
    assert [r["at_min"] for r in fixed["injects"]] == [5, 20, 60, 80]
    assert row_problems(fixed, demo_scenario) == ({}, "")
    assert row_problems({**data, "start": "tomorrow"}, demo_scenario)[1].startswith(
        "drill script: 'start'"
    )
