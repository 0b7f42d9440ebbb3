"""The drill scorecard judges every delivery, team arrival and evacuation move against its
incident's deadline as a clock time (issue 14 §3), whichever step it happened in: on the demo
county, deliveries to 福宝镇山洪 (INC-001, 45 min) made late before an inject at T+80 stay late
in the scorecard of every later step and overall, although each re-plan plans with the
deadline left (at least 0.1 min, which a delivery made before the plan's time always meets).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from dispatch.drills.runner import run_drill
from dispatch.drills.scorecard import judged, overall, plan_metrics, step_record
from dispatch.drills.script import parse_script
from dispatch.outcomes import ON_TIME_TOLERANCE_S
from dispatch.timeliness import NeedKind, NeedState, need_lines

START = datetime(2026, 7, 12, 10, 0)
#: two injects that change nothing at 福宝 (a team and a shelter the baseline does not use)
SCRIPT = {
    "name": "迟到后插入（演练）",
    "start": START.isoformat(),
    "injects": [
        {"at_min": 80, "kind": "team_unavailable", "team_id": "TM-001"},
        {"at_min": 100, "kind": "shelter_full", "shelter_id": "SH-001"},
    ],
}


@pytest.fixture(scope="module")
def steps(demo_scenario: Any, demo_network: Any) -> tuple[Any, ...]:
    script = parse_script(SCRIPT, demo_scenario)
    return run_drill(demo_scenario, demo_network, script, auto=True, seconds_per_step=2, seed=0)


def _late_before(plan: Any, deadlines: dict[str, datetime]) -> dict[tuple[str, str], float]:
    """(site, material) → quantity unloaded before the plan's time after the clock deadline."""
    out: dict[tuple[str, str], float] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                end = deadlines.get(s.site_id)
                at = plan.created_at + timedelta(seconds=s.arrival_s)
                if end is None or s.arrival_s >= 0:
                    continue
                if (at - end).total_seconds() > ON_TIME_TOLERANCE_S:
                    for code, q in s.loads.items():
                        key = (s.site_id, code)
                        out[key] = out.get(key, 0.0) + float(q)
    return out


def test_late_before_an_inject_stays_late(steps: tuple[Any, ...]) -> None:
    base, *later = steps
    assert [s.number for s in later] == [1, 2] and all(s.plan is not None for s in steps)
    # the baseline plans with the whole deadline: judged on the clock it is unchanged
    assert judged(base.plan, base.scenario, base.deadlines).incidents == base.plan.incidents
    records = [step_record(s, f"steps/{s.number:02d}", {}) for s in steps]
    for s, rec in zip(later, records[1:], strict=True):
        plan = s.plan
        assert s.deadlines["INC-001"] == START + timedelta(minutes=45)
        before = _late_before(plan, dict(s.deadlines))
        assert any(site == "INC-001" for site, _ in before), "no late delivery before the inject"
        raw = {o.incident_id: o for o in plan.incidents}
        fair = {o.incident_id: o for o in judged(plan, s.scenario, s.deadlines).incidents}
        # the plan's own figures (deadline left ≥ 0.1 min) count those deliveries on time;
        # judged on the clock they are late, on top of what the plan itself finds late
        for (site, code), q in before.items():
            assert fair[site].late.get(code, 0.0) == pytest.approx(
                raw[site].late.get(code, 0.0) + q
            )
        lines = {
            (ln.site_id, ln.what): ln
            for ln in need_lines(judged(plan, s.scenario, s.deadlines))
            if ln.kind is NeedKind.MATERIAL
        }
        assert all(lines[k].state is not NeedState.ON_TIME for k in before if k in lines)
        m = rec["metrics"]
        assert m["needs_late"] == sum(
            1 for ln in lines.values() if ln.state is NeedState.LATE
        ) + sum(
            1
            for ln in need_lines(judged(plan, s.scenario, s.deadlines))
            if ln.kind is not NeedKind.MATERIAL and ln.state is NeedState.LATE
        )
        # teams and evacuation on the same clock
        clock = {k: (v - plan.created_at).total_seconds() for k, v in s.deadlines.items()}
        assert m["teams_on_site_on_time"] == sum(
            1 for a in plan.assignment if a.eta_s <= clock[a.incident_id] + ON_TIME_TOLERANCE_S
        )
        assert m["people_sheltered_on_time"] == sum(
            int(mv.people)
            for mv in plan.evacuation
            if mv.travel_s <= clock[mv.group_id] + ON_TIME_TOLERANCE_S
        )
    # the later deliveries of step 1 are still there, late, in step 2
    one = _late_before(later[0].plan, dict(later[0].deadlines))
    two = _late_before(later[1].plan, dict(later[1].deadlines))
    assert all(two.get(k, 0.0) >= q - 1e-6 for k, q in one.items())
    # every deadline has passed by T+80, so what is on time was delivered before it, in the
    # baseline's trips: the on-time share stays the baseline's (the plans' own figures, on the
    # deadline left, count the late deliveries before the inject on time and say more)
    share = records[0]["metrics"]["on_time_fraction"]
    for s, rec in zip(later, records[1:], strict=True):
        assert rec["metrics"]["served_fraction"] == pytest.approx(1.0)
        assert rec["metrics"]["on_time_fraction"] == pytest.approx(share, abs=1e-3)
        assert plan_metrics(s.plan)["on_time_fraction"] > share + 0.1
        assert rec["metrics"]["needs_late"] > plan_metrics(s.plan)["needs_late"]
    card = overall(records)
    assert card["final_needs_late"] == records[-1]["metrics"]["needs_late"]
    assert card["final_on_time_fraction"] == pytest.approx(share, abs=1e-3)


def _write_run(steps: tuple[Any, ...], scenario: Any, out: Any) -> dict[str, Any]:
    from dispatch.drills.cli import write_drill

    script = parse_script(SCRIPT, scenario)
    return write_drill(
        out, script, steps, workspace="", script="", auto=True, seconds_per_step=2, seed=0
    )


def test_step_plan_files_record_the_clock(
    steps: tuple[Any, ...], demo_scenario: Any, tmp_path: Any
) -> None:
    """Each DIR/steps/NN/plan.json keeps the plan format and the planner's own figures, and
    records the figures judged on the clock (``drill_clock``, a note first in inputs.notes,
    which the plan's overview prints); drill.json's comparison is judged on the clock too."""
    import json

    from dispatch.drills.clock import CLOCK_KEY, read_plan_data
    from dispatch.plan import Plan
    from dispatch.summary import summary_text

    drill = _write_run(steps, demo_scenario, tmp_path / "run")
    records = [drill["baseline"], *drill["steps"]]
    for s, rec in zip(steps, records, strict=True):
        raw = json.loads((tmp_path / "run" / rec["plan_dir"] / "plan.json").read_text("utf-8"))
        plan = Plan.from_json(json.dumps(raw))  # the plan format, read as any plan
        assert plan.number == s.plan.number and plan.incidents == s.plan.incidents
        assert plan.routes == s.plan.routes and plan.inputs.notes[1:] == s.plan.inputs.notes
        fair = judged(s.plan, s.scenario, s.deadlines)
        assert read_plan_data(raw)[1].incidents == fair.incidents
        clock = raw[CLOCK_KEY]
        assert clock["judged_on"] == "clock"
        assert clock["deadlines"]["INC-001"] == (START + timedelta(minutes=45)).isoformat()
        assert clock["metrics"] == {k: v for k, v in rec["metrics"].items() if k != "state"}
        note = plan.inputs.notes[0]
        assert CLOCK_KEY in note and f"物资按时率 {100 * fair_share(fair):.0f}%" in note
        assert note.replace("\n", " ") in summary_text(plan).replace("\n", " ")
    # the later steps' own figures say more on time than the clock: the note gives both
    own = plan_metrics(steps[-1].plan)["on_time_fraction"]
    assert f"方案自身 {100 * own:.0f}%" in plan.inputs.notes[0]
    # drill.json's comparison: per incident the on-time shares the scorecard judges
    first_last = drill["comparison"][-1]
    assert (first_last["from_step"], first_last["to_step"]) == (0, 2)
    fair_last = {
        o.incident_id: o for o in judged(plan, steps[-1].scenario, steps[-1].deadlines).incidents
    }
    for inc in first_last["incidents"]:
        assert inc["on_time"][1] == pytest.approx(
            fair_last[inc["incident_id"]].on_time_fraction, abs=1e-4
        )


def fair_share(plan: Any) -> float:
    return plan_metrics(plan)["on_time_fraction"]


def test_compare_judges_drill_plans_on_the_clock(
    steps: tuple[Any, ...], demo_scenario: Any, tmp_path: Any
) -> None:
    """``app.py compare`` of two drill runs shows the on-time figures of the drills' scorecards
    (judged on the clock); a plain plan file keeps its own figures."""
    import json

    from dispatch.drills.compare_cli import run_compare_cli

    drill = _write_run(steps, demo_scenario, tmp_path / "a")
    _write_run(steps, demo_scenario, tmp_path / "b")
    assert run_compare_cli(tmp_path / "a", tmp_path / "b", tmp_path / "cmp") == 0
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text("utf-8"))
    assert data["a"]["judged_on"] == data["b"]["judged_on"] == "clock"
    card = drill["scorecard"]
    for key in ("on_time_fraction", "needs_late", "teams_on_site_on_time"):
        assert data["figures"][key] == [card[f"final_{key}"]] * 2
    by_step = {s["step"]: s for s in data["steps"]}
    for s in steps:
        fair = {
            o.incident_id: o.on_time_fraction
            for o in judged(s.plan, s.scenario, s.deadlines).incidents
        }
        for inc in by_step[s.number]["incidents"]:
            want = pytest.approx(fair[inc["incident_id"]], abs=1e-4)
            assert inc["on_time"] == [want, want]
    # a plain plan (the last step's plan as the dispatch CLI saves it): its own figures
    last = steps[-1]
    plain = tmp_path / "plain.json"
    plain.write_text(last.plan.to_json(), encoding="utf-8")
    assert run_compare_cli(plain, tmp_path / "a", tmp_path / "cmp2") == 0
    mixed = json.loads((tmp_path / "cmp2" / "compare.json").read_text("utf-8"))
    assert [mixed["a"]["judged_on"], mixed["b"]["judged_on"]] == ["plan", "clock"]
    assert mixed["figures"]["on_time_fraction"] == [
        plan_metrics(last.plan)["on_time_fraction"],
        card["final_on_time_fraction"],
    ]
    own = {o.incident_id: o.on_time_fraction for o in last.plan.incidents}
    rows = {i["incident_id"]: i["on_time"] for i in mixed["incidents"]}
    assert rows["INC-001"][0] == pytest.approx(own["INC-001"], abs=1e-4)
    assert rows["INC-001"][0] > rows["INC-001"][1]  # late before the inject: late on the clock
    # a damaged drill_clock: a clear message naming the field, nothing written
    from gis.errors import ValidationError

    raw = json.loads((tmp_path / "a" / "steps" / "01" / "plan.json").read_text("utf-8"))
    raw["drill_clock"]["incidents"][0]["on_time_fraction"] = "x"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"drill_clock\.incidents\[0\]\.on_time_fraction"):
        run_compare_cli(bad, tmp_path / "a", tmp_path / "cmp3")
    assert not (tmp_path / "cmp3").exists()
