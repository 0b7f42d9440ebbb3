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
