"""A drill run on the desk (Qt-free): simulated clock, next inject, re-plan per step, log.

:class:`DrillSession` is the state machine the 演练 dock drives; the dock and its controller
only call it and show what it holds, so everything here is tested headless.

States: ``ready`` (not started) → ``running`` (the clock runs while ``playing``; paused
otherwise) → at each inject the clock stops and the step ``awaits`` a plan → a plan (or
"continue without re-planning") releases it → ... → ``finished`` after the last inject's step.

- **Clock**: simulated minutes since the script's ``start``. :meth:`advance` moves it by wall
  seconds × :attr:`speed` (×1 = real time, ×60 = one simulated minute per wall second) while
  playing, up to the next inject, which then fires; :meth:`step` jumps straight to the next
  inject and fires it. An inject changes the drill's scenario with
  :func:`dispatch.drills.runner.apply_inject`; the workspace's scenario is never touched.
- **Baseline**: with ``auto`` the drill starts by awaiting step 0 (the plan at the start), as
  the CLI does; by hand the operator may plan it or continue without.
- **Re-planning**: :meth:`auto_request` gives what :func:`dispatch.drills.runner.plan_step`
  needs (the dock runs it in a worker); :meth:`record_plan` takes the plan of the awaited step.
  By hand, the wall time from the inject to the approved plan is measured here
  (:meth:`record_plan` with ``manual=True``; the clock is injectable for tests) and becomes the
  step's ``wall_s`` — the scorecard's "time from inject to an approved plan".
- **Carried state by hand as with auto**: the operator's re-plan (the 调度方案 dock's run while
  a manual drill runs) goes through :meth:`replan_request`, which turns the dock's
  :class:`dispatch.service.DispatchRequest` into the drill's: the drill state with the
  deadlines left, planned at the simulated time, re-planning the plan in force
  (:meth:`in_force`: the last plan recorded, an approved one counted as issued at its step's
  time by :data:`MANUAL_WHO`) with ``track_fleet`` — the same carried state as ``--auto``
  (vehicles under way continue, delivered stays delivered, a vehicle whose road ahead is
  closed turns back). By hand the baseline is optional: a plan approved before the first
  inject fires is recorded as step 0 (plan it with the clock at T+0, paused).
- **Log**: every decision (inject fired, plan recorded, continued without plan, play, pause,
  speed) with its simulated and wall-clock time (:attr:`log`).
- **Scorecard**: :meth:`records` / :meth:`scorecard` are the CLI's
  (:func:`dispatch.drills.scorecard.step_record`, :func:`~dispatch.drills.scorecard.overall`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dispatch.drills.runner import (
    DrillStep,
    absolute_deadlines,
    apply_inject,
    remaining_deadlines,
    scenario_state,
    step_options,
)
from dispatch.drills.scorecard import overall, step_record
from dispatch.drills.script import DrillScript, Inject
from dispatch.options import DispatchOptions
from dispatch.plan import Plan
from dispatch.records import PlanStatus
from dispatch.service import DispatchRequest
from gis.errors import ValidationError
from gis.model import Scenario

#: the speed factors the desk offers (simulated seconds per wall second)
SPEEDS = (1, 2, 5, 10, 30, 60)
#: plan states that count as "approved" for a manual step
APPROVED_STATES = frozenset(
    {PlanStatus.APPROVED, PlanStatus.ISSUED, PlanStatus.EXECUTING, PlanStatus.COMPLETED}
)
#: who issues, in the drill, a plan the operator approved (it is then in force, see in_force)
MANUAL_WHO = "演练人工"


@dataclass(frozen=True)
class LogEntry:
    """One decision of the drill with its simulated and wall-clock time."""

    simulated_at: datetime
    wall_clock: datetime
    text: str


@dataclass(frozen=True)
class AutoRequest:
    """What an automatic re-plan of the awaited step needs (plain data, for a worker)."""

    number: int
    inject: Inject | None
    view: Scenario  # the drill state with the deadlines left at the step's time
    options: DispatchOptions
    previous: Plan | None


class DrillSession:
    """One drill run (see the module doc). Mutable, single-threaded: the dock's thread only."""

    def __init__(
        self,
        scenario: Scenario,
        script: DrillScript,
        *,
        auto: bool,
        seconds_per_step: float = 2.0,
        seed: int = 0,
        existing_numbers: tuple[str, ...] = (),
        monotonic: Callable[[], float] = time.perf_counter,
        now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    ) -> None:
        if not seconds_per_step > 0:
            raise ValidationError(f"seconds per step must be > 0, got {seconds_per_step}")
        self.base = scenario
        self.script = script
        self.auto = bool(auto)
        self.seconds_per_step = float(seconds_per_step)
        self.seed = int(seed)
        self._monotonic = monotonic
        self._now = now
        self.state: Scenario = scenario
        self.clock_min = 0.0
        self.speed = 1.0
        self.playing = False
        self.started = False
        self.next_index = 0  # index in script.injects of the next inject to fire
        #: the step number awaiting a plan (0 = the baseline), None when none awaits
        self.awaiting: int | None = None
        self._awaiting_since = 0.0
        self._awaiting_wall: datetime | None = None
        self.steps: list[DrillStep] = []
        self.previous: Plan | None = None
        self.numbers = list(existing_numbers)
        self.clocks = {i.id: script.start for i in scenario.incidents}
        self.log: list[LogEntry] = []
        self._view: tuple[Scenario, float, Scenario] | None = None

    # ---- what the dock shows -------------------------------------------------------------

    @property
    def simulated_at(self) -> datetime:
        return self.script.start + timedelta(minutes=self.clock_min)

    @property
    def next_inject(self) -> Inject | None:
        injects = self.script.injects
        return injects[self.next_index] if self.next_index < len(injects) else None

    @property
    def awaited_inject(self) -> Inject | None:
        if not self.awaiting:
            return None
        return self.script.injects[self.awaiting - 1]

    @property
    def open_step(self) -> int | None:
        """The step a plan recorded now closes: the awaited one, or by hand the baseline (0)
        until the first inject fires; None when none is open."""
        if self.awaiting is not None:
            return self.awaiting
        if not self.auto and self.started and self.next_index == 0 and not self.steps:
            return 0
        return None

    @property
    def finished(self) -> bool:
        return self.started and self.next_inject is None and self.awaiting is None

    def view(self) -> Scenario:
        """The drill state as a plan made now sees it (deadlines shortened by the time gone);
        the same object while neither the state nor the clock moved."""
        key = (self.state, self.clock_min)
        if self._view is None or self._view[0] is not key[0] or self._view[1] != key[1]:
            view = remaining_deadlines(self.state, self.clocks, self.simulated_at)
            self._view = (self.state, self.clock_min, view)
        return self._view[2]

    def awaiting_s(self) -> float:
        """Wall seconds since the open step began (0 when none is open)."""
        return 0.0 if self.open_step is None else self._monotonic() - self._awaiting_since

    # ---- clock -----------------------------------------------------------------------------

    def start(self) -> None:
        """Begin the drill at T+0 (auto: the baseline plan is awaited first)."""
        if self.started:
            return
        self.started = True
        self._note(f"演练开始：{self.script.name}（{'自动' if self.auto else '人工'}调度）")
        if self.auto:
            self._await(0)
        else:  # an optional baseline by hand is timed from the start
            self._awaiting_since = self._monotonic()
            self._awaiting_wall = self._now()

    def set_speed(self, factor: float) -> None:
        factor = float(factor)
        if not 1.0 <= factor <= 60.0:
            raise ValidationError(f"speed must be ×1 … ×60, got ×{factor:g}")
        if factor != self.speed:
            self.speed = factor
            self._note(f"模拟速度 ×{factor:g}")

    def play(self) -> None:
        self.start()
        if not self.playing and not self.finished:
            self.playing = True
            self._note("播放")

    def pause(self) -> None:
        if self.playing:
            self.playing = False
            self._note("暂停")

    def advance(self, wall_s: float) -> Inject | None:
        """Move the clock by ``wall_s`` wall seconds × speed while playing and no step awaits a
        plan; the inject reached fires (returned), and the clock waits there for its plan."""
        if not self.playing or self.awaiting is not None:
            return None
        nxt = self.next_inject
        if nxt is None:
            self.playing = False
            return None
        clock = self.clock_min + max(0.0, float(wall_s)) * self.speed / 60.0
        if clock + 1e-9 >= nxt.at_min:
            return self._fire(nxt)  # the clock stops at the inject's time
        self.clock_min = clock
        return None

    def step(self) -> Inject | None:
        """Jump to the next inject and fire it (None when a step awaits a plan or none is
        left)."""
        self.start()
        nxt = self.next_inject
        if self.awaiting is not None or nxt is None:
            return None
        return self._fire(nxt)

    def _fire(self, inject: Inject) -> Inject:
        self.clock_min = inject.at_min  # never behind: the clock stops at each inject
        self.state = apply_inject(self.state, inject)
        if inject.kind == "incident":
            self.clocks[inject.target] = self.script.start + timedelta(minutes=inject.at_min)
        self.next_index += 1
        self._note(f"插入 #{inject.index} {inject.kind_zh}：{inject.text}")
        self._await(inject.index)
        return inject

    def _await(self, number: int) -> None:
        self.awaiting = number
        self._awaiting_since = self._monotonic()
        self._awaiting_wall = self._now()

    # ---- plans -----------------------------------------------------------------------------

    def auto_request(self) -> AutoRequest:
        """The automatic re-plan of the awaited step (ValueError when none awaits)."""
        if self.awaiting is None:
            raise ValueError("no step awaits a plan")
        options = step_options(
            self.simulated_at, tuple(self.numbers), self.seconds_per_step, self.seed
        )
        return AutoRequest(self.awaiting, self.awaited_inject, self.view(), options, self.previous)

    def in_force(self) -> Plan | None:
        """The plan the next re-plan starts from: the last one recorded, issued (an approved
        plan recorded by hand counts as issued by :data:`MANUAL_WHO` when it was approved: in
        a drill the operator's approval puts it into effect; vehicles are read at the plan's
        own time, ``created_at``). None before any."""
        plan = self.previous
        if plan is None or plan.status != PlanStatus.APPROVED:
            return plan
        step = next(s for s in reversed(self.steps) if s.plan is plan)
        note = f"演练第 {step.number} 步：人工批准视为下达"
        when = plan.approvals[-1].when if plan.approvals else step.wall_clock
        return plan.transition(PlanStatus.ISSUED, MANUAL_WHO, when, note)

    def replan_request(self, request: DispatchRequest) -> DispatchRequest:
        """The operator's re-plan while this drill runs: ``request`` (the dispatch dock's run:
        its options, workspace, roads) made the drill's — the drill state with the deadlines
        left (:meth:`view`), planned at the simulated time, re-planning :meth:`in_force` with
        vehicles continuing from where they are (``track_fleet``), the same carried state as
        an automatic step. The operator's own options (seconds, engine, pins, deadline mode)
        stay; the drill's seed and plan numbers are added."""
        options = dataclasses.replace(
            request.options,
            created_at=self.simulated_at,
            existing_numbers=tuple(
                dict.fromkeys((*request.options.existing_numbers, *self.numbers))
            ),
            seed=self.seed,
        )
        return dataclasses.replace(
            request,
            scenario=self.view(),
            options=options,
            previous_plan=self.in_force(),
            track_fleet=True,
        )

    def accepts(self, plan: Plan) -> bool:
        """A plan can close the open step by hand: approved (or later), made at the step's
        simulated time (by :meth:`replan_request`: a plan of another time would be read at
        the wrong time when vehicles are tracked) and not recorded."""
        return (
            self.open_step is not None
            and plan.status in APPROVED_STATES
            and plan.created_at == self.simulated_at
            and plan.number not in {s.plan.number for s in self.steps if s.plan is not None}
        )

    def record_plan(
        self, plan: Plan | None, *, manual: bool, wall_s: float | None = None
    ) -> DrillStep:
        """Close the awaited step with ``plan`` (None: continue without re-planning). By hand
        the step's wall time is the time since the inject; ``wall_s`` gives an automatic
        re-plan's own run time."""
        number = self.awaiting if plan is None else self.open_step
        if number is None:
            raise ValueError("no step awaits a plan")
        inject = self.script.injects[number - 1] if number else None
        at = self.script.start + timedelta(minutes=inject.at_min if inject else 0.0)
        spent = self.awaiting_s() if manual or wall_s is None else float(wall_s)
        wall = self._awaiting_wall or self._now()
        deadlines = absolute_deadlines(self.state, self.clocks)
        step = DrillStep(number, inject, at, wall, spent, self.state, plan, deadlines=deadlines)
        self.steps.append(step)
        self.awaiting = None
        if plan is not None:
            self.previous = plan
            self.numbers.append(plan.number)
            how = "人工批准" if manual else "自动调度"
            self._note(
                f"步骤 {number}：方案 {plan.number}（{plan.overall.value}）{how}，"
                f"距插入 {spent:.1f} 秒"
            )
        else:
            self._note(f"步骤 {number}：未重新调度，继续")
        if self.next_inject is None:
            self.playing = False
            self._note("演练结束")
        return step

    # ---- results ---------------------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        """The steps as drill.json lists them (``plan_dir`` as the report writer names it)."""
        return [
            step_record(
                s,
                None if s.plan is None else f"steps/{s.number:02d}",
                scenario_state(s.scenario),
            )
            for s in sorted(self.steps, key=lambda s: s.number)
        ]

    def scorecard(self) -> dict[str, Any]:
        return overall(self.records())

    def _note(self, text: str) -> None:
        self.log.append(LogEntry(self.simulated_at, self._now(), text))


__all__ = ["APPROVED_STATES", "MANUAL_WHO", "SPEEDS", "AutoRequest", "DrillSession", "LogEntry"]
