"""The machinery of the "what to relax" search (:mod:`dispatch.relax`): the budget, stop and
re-plan counter of one run (:class:`Search`), and how a re-planned plan is read for one need
line (its state, the incident's on-time share before and after, the suggestion recorded).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Any

from dispatch.options import DispatchOptions
from dispatch.plan import Plan
from dispatch.relax_changes import Change, CombinedChange, Suggestion, apply_change
from dispatch.results import StopFn
from dispatch.timeliness import NeedKind, NeedLine, NeedState, need_lines
from gis.model import Scenario

Found = dict[tuple[str, str, str], list[Suggestion]]
Notes = dict[tuple[str, str, str], list[str]]


class OutOfTime(Exception):
    pass


class Search:
    """Shared state of one :func:`suggest_relaxations` run: budget, stop, re-plan counter."""

    def __init__(
        self,
        scenario: Scenario,
        network: Any,
        plan: Plan,
        options: DispatchOptions,
        budget_s: float,
        solve_s: float,
        stop: StopFn,
    ) -> None:
        self.scenario, self.network, self.plan = scenario, network, plan
        self.options = dataclasses.replace(
            options, seconds=float(solve_s), created_at=plan.created_at, existing_numbers=()
        )
        self.solve_s = float(solve_s)
        self.deadline = time.perf_counter() + float(budget_s)
        self.stop = stop
        self.resolves = 0
        self.stopped = False
        self.out_of_time = False
        self._geo: Any = None
        self._replan_s = float(solve_s) + 1.0  # first guess of one re-plan's wall time
        #: the current group's share of what is left (set by the caller per group)
        self.group_deadline = self.deadline

    def share_budget(self, groups_left: int) -> None:
        """Give the next group an equal share of the time left (at least two re-plans), so
        one incident cannot spend the whole budget."""
        now = time.perf_counter()
        left = max(0.0, self.deadline - now)
        self.group_deadline = now + max(left / max(1, groups_left), 2 * self._replan_s)

    def check(self) -> None:
        if self.stop():
            self.stopped = True
            raise OutOfTime
        # a re-plan takes about as long as the slowest so far (solve_s plus set-up)
        if time.perf_counter() + self._replan_s > min(self.deadline, self.group_deadline):
            self.out_of_time = True
            raise OutOfTime

    def replan(self, change: Change | CombinedChange, *, soft: bool = False) -> Plan:
        """The plan re-made with ``change`` (``soft``: with soft deadlines, a probe)."""
        from dispatch.pipeline import plan_dispatch

        self.check()
        scenario, options = apply_change(self.scenario, self.options, change)
        if soft:
            options = dataclasses.replace(options, hard_deadlines=False, allow_late=None)
        self.resolves += 1
        t0 = time.perf_counter()
        plan = plan_dispatch(scenario, self.network, options, stop=self.stop)
        self._replan_s = max(self._replan_s, time.perf_counter() - t0)
        if self.stop():
            self.stopped = True
            raise OutOfTime
        return plan

    def seconds(self, src: Sequence[str], tgt: Sequence[str]) -> Any:
        """Travel seconds between places (snapped as the pipeline does; UNREACHABLE if none)."""
        from dispatch.travel import snap_places

        if self._geo is None:
            self._geo = snap_places(self.scenario, self.network, self.options.max_offroad_m)
        return self._geo.matrix(list(src), list(tgt))[0]


def need_key(ln: NeedLine) -> tuple[str, str, str]:
    return (ln.site_id, ln.kind.value, ln.what)


def line_in(plan: Plan, ln: NeedLine) -> NeedLine | None:
    """The same need line in another plan (None: the site has no such need there, i.e. served
    for sites that are not incidents)."""
    for x in need_lines(plan):
        if need_key(x) == need_key(ln):
            return x
    return None


def state_after(plan: Plan, ln: NeedLine) -> NeedState:
    x = line_in(plan, ln)
    return NeedState.ON_TIME if x is None else x.state


def share(plan: Plan, site: str, kind: NeedKind) -> float | None:
    for o in plan.incidents:
        if o.incident_id == site:
            return o.staff_on_time_fraction if kind is NeedKind.STAFF else o.on_time_fraction
    return None


def effect(before: Plan, after: Plan, ln: NeedLine) -> tuple[str, str]:
    """ "验证：按时率 33% → 100%（本项 按时）" and its English, plus any other incident whose
    on-time share of the same kind drops with the change (the price of the fix)."""
    a, b = share(before, ln.site_id, ln.kind), share(after, ln.site_id, ln.kind)
    state = state_after(after, ln)
    x = line_in(after, ln)
    detail = state.value
    if state is NeedState.LATE and x is not None:
        detail += f" {whole_minutes(x.late_by_s)} 分钟"
    if a is None or b is None:
        zh, en = f"验证：本项 {ln.state.value} → {detail}", f"checked: {state.label_en}"
    else:
        zh = f"验证：按时率 {a:.0%} → {b:.0%}（本项 {detail}）"
        en = f"checked: on time {a:.0%} → {b:.0%} ({state.label_en})"
    for o in before.incidents:
        if o.incident_id == ln.site_id:
            continue
        was, now = share(before, o.incident_id, ln.kind), share(after, o.incident_id, ln.kind)
        if was is not None and now is not None and now < was - 0.01:
            zh += f"；但{o.name}按时率 {was:.0%} → {now:.0%}"
            en += f"; but {o.incident_id} {was:.0%} → {now:.0%}"
    return zh, en


def whole_minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60.0 - 1e-9))


def suggest(
    found: dict[tuple[str, str, str], list[Suggestion]],
    search: Search,
    after: Plan,
    ln: NeedLine,
    change: Change,
    text_zh: str,
    text_en: str,
    *,
    need_on_time: bool = True,
    runs: int = 1,
) -> bool:
    """Record the suggestion for ``ln`` if the re-planned ``after`` fixes it; True if it does."""
    state = state_after(after, ln)
    # need_on_time False: an unmet line served late counts too (a late line must be on time)
    ok = state is NeedState.ON_TIME or (
        not need_on_time and ln.state is NeedState.UNMET and state is not NeedState.UNMET
    )
    if ok:
        zh, en = effect(search.plan, after, ln)
        if runs > 1:
            zh, en = f"{zh}，{runs} 次重算均如此", f"{en}, in {runs} re-plans"
        found.setdefault(need_key(ln), []).append(
            Suggestion(change.change_kind, text_zh, text_en, change, True, zh, en, state.value)
        )
    return ok


__all__ = [
    "Found",
    "Notes",
    "OutOfTime",
    "Search",
    "line_in",
    "need_key",
    "share",
    "state_after",
    "suggest",
    "whole_minutes",
]
