"""Running a drill: the injects applied in time order to a copy of the scenario, re-planned at
each inject with :func:`dispatch.pipeline.plan_dispatch` when ``auto``.

State carried between steps is what the scenario and the pipeline hold: closures stay until a
``reopen``; a team made unavailable stays 休整; a lost stockpile (with its stock and vehicles)
stays gone; a full shelter stays full; new and escalated incidents stay. Before the first
inject a baseline plan is made at the drill's start (``DIR/steps/00``). Each plan is then
treated as issued (已下达: approved and issued with :meth:`dispatch.plan.Plan.transition`, by
"演练自动" at the simulated time), so the next re-plan keeps its orders unless the inject makes
them impossible (:mod:`dispatch.replan`).

Deadlines run on: the pipeline reads an incident's ``deadline_min`` as minutes from the plan's
time, so each step plans with the golden hour still left (:func:`remaining_deadlines`: the
deadline less the minutes since the drill's start, or since the inject that added the
incident; at least :data:`MIN_LEFT_MIN`). The scenario in each step keeps the original values,
and the scorecard judges every delivery, team arrival and move against each incident's deadline
as a clock time (:attr:`DrillStep.deadlines`, :func:`dispatch.drills.scorecard.judged`).

Vehicles continue from where they are at the inject time (``plan_dispatch(track_fleet=True)``,
:mod:`dispatch.fleet_state`): trips done before it stay in the plan and their goods stay
delivered (the needs left are what the re-plan serves), a vehicle under way completes its
current trip and is then free at its depot (the routing model starts every trip at a depot),
trips not begun are planned again. A vehicle whose remaining legs cross a new closure keeps the
stops it reached and turns back the way it came (free at its depot after as long again as
it has driven on the trip), with the reason in the order changes. Teams too
(:func:`dispatch.fleet_state.team_state`): a team on site at the inject stays as sent (not
re-sent, whatever closes behind it) unless released (``team_unavailable``: 休整) or its
incident is gone; a team en route keeps its dispatch and its arrival time unless a full
closure cuts the road still ahead of it — then it is re-assigned (its travel counted from its
base: its position on the road is not in the model), the order change says so. Evacuation too
(:mod:`dispatch.evacuation_state`): people whose move arrived stay sheltered, a move under way
continues unless a full closure cuts its road ahead (then planned again from the origin, the
plan's notes say why), moves not begun are planned again. The drill's ``notes`` say so.

Determinism: ``seed`` goes to the solvers that take one (``DispatchOptions.seed``: CP-SAT
evacuation and team assignment, PyVRP routing; OR-Tools routing has none). Each stage is
time-limited (``seconds_per_step``), so on a loaded machine a solver may stop at a different
point (CP-SAT runs 8 workers: a stage cut short may return another solution, and later
re-plans start from it): served / on-time / unmet counts repeat when the exact stages prove
their optimum within the budget (the demo county at 1–2 s, usually), wall times never do.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dispatch.drills.script import DrillScript, Inject
from dispatch.options import DispatchOptions
from dispatch.plan import Plan
from gis.model import IncidentStatus, Scenario, TeamStatus

AUTO_WHO = "演练自动"
#: the golden hour left to an incident whose deadline has passed (Incident needs > 0 minutes)
MIN_LEFT_MIN = 0.1

NOTES = (
    "车辆从插入时刻所在位置继续：插入前已完成的配送保留、物资视为已送达，重新调度只计算剩余需求；"
    "在途车辆先完成当前一趟、回到储备库后再参与调度；尚未出发的趟次重新安排"
    "（vehicles under way complete their current trip, deliveries made stay made).",
    "在途车辆剩余路线经过新封闭道路时：保留已到达的停靠点，该车按原路返回储备库后再参与调度，"
    "车上未送物资随车返回，原因列入指令变更（路径模型只能从储备库出发，无法从途中改道）。",
    "已到达现场的队伍留在现场（除非休整或事件已结束）；在途队伍保持原到达时间，"
    "除非新的全封闭道路切断其前方道路，此时重新派遣（按从驻地出发计算，在途位置不入模型）"
    "（teams on site stay; teams en route keep their ETA unless a full closure cuts the road "
    "ahead).",
    "已到达避难场所的转移人员留在原处（计入其占用，事件待转移人数相应减少）；在途转移继续前往原避难场所，"
    "除非新的全封闭道路切断其前方道路，此时从原地重新安排；尚未出发的重新安排"
    "（people sheltered stay; moves under way continue unless a full closure cuts the road "
    "ahead).",
    "事件时限随模拟时间递减：每步按剩余时限调度（已超时的按 0.1 分钟计）；评分按各事件的时限时刻"
    "（事发时刻＋时限）判定每次送达、到场和转移，插入前已迟到的送达在之后各步仍计为迟到"
    "（scored against each incident's deadline as a clock time).",
    "每个方案视为已下达（审批并下达由“演练自动”完成），下一次重新调度保留其未受影响的指令。",
)


@dataclass(frozen=True)
class DrillStep:
    """One step: the inject, the scenario after it and (``auto``) the plan made for it."""

    number: int  # 0 = baseline at the start, 1.. = the injects
    inject: Inject | None
    simulated_at: datetime
    wall_clock: datetime
    wall_s: float
    scenario: Scenario
    plan: Plan | None
    preposition: dict[str, Any] | None = None  # a warning inject's scored pre-positioning
    #: incident id → its deadline as a clock time (:func:`absolute_deadlines`): the scorecard
    #: judges deliveries, arrivals and moves against it (a plan's deadline left is at least
    #: MIN_LEFT_MIN, which would count anything done late before the inject as on time)
    deadlines: Mapping[str, datetime] = dataclasses.field(default_factory=dict)


def apply_inject(scenario: Scenario, inject: Inject) -> Scenario:
    """The scenario after ``inject`` (validated by :mod:`dispatch.drills.script`)."""
    kind, target = inject.kind, inject.target
    if kind == "incident":
        return dataclasses.replace(scenario, incidents=(*scenario.incidents, inject.incident))
    if kind == "closure":
        return dataclasses.replace(scenario, closures=(*scenario.closures, inject.closure))
    if kind == "reopen":
        return dataclasses.replace(
            scenario, closures=tuple(c for c in scenario.closures if c.id != target)
        )
    if kind == "escalate":
        incidents = tuple(
            dataclasses.replace(
                i,
                level=inject.level,
                affected_people=inject.people,
                needs=dict(inject.needs),
                required_skills=dict(inject.skills),
            )
            if i.id == target
            else i
            for i in scenario.incidents
        )
        return dataclasses.replace(scenario, incidents=incidents)
    if kind == "team_unavailable":
        teams = tuple(
            dataclasses.replace(t, status=TeamStatus.RESTING) if t.id == target else t
            for t in scenario.teams
        )
        return dataclasses.replace(scenario, teams=teams)
    if kind == "stockpile_lost":
        return dataclasses.replace(
            scenario, stockpiles=tuple(s for s in scenario.stockpiles if s.id != target)
        )
    if kind == "warning":  # the pre-positioning is planned and carried out by the runner
        return scenario
    if kind == "shelter_full":
        shelters = tuple(
            dataclasses.replace(s, occupancy=s.capacity) if s.id == target else s
            for s in scenario.shelters
        )
        return dataclasses.replace(scenario, shelters=shelters)
    raise ValueError(f"unknown inject kind {kind!r}")  # parse_script lets none through


def remaining_deadlines(scenario: Scenario, clocks: dict[str, datetime], now: datetime) -> Scenario:
    """``scenario`` with each incident's deadline shortened by the minutes since its clock
    started (``clocks``: incident id → drill start or its inject's time)."""
    incidents = []
    for i in scenario.incidents:
        start = clocks.get(i.id, now)
        left = i.deadline_min - (now - start).total_seconds() / 60.0
        incidents.append(dataclasses.replace(i, deadline_min=max(MIN_LEFT_MIN, left)))
    return dataclasses.replace(scenario, incidents=tuple(incidents))


def absolute_deadlines(scenario: Scenario, clocks: Mapping[str, datetime]) -> dict[str, datetime]:
    """Incident id → the clock time of its deadline (its clock's start, ``clocks``, plus its
    ``deadline_min``), for incidents with a clock."""
    return {
        i.id: clocks[i.id] + timedelta(minutes=float(i.deadline_min))
        for i in scenario.incidents
        if i.id in clocks
    }


def scenario_state(scenario: Scenario) -> dict[str, Any]:
    """The scenario's state at a step, for a step without a plan (and beside one)."""
    open_incidents = [i for i in scenario.incidents if i.status != IncidentStatus.CLOSED]
    return {
        "open_incidents": len(open_incidents),
        "affected_people": sum(int(i.affected_people) for i in open_incidents),
        "closures": len(scenario.closures),
        "teams_available": sum(1 for t in scenario.teams if t.status == TeamStatus.STANDBY),
        "stockpiles": len(scenario.stockpiles),
        "shelters_full": sum(1 for s in scenario.shelters if s.occupancy >= s.capacity),
    }


def step_options(
    at: datetime, numbers: tuple[str, ...], seconds_per_step: float, seed: int
) -> DispatchOptions:
    """The dispatch options of a drill step planned at simulated time ``at``."""
    return DispatchOptions(
        seconds=float(seconds_per_step),
        created_at=at,
        existing_numbers=tuple(numbers),
        seed=int(seed),
    )


def issue_auto(plan: Plan, at: datetime, *, number: int, inject: Inject | None) -> Plan:
    """``plan`` approved and issued by :data:`AUTO_WHO` at the step's simulated time ``at``
    (a drill's automatic plan is treated as issued, see the module doc)."""
    note = f"演练第 {number} 步" if inject is None else f"演练第 {number} 步：{inject.kind_zh}"
    plan = plan.transition("已批准", AUTO_WHO, at, note, allow_partial=True)
    return plan.transition("已下达", AUTO_WHO, at, note)


def plan_step(
    view: Scenario,
    network: Any,
    options: DispatchOptions,
    *,
    number: int,
    inject: Inject | None,
    previous: Plan | None,
    stop: Any = None,
    progress: Any = None,
) -> Plan:
    """The automatic plan of step ``number`` (``view``: the state with the deadlines left,
    :func:`remaining_deadlines`), issued by :func:`issue_auto` at the step's time."""
    from dispatch.pipeline import plan_dispatch

    at = options.created_at
    assert at is not None
    plan = plan_dispatch(
        view, network, options, previous=previous, stop=stop, progress=progress, track_fleet=True
    )
    return issue_auto(plan, at, number=number, inject=inject)


def run_drill(
    scenario: Scenario,
    network: Any,
    script: DrillScript,
    *,
    auto: bool,
    seconds_per_step: float,
    seed: int = 0,
    existing_numbers: tuple[str, ...] = (),
    log: Callable[[DrillStep], None] | None = None,
) -> tuple[DrillStep, ...]:
    """Run ``script`` on a copy of ``scenario`` (frozen: the caller's is never changed).

    With ``auto`` the baseline (step 0) and every inject are planned; without, the steps only
    carry the scenario state (``plan`` None). ``log`` is called after each step."""
    numbers = list(existing_numbers)
    steps: list[DrillStep] = []
    previous: Plan | None = None
    clocks = {i.id: script.start for i in scenario.incidents}

    def step(number: int, inject: Inject | None, state: Scenario) -> Scenario:
        nonlocal previous
        at = script.start + timedelta(minutes=inject.at_min if inject else 0.0)
        wall = datetime.now().astimezone()
        t0 = time.perf_counter()
        plan = None
        pre = None
        if inject is not None and inject.kind == "warning":
            from dispatch.warnings.drill import preposition_step

            state, pre = preposition_step(
                state, network, inject.target, inject.colour, seconds=seconds_per_step, at=at
            )
        if auto:
            options = step_options(at, tuple(numbers), seconds_per_step, seed)
            view = remaining_deadlines(state, clocks, at)
            plan = plan_step(
                view, network, options, number=number, inject=inject, previous=previous
            )
            numbers.append(plan.number)
            previous = plan
        s = DrillStep(
            number,
            inject,
            at,
            wall,
            time.perf_counter() - t0,
            state,
            plan,
            pre,
            absolute_deadlines(state, clocks),
        )
        steps.append(s)
        if log is not None:
            log(s)
        return state

    state = scenario
    if auto:
        step(0, None, state)
    for n, inject in enumerate(script.injects, start=1):
        state = apply_inject(state, inject)
        if inject.kind == "incident":
            clocks[inject.target] = script.start + timedelta(minutes=inject.at_min)
        state = step(n, inject, state)
    return tuple(steps)


__all__ = [
    "AUTO_WHO",
    "MIN_LEFT_MIN",
    "NOTES",
    "DrillStep",
    "absolute_deadlines",
    "apply_inject",
    "issue_auto",
    "plan_step",
    "remaining_deadlines",
    "run_drill",
    "scenario_state",
    "step_options",
]
