"""What to relax (怎样可以满足): for each late or unmet need of a plan, the cheapest concrete change
that fixes it, found by re-solving the plan with the change, never guessed.

:func:`suggest_relaxations` reads the plan's need lines (:func:`dispatch.timeliness.need_lines`,
the one definition of 按时 / 迟到 / 未满足), groups them by site (an incident's twelve late
materials usually share one cause: the fleet) and tries, per group:

- **vehicles** (:class:`AddVehicles`): N more vehicles of a kind already in the fleet at the
  stockpile whose deliveries are late; N = 1, 2, 4, 8 then bisection, each N checked by
  re-planning; the count kept is confirmed by a second re-plan (the routing heuristic varies
  from run to run). When another stockpile has enough vehicles of that kind idle in the plan
  and in those re-plans, the added vehicles' routes are shifted by the drive from there (plus
  loading) before the check, so "自 <储备点>" is said only when it holds with that drive;
- **deadline** (:class:`RelaxDeadline`): the smallest deadline (rounded up to 5 min, 15 min past
  an hour) at which the current plan is on time, checked by recomputing the incident's outcome
  from the plan's own routes and teams with that deadline (no re-plan: always done first); with
  hard deadlines, for needs dropped as 超出时限, one soft re-plan says when they would arrive and
  a hard re-plan checks the deadline that covers them;
- **safety stock** (:class:`ReleaseSafetyStock`): for stock shortages, the nearest stockpiles
  whose safety stock (not released for this incident's level) covers the shortfall; checked by
  re-planning with that safety stock released;
- **team** (:class:`CallTeam`): for short or late skills, a team with the skill that is not on
  standby (休整 / 出动) or is sent elsewhere, nearest first; checked by re-planning with the team
  pinned to the incident (a pin overrides the team's status in the assignment);
- **road** (:class:`ReopenRoad`): for unreachable sites, the nearest road closures, each cleared
  in a re-plan.

A fix that lowers another incident's on-time share says so in its effect. Each incident (group)
gets an equal share of the time left.

Every re-plan is :func:`dispatch.pipeline.plan_dispatch` on a changed copy of the scenario with a
short budget (``solve_s``), so the check is the real pipeline, not a model of it. The search
respects a total ``budget_s`` and ``stop`` (the report then says TIMEOUT / CANCELLED and which
needs were not searched). A need for which nothing works gets a note saying what was tried
("未找到 ≤ 8 辆的可行调整"). Hand-written search: no library searches over plan changes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Collection, Sequence
from typing import Any

from dispatch.options import DispatchOptions
from dispatch.outcomes import incident_outcomes
from dispatch.plan import Plan
from dispatch.relax_changes import (
    AddVehicles,
    CallTeam,
    Change,
    ChangeKind,
    CombinedChange,
    NeedRelaxation,
    RelaxationReport,
    RelaxDeadline,
    ReleaseSafetyStock,
    ReopenRoad,
    Suggestion,
    added_vehicle_id,
    apply_change,
)
from dispatch.relax_search import (
    Found,
    Notes,
    OutOfTime,
    Search,
    line_in,
    need_key,
    share,
    state_after,
    suggest,
    whole_minutes,
)
from dispatch.results import ProgressFn, Reason, Status, StopFn, never_stop, no_progress
from dispatch.timeliness import NeedKind, NeedLine, NeedState, need_lines
from gis.model import Scenario, Team, TeamStatus

#: Largest number of extra vehicles tried for one stockpile.
MAX_VEHICLES = 8
#: Candidate teams / stockpiles tried per need at most.
MAX_CANDIDATES = 3
#: Default time budget of one re-plan (seconds; routing takes most of it).
DEFAULT_SOLVE_S = 1.0
_EPS = 1e-6


# --------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------


def suggest_relaxations(
    scenario: Scenario,
    network: Any,
    plan: Plan,
    options: DispatchOptions | None = None,
    *,
    budget_s: float = 60.0,
    solve_s: float = DEFAULT_SOLVE_S,
    sites: Collection[str] | None = None,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> RelaxationReport:
    """For each late or unmet need of ``plan`` the cheapest verified changes (see module doc).

    ``options`` default to the plan's own (``plan.inputs.options``); ``budget_s`` bounds the
    whole search, ``solve_s`` each re-plan. ``scenario`` must be the one the plan was made from
    (callers check :meth:`Plan.matches`). ``sites``: only the needs of these sites."""
    t0 = time.perf_counter()
    stop = stop or never_stop
    progress = progress or no_progress
    if options is None:
        options = DispatchOptions.from_dict(plan.inputs.options)
    search = Search(scenario, network, plan, options, budget_s, solve_s, stop)
    lines = [
        ln
        for ln in need_lines(plan)
        if ln.state is not NeedState.ON_TIME and (sites is None or ln.site_id in sites)
    ]
    groups: dict[tuple[str, NeedKind], list[NeedLine]] = {}
    for ln in lines:
        groups.setdefault((ln.site_id, ln.kind), []).append(ln)
    found: dict[tuple[str, str, str], list[Suggestion]] = {}
    notes: dict[tuple[str, str, str], list[str]] = {}
    skipped: list[str] = []
    for k, ((site, kind), group) in enumerate(groups.items()):
        progress(k / max(1, len(groups)), f"{group[0].site_name}：{kind.value}")
        search.share_budget(len(groups) - k)
        try:
            _deadline(search, site, group, found, notes)  # no re-plan: first, always
            _roads(search, site, group, found, notes)
            if kind is NeedKind.MATERIAL:
                _materials(search, site, group, found, notes)
            elif kind is NeedKind.STAFF:
                _staff(search, site, group, found, notes)
            else:
                for ln in group:
                    if ln.state is NeedState.UNMET:
                        notes.setdefault(need_key(ln), []).append(
                            "未搜索：转移人员的调整（如增开避难场所）暂不支持"
                        )
            if search.options.hard_deadlines:
                _hard_deadline(search, site, group, found, notes)
        except OutOfTime:
            skipped.append(group[0].site_name)
            if search.stopped:
                break
    progress(1.0, "完成")
    status = Status.OPTIMAL
    report_notes = []
    if plan.overall in (Status.CANCELLED, Status.TIMEOUT):
        report_notes.append(
            "原方案为部分方案（计算被取消或超时）：建议先完整求解，部分需求可能无需调整即可满足"
        )
    if search.stopped:
        status = Status.CANCELLED
        report_notes.append("已取消：部分需求未搜索完")
    elif search.out_of_time:
        status = Status.TIMEOUT
        report_notes.append(
            f"时间预算 {budget_s:g} 秒（各事件平分）不够，未搜索完：{'、'.join(dict.fromkeys(skipped))}"
        )
    needs = []
    for ln in lines:
        key = (ln.site_id, ln.kind.value, ln.what)
        sugg = sorted(found.get(key, []), key=lambda s: (not s.verified, _rank(s)))
        needs.append(NeedRelaxation(ln, tuple(sugg), tuple(dict.fromkeys(notes.get(key, [])))))
    return RelaxationReport(
        plan.number,
        tuple(needs),
        status,
        search.resolves,
        time.perf_counter() - t0,
        tuple(report_notes),
    )


def _rank(s: Suggestion) -> tuple[int, float]:
    """Cheapest first: an on-time fix before a served-late one; then by kind."""
    order = {
        ChangeKind.SAFETY_STOCK: 0,
        ChangeKind.TEAM: 1,
        ChangeKind.ROAD: 2,
        ChangeKind.VEHICLES: 3,
        ChangeKind.DEADLINE: 4,
    }
    return (0 if s.state_after == NeedState.ON_TIME.value else 1, order[s.kind])


# --------------------------------------------------------------------------------------------
# Materials: vehicles and safety stock
# --------------------------------------------------------------------------------------------


def _materials(
    search: Search,
    site: str,
    group: list[NeedLine],
    found: Found,
    notes: Notes,
) -> None:
    short = [
        ln
        for ln in group
        if ln.state is NeedState.UNMET
        and any(
            u.what == ln.what and u.reason is Reason.OUT_OF_STOCK
            for u in search.plan.unserved_for(site)
        )
    ]
    if short:
        _safety_stock(search, site, short, found, notes)
    fleet = [ln for ln in group if ln not in short]
    if fleet:
        _vehicles(search, site, fleet, found, notes)


def _late_depots(plan: Plan, site: str, deadline_s: float | None) -> dict[str, float]:
    """kg delivered late (or allocated and not delivered) at ``site`` per stockpile."""
    kg = {m.code: m.unit_weight_kg for m in plan.materials}
    out: dict[str, float] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                if s.site_id == site and deadline_s is not None and s.arrival_s > deadline_s + 1:
                    w = sum(q * kg.get(c, 1.0) for c, q in s.loads.items())
                    out[t.depot_id] = out.get(t.depot_id, 0.0) + w
    delivered: dict[tuple[str, str], float] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                if s.site_id == site:
                    for c, q in s.loads.items():
                        delivered[(t.depot_id, c)] = delivered.get((t.depot_id, c), 0.0) + q
    for a in plan.allocation:
        if a.site_id == site:
            miss = a.quantity - delivered.get((a.stockpile_id, a.material), 0.0)
            if miss > _EPS:
                out[a.stockpile_id] = out.get(a.stockpile_id, 0.0) + miss * kg.get(a.material, 1.0)
                delivered[(a.stockpile_id, a.material)] = a.quantity  # count once
    return out


def _vehicles(
    search: Search,
    site: str,
    group: list[NeedLine],
    found: Found,
    notes: Notes,
) -> None:
    plan, scenario = search.plan, search.scenario
    deadline = group[0].deadline_s
    depots = _late_depots(plan, site, deadline)
    if not depots:
        return
    sp_id = max(depots, key=lambda k: depots[k])
    sp = scenario.find(sp_id)
    name = plan.place_name(sp_id)
    fleet = list(getattr(sp, "vehicles", ()))
    if not fleet:
        for ln in group:
            notes.setdefault(need_key(ln), []).append(f"{name} 无车辆，未尝试增派车辆")
        return
    tpl = max(fleet, key=lambda v: (v.capacity_kg, v.id))
    if deadline is not None:
        sec = search.seconds([sp_id], [site])
        drive = float(sec[0, 0]) / max(tpl.speed_factor, 1e-9)
        earliest = search.options.loading_s + drive
        if earliest > deadline + 1:
            for ln in group:
                notes.setdefault(need_key(ln), []).append(
                    f"自{name}最快约 {whole_minutes(earliest)} 分钟到达（时限 "
                    f"{deadline / 60:.0f} 分钟），增派车辆无法按时"
                )
            return
    fixed: dict[tuple[str, str, str], int] = {}
    plans: dict[int, Plan] = {}

    def attempt(n: int) -> bool:
        change = AddVehicles(sp_id, tpl.kind, n, tpl.id)
        p = search.replan(change)
        plans[n] = p
        ok_all = True
        for ln in group:
            if state_after(p, ln) is NeedState.ON_TIME:
                fixed[need_key(ln)] = min(fixed.get(need_key(ln), n), n)
            else:
                ok_all = False
        return ok_all

    state: dict[str, Any] = {"hi": 0, "target": set(), "confirmed": None}
    cut: OutOfTime | None = None
    try:
        _count_search(search, group, attempt, plans, fixed, state, sp_id, tpl)
    except OutOfTime as exc:  # record what was found, then let the caller see the cut
        cut = exc
    hi, target, confirmed = state["hi"], state["target"], state["confirmed"]
    for ln in group:
        k = hi if need_key(ln) in target and confirmed is not None else fixed.get(need_key(ln))
        if k is None or (need_key(ln) in target and confirmed is None):
            if cut is not None:
                why = "时间不够，未试完" if k is None else f"{k} 辆仅一次重算按时，时间不够复核"
                notes.setdefault(need_key(ln), []).append(f"增派{tpl.kind}：{why}")
            else:
                notes.setdefault(need_key(ln), []).append(
                    f"未找到 ≤ {MAX_VEHICLES} 辆{tpl.kind}（{name}）的"
                    + ("可靠调整（重算结果不稳定）" if k is not None else "可行调整")
                )
            continue
        runs = [plans[k]] + (
            [confirmed] if need_key(ln) in target and confirmed is not None else []
        )
        change, shifted = _with_donor(search, sp_id, tpl, k, runs)
        if change.donor_id and any(state_after(x, ln) is not NeedState.ON_TIME for x in shifted):
            change, shifted = AddVehicles(sp_id, tpl.kind, k, tpl.id), runs
        if change.donor_id:
            zh = f"再调 {k} 辆{tpl.kind}（自{plan.place_name(change.donor_id)}）至{name}可按时送达"
            en = f"{k} more {tpl.kind} from {change.donor_id} to {sp_id}: delivered on time"
        else:
            zh = f"在{name}增调 {k} 辆{tpl.kind}（就地征用同型车辆）可按时送达"
            en = f"{k} more {tpl.kind} hired at {sp_id}: delivered on time"
        worst = min(shifted, key=lambda x: share(x, site, NeedKind.MATERIAL) or 0.0)
        suggest(found, search, worst, ln, change, zh, en, runs=len(shifted))
    if cut is not None:
        raise cut


def _count_search(
    search: Search,
    group: list[NeedLine],
    attempt: Any,
    plans: dict[int, Plan],
    fixed: dict[tuple[str, str, str], int],
    state: dict[str, Any],
    sp_id: str,
    tpl: Any,
) -> None:
    """N = 1, 2, 4, 8 until the group is fixed, then bisection below the smallest count that
    fixes the most lines, then a confirming second re-plan (results in ``state``)."""
    lo, n = 0, 1
    while n <= MAX_VEHICLES:
        if attempt(n):
            break
        lo, n = n, n * 2
    fixed_at = {k: {key for key, m in fixed.items() if m <= k} for k in plans}
    if not fixed_at or not max(len(v) for v in fixed_at.values()):
        return
    hi = min(fixed_at, key=lambda k: (-len(fixed_at[k]), k))
    target = fixed_at[hi]
    state["hi"], state["target"] = hi, target
    lo = max((k for k in plans if k < hi and not target <= fixed_at[k]), default=0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        attempt(mid)
        if target <= {key for key, m in fixed.items() if m <= mid}:
            hi = mid
        else:
            lo = mid
        state["hi"] = hi
    # the routing heuristic varies from run to run: a count is kept only when a second,
    # independent re-plan fixes the same lines; else the next count is tried
    lines = _lines(group, target)
    while hi <= MAX_VEHICLES:
        state["hi"] = hi
        if hi not in plans:
            attempt(hi)
        if all(state_after(plans[hi], ln) is NeedState.ON_TIME for ln in lines):
            again = search.replan(AddVehicles(sp_id, tpl.kind, hi, tpl.id))
            if all(state_after(again, ln) is NeedState.ON_TIME for ln in lines):
                state["confirmed"] = again
                return
        hi += 1


def _lines(group: Sequence[NeedLine], keys: set[tuple[str, str, str]]) -> list[NeedLine]:
    return [ln for ln in group if need_key(ln) in keys]


def _with_donor(
    search: Search, sp_id: str, tpl: Any, count: int, runs: list[Plan]
) -> tuple[AddVehicles, list[Plan]]:
    """The nearest other stockpile with ``count`` vehicles of the template's kind idle in the
    plan and in every re-plan ``runs`` (so none of their work is counted twice): its
    :class:`AddVehicles` and ``runs`` with the added vehicles' routes shifted by the drive from
    there (the caller checks the need again); without one, vehicles hired on the spot and
    ``runs`` as they are."""
    used = {
        r.vehicle_id
        for p in (search.plan, *runs)
        for r in p.routes
        if any(t.stops for t in r.trips)
    }
    donors, idle_ids = [], {}
    for sp in search.scenario.stockpiles:
        idle = [v.id for v in sp.vehicles if v.kind == tpl.kind and v.id not in used]
        if sp.id != sp_id and len(idle) >= count:
            donors.append(sp.id)
            idle_ids[sp.id] = tuple(idle[:count])
    if not donors:
        return AddVehicles(sp_id, tpl.kind, count, tpl.id), runs
    sec = search.seconds(donors, [sp_id])[:, 0]
    best = min(range(len(donors)), key=lambda i: sec[i])
    drive = float(sec[best]) / max(tpl.speed_factor, 1e-9)
    ready = drive + search.options.loading_s
    shifted = [_shift_added(search.scenario, p, tpl.id, count, ready) for p in runs]
    donor = donors[best]
    change = AddVehicles(sp_id, tpl.kind, count, tpl.id, donor, drive, idle_ids[donor])
    return change, shifted


def _shift_added(
    scenario: Scenario, plan: Plan, template_id: str, count: int, ready_s: float
) -> Plan:
    """``plan`` with the added vehicles' trips starting no earlier than ``ready_s`` (their
    drive from the donor plus loading), outcomes recomputed. Shifting a whole route later
    keeps it feasible under soft deadlines; the check is then on the later arrivals."""
    ids = {added_vehicle_id(template_id, k) for k in range(1, count + 1)}
    routes = []
    for r in plan.routes:
        if r.vehicle_id in ids and r.trips:
            delta = max(0.0, ready_s - r.trips[0].start_s)
            trips = tuple(
                dataclasses.replace(
                    t,
                    start_s=t.start_s + delta,
                    end_s=t.end_s + delta,
                    stops=tuple(
                        dataclasses.replace(
                            s, arrival_s=s.arrival_s + delta, departure_s=s.departure_s + delta
                        )
                        for s in t.stops
                    ),
                )
                for t in r.trips
            )
            r = dataclasses.replace(r, trips=trips)
        routes.append(r)
    outcomes = incident_outcomes(
        scenario, plan.allocation, routes, plan.assignment, plan.evacuation
    )
    return dataclasses.replace(plan, routes=tuple(routes), incidents=outcomes)


def _safety_stock(
    search: Search,
    site: str,
    group: list[NeedLine],
    found: Found,
    notes: Notes,
) -> None:
    """One re-plan for the whole group: per material the nearest stockpiles whose unreleased
    safety stock covers the shortfall."""
    plan, scenario = search.plan, search.scenario
    level = next((o.level for o in plan.incidents if o.incident_id == site), 3)
    released = level in search.options.release_safety_levels
    changes: list[tuple[NeedLine, ReleaseSafetyStock]] = []
    for ln in group:
        holders = [
            sp
            for sp in scenario.stockpiles
            if float(sp.safety_stock.get(ln.what, 0.0)) > _EPS
            and min(sp.safety_stock.get(ln.what, 0.0), sp.inventory.get(ln.what, 0.0)) > _EPS
        ]
        if released or not holders:
            if not any(sp.inventory.get(ln.what, 0.0) > _EPS for sp in scenario.stockpiles):
                why = f"全县储备点均无{ln.label}库存（含安全库存），需从县外调入"
            elif released and holders:
                why = f"{ln.label}的安全库存已可动用（{_roman(level)}级响应），仍不足"
            else:
                why = f"各储备点无可启用的{ln.label}安全库存（其余库存已分配）"
            notes.setdefault(need_key(ln), []).append(f"未找到可行调整：{why}")
            continue
        sec = search.seconds([sp.id for sp in holders], [site])[:, 0]
        order = sorted(range(len(holders)), key=lambda i: (sec[i], holders[i].id))
        left, rel = ln.unmet, []
        for i in order:
            sp = holders[i]
            q = min(float(sp.safety_stock[ln.what]), float(sp.inventory.get(ln.what, 0.0)), left)
            if q > _EPS:
                rel.append((sp.id, float(q)))
                left -= q
            if left <= _EPS:
                break
        if left > _EPS:
            notes.setdefault(need_key(ln), []).append(
                f"各储备点安全库存合计仍缺 {left:g} {ln.unit}{ln.label}"
            )
        changes.append((ln, ReleaseSafetyStock(ln.what, tuple(rel))))
    if not changes:
        return
    after = search.replan(CombinedChange(tuple(c for _, c in changes)))
    for ln, change in changes:
        parts = "、".join(
            f"{plan.place_name(s)}（{s}）的安全库存 {q:g} {ln.unit}" for s, q in change.releases
        )
        ok = suggest(
            found,
            search,
            after,
            ln,
            change,
            f"启用 {parts}{ln.label}",
            f"release safety stock of {ln.what}: "
            + ", ".join(f"{s} {q:g}" for s, q in change.releases),
            need_on_time=False,
        )
        if not ok:
            notes.setdefault(need_key(ln), []).append(f"启用安全库存后仍未满足（{ln.label}）")


def _roman(level: int) -> str:
    return {1: "I", 2: "II", 3: "III", 4: "IV"}.get(int(level), str(level))


# --------------------------------------------------------------------------------------------
# Staff: teams
# --------------------------------------------------------------------------------------------


def _staff(
    search: Search,
    site: str,
    group: list[NeedLine],
    found: Found,
    notes: Notes,
) -> None:
    plan, scenario = search.plan, search.scenario
    sent = {a.team_id: a.incident_id for a in plan.assignment}
    for ln in group:
        cands = [
            t
            for t in scenario.teams
            if ln.what in t.skills
            and sent.get(t.id) != site
            and (t.status is not TeamStatus.STANDBY or t.id in sent)
        ]
        if not cands:
            notes.setdefault(need_key(ln), []).append(
                f"未找到可行调整：无其他可调派的{ln.what}队伍"
            )
            continue
        sec = search.seconds([t.id for t in cands], [site])[:, 0]
        # unavailable teams first (they take nobody from another incident), then nearest
        order = sorted(range(len(cands)), key=lambda i: (cands[i].id in sent, sec[i]))
        done = False
        for i in order[:MAX_CANDIDATES]:
            team = cands[i]
            change = CallTeam(team.id, site, team.status.value, sent.get(team.id, ""))
            after = search.replan(change)
            zh, en = _team_text(plan, team, change)
            if suggest(found, search, after, ln, change, zh, en, need_on_time=False):
                done = True
                break
        if not done:
            notes.setdefault(need_key(ln), []).append(
                f"未找到可行调整：试过 {min(len(cands), MAX_CANDIDATES)} 支{ln.what}队伍均不够"
            )


def _team_text(plan: Plan, team: Team, change: CallTeam) -> tuple[str, str]:
    if change.busy_at:
        where = plan.place_name(change.busy_at)
        return (
            f"改派 {team.id}（{team.name}，现派往{where}）可满足",
            f"send {team.id} here instead of {change.busy_at}",
        )
    if team.status is TeamStatus.RESTING:
        return (
            f"队伍 {team.id}（{team.name}）休整结束后可满足",
            f"team {team.id} can cover it once its rest ends",
        )
    return (
        f"调派 {team.id}（{team.name}，当前状态 {team.status.value}）可满足",
        f"call {team.id} (now {team.status.value})",
    )


# --------------------------------------------------------------------------------------------
# Deadline
# --------------------------------------------------------------------------------------------


def round_deadline_min(minutes: float) -> int:
    """Up to the next 5 minutes, or the next 15 past an hour."""
    step = 5 if minutes <= 60 else 15
    return int(math.ceil(minutes / step - 1e-9) * step)


def _deadline(search: Search, site: str, group: list[NeedLine], found: Found, notes: Notes) -> None:
    """Late lines: the deadline at which the current plan is on time, checked by recomputing
    the incident's outcome from the plan's routes, teams and moves with that deadline."""
    plan = search.plan
    late = [ln for ln in group if ln.state is NeedState.LATE and ln.deadline_s is not None]
    inc = next((i for i in search.scenario.incidents if i.id == site), None)
    if not late or inc is None:
        return
    if search.stop():
        search.stopped = True
        raise OutOfTime
    for ln in late:
        minutes = round_deadline_min((ln.deadline_s + ln.late_by_s) / 60.0)
        change = RelaxDeadline(site, float(minutes))
        scenario, _ = apply_change(search.scenario, search.options, change)
        outcomes = incident_outcomes(
            scenario, plan.allocation, plan.routes, plan.assignment, plan.evacuation
        )
        after = dataclasses.replace(plan, incidents=outcomes)
        zh, en = _deadline_text(minutes, inc.deadline_min)
        if not suggest(found, search, after, ln, change, zh, en):
            notes.setdefault(need_key(ln), []).append(f"放宽时限至 {minutes} 分钟仍未按时")


def _deadline_text(minutes: float, now: float) -> tuple[str, str]:
    return (
        f"放宽时限至 {minutes:g} 分钟（现 {now:g} 分钟）",
        f"relax the deadline to {minutes:g} min (now {now:g})",
    )


def _hard_deadline(
    search: Search, site: str, group: list[NeedLine], found: Found, notes: Notes
) -> None:
    """Hard deadlines: needs dropped as 超出时限. One soft re-plan says when they would arrive;
    the deadline that covers them all (rounded up) is then checked by a hard re-plan."""
    plan = search.plan
    dropped = [
        ln
        for ln in group
        if ln.state is NeedState.UNMET
        and ln.deadline_s is not None
        and any(u.what == ln.what and u.reason is Reason.TOO_LATE for u in plan.unserved_for(site))
    ]
    inc = next((i for i in search.scenario.incidents if i.id == site), None)
    if not dropped or inc is None:
        return
    soft = search.replan(CombinedChange(()), soft=True)
    wanted: dict[tuple[str, str, str], int] = {}
    for ln in dropped:
        x = line_in(soft, ln)
        if x is None or x.state is NeedState.UNMET:
            notes.setdefault(need_key(ln), []).append("不设时限也无法送达，放宽时限无效")
            continue
        wanted[need_key(ln)] = round_deadline_min((ln.deadline_s + x.late_by_s) / 60.0)
    if not wanted:
        return
    minutes = max(wanted.values())
    change = RelaxDeadline(site, float(minutes))
    after = search.replan(change)
    zh, en = _deadline_text(minutes, inc.deadline_min)
    for ln in dropped:
        if need_key(ln) in wanted and not suggest(found, search, after, ln, change, zh, en):
            notes.setdefault(need_key(ln), []).append(f"放宽时限至 {minutes} 分钟仍未满足")


# --------------------------------------------------------------------------------------------
# Road closures
# --------------------------------------------------------------------------------------------


def _roads(search: Search, site: str, group: list[NeedLine], found: Found, notes: Notes) -> None:
    """Needs unreachable (不可达): the nearest closures, each cleared in a re-plan."""
    plan, scenario = search.plan, search.scenario
    cut = [
        ln
        for ln in group
        if ln.state is NeedState.UNMET
        and any(
            u.what == ln.what and u.reason is Reason.UNREACHABLE for u in plan.unserved_for(site)
        )
    ]
    closures = [c for c in scenario.closures if c.closes]
    if not cut or not closures:
        return
    try:
        where = scenario.find(site).location  # type: ignore[union-attr]
    except (KeyError, AttributeError):
        return
    from shapely.geometry import Point

    here = Point(where.lon, where.lat)
    closures.sort(key=lambda c: (c.geometry.distance(here), c.id))
    left = list(cut)
    for c in closures[:MAX_CANDIDATES]:
        change = ReopenRoad(c.id, c.reason)
        after = search.replan(change)
        label = f"{c.id}（{c.reason}）" if c.reason else c.id
        zh, en = f"抢通道路中断点 {label} 后可满足", f"reopen closure {c.id}"
        left = [
            ln
            for ln in left
            if not suggest(found, search, after, ln, change, zh, en, need_on_time=False)
        ]
        if not left:
            return
    for ln in left:
        notes.setdefault(need_key(ln), []).append(
            f"未找到可行调整：抢通最近的 {min(len(closures), MAX_CANDIDATES)} 处道路中断仍不可达"
        )


__all__ = [
    "MAX_VEHICLES",
    "AddVehicles",
    "CallTeam",
    "Change",
    "ChangeKind",
    "NeedRelaxation",
    "RelaxDeadline",
    "RelaxationReport",
    "ReleaseSafetyStock",
    "ReopenRoad",
    "Suggestion",
    "apply_change",
    "round_deadline_min",
    "suggest_relaxations",
]
