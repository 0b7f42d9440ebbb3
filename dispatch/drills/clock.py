"""A drill step's plan file with its figures judged on the clock (issue 14 §3–4).

A drill step plans with the deadline left at its inject (at least ``MIN_LEFT_MIN``), so the
plan's own per-incident figures (``incidents``: on-time shares, late quantities and teams) are
judged on that deadline; the scorecard judges them against each incident's deadline as a clock
time (:func:`dispatch.drills.scorecard.judged`). ``DIR/steps/NN/plan.json`` keeps the plan
format (``Plan.to_dict``: the planner's own figures, read back unchanged by
:meth:`dispatch.plan.Plan.from_json`) and records, for a reader and for ``app.py compare``:

- first in ``inputs.notes``: one line (Chinese, then English) saying which figures are which,
  with the main clock-judged figures (the plan's summary / overview prints the first notes);
- the optional top-level field :data:`CLOCK_KEY` (``drill_clock``; absent in plain plans,
  ignored by ``Plan.from_json``): ``judged_on`` (``"clock"``), ``deadlines`` (incident id → its
  deadline as an ISO clock time), ``incidents`` (the :class:`dispatch.records.IncidentOutcome`
  records judged on the clock, the plan format's own record) and ``metrics``
  (:func:`dispatch.drills.scorecard.plan_metrics` of the judged plan: the step's scorecard
  figures in drill.json).

:func:`read_plan_data` reads a plan file's data back: the plan, and the plan judged on the clock
when the file records it (a plain plan: itself).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dispatch.drills.scorecard import plan_metrics
from dispatch.plan import Plan, from_jsonable, to_jsonable
from dispatch.records import IncidentOutcome
from gis.errors import ValidationError

#: the optional plan.json field with a drill step's figures judged on the clock
CLOCK_KEY = "drill_clock"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def clock_note(own: Mapping[str, Any], clock: Mapping[str, Any]) -> str:
    """The line put first in a step plan's ``inputs.notes``: which figures are which, and the
    main ones both ways (``own``, ``clock``: :func:`plan_metrics` of the plan and of it judged
    on the clock)."""
    return (
        "演练步骤方案：本方案各事件的按时数字（incidents）按本步剩余时限计算（已超时的按 0.1 分钟计），"
        f"按各事件时限时刻（事发＋时限）判定的数字见 {CLOCK_KEY}，与演练评分一致："
        f"物资按时率 {_pct(clock['on_time_fraction'])}（方案自身 {_pct(own['on_time_fraction'])}），"
        f"迟到需求项 {clock['needs_late']}（{own['needs_late']}），"
        f"时限内到场队伍 {clock['teams_on_site_on_time']}（{own['teams_on_site_on_time']}），"
        f"时限内安置 {clock['people_sheltered_on_time']} 人（{own['people_sheltered_on_time']}）"
        f"（drill step plan: incidents are judged on the deadline left; {CLOCK_KEY} on the clock)"
    )


def step_plan_data(plan: Plan, clocked: Plan, deadlines: Mapping[str, datetime]) -> dict[str, Any]:
    """``plan``'s file data (the plan format) with the note and :data:`CLOCK_KEY` added;
    ``clocked``: ``plan`` judged on the clock (:func:`dispatch.drills.scorecard.judged`),
    ``deadlines``: the step's (:attr:`dispatch.drills.runner.DrillStep.deadlines`)."""
    own, clock = plan_metrics(plan), plan_metrics(clocked)
    inputs = dataclasses.replace(plan.inputs, notes=(clock_note(own, clock), *plan.inputs.notes))
    data = dataclasses.replace(plan, inputs=inputs).to_dict()
    data[CLOCK_KEY] = {
        "judged_on": "clock",
        "deadlines": {k: v.isoformat() for k, v in sorted(deadlines.items())},
        "incidents": to_jsonable(clocked.incidents),
        "metrics": clock,
    }
    return data


def read_plan_data(data: Any, where: str = "plan") -> tuple[Plan, Plan]:
    """The plan of a plan file's data and that plan judged on the clock (from
    :data:`CLOCK_KEY`; the plan itself when the file has none). A malformed field raises
    :class:`gis.errors.ValidationError` naming it."""
    plan = Plan.from_dict(data)
    clock = data.get(CLOCK_KEY) if isinstance(data, Mapping) else None
    if clock is None:
        return plan, plan
    if not isinstance(clock, Mapping) or "incidents" not in clock:
        raise ValidationError(f"{where}: {CLOCK_KEY} must be an object with 'incidents'")
    incidents = from_jsonable(
        tuple[IncidentOutcome, ...], clock["incidents"], f"{where}.{CLOCK_KEY}.incidents"
    )
    return plan, dataclasses.replace(plan, incidents=incidents)


def step_plan_json(plan: Plan, clocked: Plan, deadlines: Mapping[str, datetime]) -> str:
    """:func:`step_plan_data` as the text of ``DIR/steps/NN/plan.json`` (as ``Plan.to_json``)."""
    return json.dumps(step_plan_data(plan, clocked, deadlines), ensure_ascii=False, indent=1)


__all__ = ["CLOCK_KEY", "clock_note", "read_plan_data", "step_plan_data", "step_plan_json"]
