"""Team assignment with CP-SAT: whole teams to incidents, covering skills × headcount.

Model
-----
* ``x[k, n]`` (bool): team ``k`` goes to incident ``n``. Only pairs that are reachable, not
  forbidden, with a team whose status is in ``options.available_statuses`` (default 待命) and
  that has at least one skill the incident requires; with ``hard_deadlines`` also only pairs
  arriving by the deadline. A team serves at most one incident (Σₙ x[k, n] ≤ 1).
* Headcount is *split*, never double counted: ``h[k, n, s]`` people of team ``k`` work on
  skill ``s`` at incident ``n`` (only skills the team has), Σₛ h[k, n, s] ≤ headcount·x[k, n].
  A 30-person team with 水域救援 and 城市搜救 can cover 20 + 10, not 30 + 30.
* ``u[n, s]`` = people of skill ``s`` still missing at ``n``: Σₖ h[k, n, s] + u[n, s] ≥ need.

Objective (minimised, all integer)
    ``objective="last"`` (default):
    Σₙ W·pₙ·(arrₙ + L·lateₙ) + Σₖₙ eta[k, n]·x[k, n] + Σₙₛ pₙ·U·u[n, s], where ``arrₙ`` is the
    ETA of the last team sent to ``n`` (the moment it is fully staffed), ``lateₙ = max(0, arrₙ −
    deadlineₙ)``, ``pₙ`` the priority (:func:`dispatch.problems.site_priority`), ``L =
    options.late_weight`` and ``W = 10``. The small middle term keeps the solver from sending
    teams that are not needed and prefers nearer ones when the last arrival does not change.
    ``objective="sum"``: Σₖₙ pₙ·(eta + L·late)·x[k, n], lateness per team.

    ``arrₙ`` is modelled as a staircase over the incident's distinct ETAs (one boolean per step,
    non-increasing, forced by any team with that ETA), which is exact and much tighter in the LP
    relaxation than ``arrₙ ≥ eta·x``; lateness is then a linear function of the same steps.

    Unmet people cost ``U = 2·(W·(L + 1) + 1)·eta_max + 1`` per person (× priority) unless
    ``options.unmet_weight`` is given, where ``eta_max`` is the largest eligible ETA: covering one
    more person with one more team costs at most that much divided by two in arrival, lateness
    and tie-break terms, so a need is never left unmet to arrive earlier at the same priority;
    unmet is "far more costly than late".

Pins and forbids
    Forbidden pairs get no variable. Pinned pairs are fixed to 1 and override the team's status
    (the operator knows the team can go). A pin that cannot hold (unknown id, pair also forbidden,
    unreachable, later than a hard deadline, or a team pinned twice) makes the result INFEASIBLE
    with a message naming it; otherwise the model is always feasible.

Stopping
    A watcher thread polls ``stop()`` every 20 ms and calls ``solver.stop_search()``; the best
    solution found so far is returned with status CANCELLED (or TIMEOUT at the time limit).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from dispatch.problems import NO_DEADLINE, AssignmentProblem
from dispatch.results import (
    ProgressFn,
    Reason,
    SolveInfo,
    Status,
    StopFn,
    Unserved,
)
from gis.phrases import word

_W = 10  # weight of the priority-weighted arrival against the unweighted tie-break (see doc)


@dataclass(frozen=True, slots=True)
class AssignmentOptions:
    """Options of :func:`solve_assignment` (see the module docstring for the model)."""

    available_statuses: tuple[str, ...] = ("待命",)
    hard_deadlines: bool = False
    objective: str = "last"  # "last" | "sum"
    late_weight: int = 10
    unmet_weight: int | None = None
    time_limit_s: float = 10.0
    num_workers: int = 8  # CP-SAT portfolio incl. LP workers; fine on 2 cores
    seed: int = 0


@dataclass(frozen=True, slots=True)
class TeamAssignment:
    """Team ``team_id`` goes to ``incident_id``, arriving after ``eta_s``; ``contributes`` maps
    skill → people of the team counted for it."""

    team_id: str
    incident_id: str
    eta_s: int
    contributes: Mapping[str, int] = field(default_factory=dict)
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class AssignmentResult:
    """Outcome of :func:`solve_assignment`.

    ``unserved``: people of a skill not covered at all; ``late``: people covered only by teams
    arriving after the deadline (soft deadlines), reason 超出时限; ``arrival_s``: ETA of the last
    team per incident that got any team; ``conflicts``: why the pins make the problem infeasible.
    """

    info: SolveInfo
    assignments: tuple[TeamAssignment, ...]
    unserved: tuple[Unserved, ...]
    late: tuple[Unserved, ...] = ()
    arrival_s: Mapping[str, int] = field(default_factory=dict)
    conflicts: tuple[str, ...] = ()

    def teams_at(self, incident_id: str) -> tuple[str, ...]:
        return tuple(a.team_id for a in self.assignments if a.incident_id == incident_id)

    def covered(self, incident_id: str, skill: str) -> int:
        return sum(
            a.contributes.get(skill, 0) for a in self.assignments if a.incident_id == incident_id
        )


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports progress on each improving solution and stops the search when ``stop()``."""

    def __init__(self, stop: StopFn | None, progress: ProgressFn | None, limit: float) -> None:
        super().__init__()
        self._stop = stop
        self._progress = progress
        self._limit = limit
        self._t0 = time.perf_counter()
        self.solutions = 0
        self.cancelled = False

    def on_solution_callback(self) -> None:
        self.solutions += 1
        if self._progress is not None:
            frac = min(1.0, (time.perf_counter() - self._t0) / max(self._limit, 1e-9))
            self._progress(
                frac, f"已找到第 {self.solutions} 个方案，目标 {self.objective_value:.0f}"
            )
        if self._stop is not None and self._stop():
            self.cancelled = True
            self.stop_search()


def _minutes(seconds: int) -> int:
    return int(math.ceil(seconds / 60))


def _check_pins(p: AssignmentProblem, opt: AssignmentOptions) -> list[str]:
    team_ix = {t: i for i, t in enumerate(p.team_ids)}
    inc_ix = {t: i for i, t in enumerate(p.incident_ids)}
    forbids = set(p.forbids)
    out: list[str] = []
    pinned_to: dict[str, list[str]] = {}
    for team, inc in p.pins:
        label = f"固定派遣 {team}→{inc}"
        if team not in team_ix:
            out.append(f"{label}：队伍 {team} 不存在")
            continue
        if inc not in inc_ix:
            out.append(f"{label}：事件 {inc} 不存在或不在本次计算中")
            continue
        k, n = team_ix[team], inc_ix[inc]
        pinned_to.setdefault(team, []).append(inc)
        if (team, inc) in forbids:
            out.append(f"{label}：同一组合同时被禁止")
        if not p.reachable[k, n]:
            out.append(f"{label}：道路中断，队伍无法到达事发点")
        elif opt.hard_deadlines and p.eta_s[k, n] > p.deadline_s[n]:
            out.append(
                f"{label}：预计 {_minutes(int(p.eta_s[k, n]))} 分钟到达，超出 "
                f"{_minutes(int(p.deadline_s[n]))} 分钟硬时限"
            )
    for team, incs in pinned_to.items():
        if len(set(incs)) > 1:
            out.append(f"固定派遣冲突：队伍 {team} 被同时固定到 {'、'.join(sorted(set(incs)))}")
    return out


def _unmet_reason(
    p: AssignmentProblem,
    opt: AssignmentOptions,
    n: int,
    skill: str,
    qty: int,
    forbidden: set[tuple[int, int]],
) -> Unserved:
    inc = p.incident_ids[n]
    has = np.array([skill in s for s in p.team_skills], dtype=bool)
    avail = has & np.array([st in opt.available_statuses for st in p.team_status], dtype=bool)
    avail &= np.array([(k, n) not in forbidden for k in range(len(p.team_ids))], dtype=bool)
    reach = avail & p.reachable[:, n]
    head = f"缺少 {skill} {qty} 人"
    if not has.any():
        reason, zh, en = Reason.NO_TEAM, f"{head}：无具备该技能的队伍", "no team has this skill"
    elif not avail.any():
        reason, zh = Reason.NO_TEAM, f"{head}：无待命的{skill}队伍"
        en = "no team with this skill is on standby"
    elif not reach.any():
        reason, zh = Reason.UNREACHABLE, f"{head}：事发点不可达（道路中断，无{skill}队伍可达）"
        en = "unreachable: no team with this skill can reach the site"
    elif opt.hard_deadlines and not (reach & (p.eta_s[:, n] <= p.deadline_s[n])).any():
        minutes = _minutes(int(p.deadline_s[n]))
        reason, zh = Reason.TOO_LATE, f"{minutes} 分钟内无可用{skill}队伍（{head}）"
        en = f"no team with this skill can arrive within {minutes} min"
    else:
        reason, zh = Reason.NO_TEAM, f"{head}：可用{skill}队伍已全部派出或人数不足"
        en = "all available teams with this skill are assigned or too small"
    en = f"missing {qty} × {word(skill, 'en')}: {en}"
    return Unserved(inc, skill, float(qty), reason, zh, en)


def _greedy(
    p: AssignmentProblem, pairs: Mapping[tuple[int, int], list[str]], pri: np.ndarray
) -> tuple[dict[int, int], dict[tuple[int, int, str], int]]:
    """A quick feasible plan: pins first, then incidents by priority, nearest useful teams first.

    Returns (team → incident, (team, incident, skill) → people). Used as the CP-SAT hint and as
    the best plan so far when the search is stopped before it finds one.
    """
    used: dict[int, int] = {}
    take: dict[tuple[int, int, str], int] = {}
    left = [dict(r) for r in p.requirements]
    pins = set(p.pins)
    pinned = [(k, n) for (k, n) in pairs if (p.team_ids[k], p.incident_ids[n]) in pins]

    def send(k: int, n: int) -> None:
        used[k] = n
        room = int(p.headcount[k])
        for s in pairs[(k, n)]:
            q = min(room, max(0, left[n].get(s, 0)))
            if q > 0:
                take[k, n, s] = q
                left[n][s] -= q
                room -= q

    for k, n in pinned:
        send(k, n)
    for n in sorted(range(len(p.incident_ids)), key=lambda i: -int(pri[i])):
        cands = sorted((k for (k, m) in pairs if m == n), key=lambda k: int(p.eta_s[k, n]))
        for k in cands:
            if k not in used and any(left[n].get(s, 0) > 0 for s in pairs[(k, n)]):
                send(k, n)
    return used, take


def _canonical_take(
    p: AssignmentProblem,
    pairs: Mapping[tuple[int, int], list[str]],
    used: Mapping[int, int],
) -> dict[tuple[int, int, str], int]:
    """Headcount each sent team gives each skill, as one deterministic max flow per incident.

    The teams sent fix the objective's arrival terms; how their people are split between
    skills only matters through the unmet headcount, which a max flow (teams → skills, team
    capacity = headcount, skill capacity = requirement) minimises. CP-SAT may return any of
    several equally good splits (its 8 workers race); this makes the plan reproducible.
    """
    from ortools.graph.python import max_flow

    take: dict[tuple[int, int, str], int] = {}
    by_inc: dict[int, list[int]] = {}
    for k, n in sorted(used.items()):
        by_inc.setdefault(n, []).append(k)
    for n, ks in sorted(by_inc.items()):
        skills = [s for s, q in p.requirements[n].items() if q > 0]
        if not skills:
            continue
        node_s = {s: 1 + len(ks) + i for i, s in enumerate(skills)}
        sink = 1 + len(ks) + len(skills)
        mf = max_flow.SimpleMaxFlow()
        arcs: list[tuple[int, int, str]] = []
        for i, k in enumerate(ks):
            mf.add_arc_with_capacity(0, 1 + i, int(p.headcount[k]))
            for s in pairs.get((k, n), ()):
                if s in node_s:
                    cap = int(min(p.headcount[k], p.requirements[n][s]))
                    arcs.append((mf.add_arc_with_capacity(1 + i, node_s[s], cap), k, s))
        for s in skills:
            mf.add_arc_with_capacity(node_s[s], sink, int(p.requirements[n][s]))
        if mf.solve(0, sink) != mf.OPTIMAL:
            raise RuntimeError("max flow failed on the team assignment")  # cannot happen
        for arc, k, s in arcs:
            f = int(mf.flow(arc))
            if f > 0:
                take[k, n, s] = f
    return take


def plan_objective(
    p: AssignmentProblem,
    opt: AssignmentOptions,
    used: Mapping[int, int],
    take: Mapping[tuple[int, int, str], int],
    unmet_weight: int,
) -> int:
    """The model's objective of a plan (team index → incident index, people per skill)."""
    total = 0
    for n in range(len(p.incident_ids)):
        ks = [k for k, m in used.items() if m == n]
        pn = int(p.priority[n])
        dl = int(p.deadline_s[n])
        for s, q in p.requirements[n].items():
            got = sum(take.get((k, n, s), 0) for k in ks)
            total += pn * unmet_weight * max(0, int(q) - got)
        if not ks:
            continue
        if opt.objective == "last":
            arr = max(int(p.eta_s[k, n]) for k in ks)
            late = max(0, arr - dl) if dl < NO_DEADLINE else 0
            total += _W * pn * (arr + int(opt.late_weight) * late)
            total += sum(int(p.eta_s[k, n]) for k in ks)
        else:
            for k in ks:
                eta = int(p.eta_s[k, n])
                late = max(0, eta - dl) if dl < NO_DEADLINE else 0
                total += pn * (eta + int(opt.late_weight) * late)
    return total


#: Above this many eligible (team, incident) pairs the model keeps only each team's
#: :data:`NEAREST_INCIDENTS` nearest incidents and each incident's :data:`NEAREST_TEAMS`
#: nearest teams (pins always): its size, and so its build time, grows linearly with the
#: incidents. The result is then FEASIBLE (optimal over those pairs), not OPTIMAL.
MAX_EXACT_PAIRS = 4_000
NEAREST_INCIDENTS = 60
NEAREST_TEAMS = 3


def _nearest_pairs(
    p: AssignmentProblem,
    pairs: dict[tuple[int, int], list[str]],
    pinned: set[tuple[int, int]],
) -> tuple[dict[tuple[int, int], list[str]], bool]:
    if len(pairs) <= MAX_EXACT_PAIRS:
        return pairs, False
    by_team: dict[int, list[tuple[int, int]]] = {}
    by_inc: dict[int, list[tuple[int, int]]] = {}
    for k, n in pairs:
        by_team.setdefault(k, []).append((int(p.eta_s[k, n]), n))
        by_inc.setdefault(n, []).append((int(p.eta_s[k, n]), k))
    keep = set(pinned)
    for k, lst in by_team.items():
        keep.update((k, n) for _, n in sorted(lst)[:NEAREST_INCIDENTS])
    for n, lst in by_inc.items():
        keep.update((k, n) for _, k in sorted(lst)[:NEAREST_TEAMS])
    return {kn: v for kn, v in pairs.items() if kn in keep}, True


def solve_assignment(
    problem: AssignmentProblem,
    options: AssignmentOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> AssignmentResult:
    """Assign whole teams to incidents (CP-SAT). Never raises for infeasible or partial cases."""
    opt = options or AssignmentOptions()
    if opt.objective not in ("last", "sum"):
        raise ValueError(
            f"AssignmentOptions.objective must be 'last' or 'sum', not {opt.objective!r}"
        )
    t0 = time.perf_counter()
    p = problem
    K, N = len(p.team_ids), len(p.incident_ids)
    engine = "ortools-cp-sat"

    conflicts = _check_pins(p, opt)
    if conflicts:
        return AssignmentResult(
            info=SolveInfo(Status.INFEASIBLE, runtime_s=time.perf_counter() - t0, engine=engine),
            assignments=(),
            unserved=(),
            conflicts=tuple(conflicts),
        )
    team_ix = {t: i for i, t in enumerate(p.team_ids)}
    inc_ix = {t: i for i, t in enumerate(p.incident_ids)}
    pinned = {(team_ix[a], inc_ix[b]) for a, b in p.pins}
    forbidden = {(team_ix[a], inc_ix[b]) for a, b in p.forbids if a in team_ix and b in inc_ix}
    available = [st in opt.available_statuses for st in p.team_status]

    # Eligible pairs and the skills each pair can contribute.
    pairs: dict[tuple[int, int], list[str]] = {}
    for n in range(N):
        need = {s: q for s, q in p.requirements[n].items() if q > 0}
        for k in range(K):
            useful = [s for s in p.team_skills[k] if s in need]
            if (k, n) in pinned:
                pairs[(k, n)] = useful
                continue
            if not useful or not available[k] or (k, n) in forbidden or not p.reachable[k, n]:
                continue
            if opt.hard_deadlines and p.eta_s[k, n] > p.deadline_s[n]:
                continue
            if p.headcount[k] <= 0:
                continue
            pairs[(k, n)] = useful

    pairs, sparse = _nearest_pairs(p, pairs, pinned)
    eta_max = max((int(p.eta_s[k, n]) for k, n in pairs), default=0)
    big_u = (
        int(opt.unmet_weight)
        if opt.unmet_weight is not None
        else 2 * (_W * (opt.late_weight + 1) + 1) * max(eta_max, 1) + 1
    )
    pri = p.priority.astype(np.int64)
    deadline = p.deadline_s

    used, take = _greedy(p, pairs, pri)
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    h: dict[tuple[int, int, str], cp_model.IntVar] = {}
    stopped_early = False
    for i, ((k, n), skills) in enumerate(pairs.items()):
        if stop is not None and i % 256 == 0 and stop():  # building a big model takes a while
            stopped_early = True
            break
        x[k, n] = model.new_bool_var(f"x_{k}_{n}")
        if (k, n) in pinned:
            model.add(x[k, n] == 1)
        hs = []
        for s in skills:
            ub = int(min(p.headcount[k], p.requirements[n][s]))
            v = model.new_int_var(0, ub, f"h_{k}_{n}_{s}")
            h[k, n, s] = v
            hs.append(v)
            model.add(v <= ub * x[k, n])
        if hs:
            model.add(sum(hs) <= int(p.headcount[k]) * x[k, n])
    by_team: dict[int, list[cp_model.IntVar]] = {}
    by_inc: dict[int, list[int]] = {}
    for k, n in x:
        by_team.setdefault(k, []).append(x[k, n])
        by_inc.setdefault(n, []).append(k)
    for xs in by_team.values():
        if len(xs) > 1:
            model.add_at_most_one(xs)

    obj: list = []
    u: dict[tuple[int, str], cp_model.IntVar] = {}
    for n in range(N):
        for s, q in p.requirements[n].items():
            if q <= 0:
                continue
            cover = [h[k, n, s] for k in by_inc.get(n, []) if (k, n, s) in h]
            u[n, s] = model.new_int_var(0, int(q), f"u_{n}_{s}")
            model.add(sum(cover) + u[n, s] >= int(q))
            obj.append(int(pri[n]) * big_u * u[n, s])
    for n, ks in by_inc.items():
        if opt.objective == "last":
            # Staircase form of arrₙ = max ETA of the teams sent (tight in the LP relaxation):
            # a[j] = 1 iff arrₙ ≥ the j-th smallest distinct ETA; a is non-increasing in j,
            # a team with the j-th ETA forces a[j]; arrₙ = Σ (ETAⱼ − ETAⱼ₋₁)·a[j] and the
            # lateness max(0, arrₙ − deadline) is the part of those steps above the deadline.
            levels = sorted({int(p.eta_s[k, n]) for k in ks})
            step = {e: j for j, e in enumerate(levels)}
            a = [model.new_bool_var(f"a_{n}_{j}") for j in range(len(levels))]
            for j in range(1, len(a)):
                model.add_implication(a[j], a[j - 1])
            for k in ks:
                model.add_implication(x[k, n], a[step[int(p.eta_s[k, n])]])
            dl = int(deadline[n])
            prev = 0
            for j, e in enumerate(levels):
                late = 0
                if not opt.hard_deadlines and dl < NO_DEADLINE and e > dl:
                    late = e - max(prev, dl)
                coef = _W * int(pri[n]) * ((e - prev) + int(opt.late_weight) * late)
                obj.append(coef * a[j])
                prev = e
            for k in ks:
                obj.append(int(p.eta_s[k, n]) * x[k, n])
        else:
            for k in ks:
                eta = int(p.eta_s[k, n])
                late = max(0, eta - int(deadline[n])) if deadline[n] < NO_DEADLINE else 0
                obj.append(int(pri[n]) * (eta + int(opt.late_weight) * late) * x[k, n])
    model.minimize(sum(obj))
    for (k, n), var in x.items():
        model.add_hint(var, 1 if used.get(k) == n else 0)
    for key, var in h.items():
        model.add_hint(var, take.get(key, 0))

    solver = cp_model.CpSolver()
    # the limit covers building the model too: CP-SAT gets what is left (at least 0.05 s)
    left = float(opt.time_limit_s) - (time.perf_counter() - t0)
    solver.parameters.max_time_in_seconds = max(0.05, left)
    solver.parameters.num_workers = max(1, int(opt.num_workers))
    solver.parameters.random_seed = int(opt.seed)
    watcher = _Watcher(stop, progress, opt.time_limit_s)
    done = threading.Event()
    cancelled = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            if stop is not None and stop():
                cancelled.set()
                solver.stop_search()
                return

    if stopped_early or (stop is not None and stop()):
        cancelled.set()
        cp_status = cp_model.UNKNOWN
    else:
        thread = threading.Thread(target=watch, daemon=True) if stop is not None else None
        if thread is not None:
            thread.start()
        try:
            cp_status = solver.solve(model, watcher)
        finally:
            done.set()
            if thread is not None:
                thread.join()
    is_cancelled = cancelled.is_set() or watcher.cancelled
    has_solution = cp_status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    if cp_status == cp_model.OPTIMAL:
        status = Status.FEASIBLE if sparse else Status.OPTIMAL  # sparse: over nearest pairs
    elif cp_status == cp_model.INFEASIBLE:
        status = Status.INFEASIBLE
    elif cp_status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the assignment model: {model.validate()}")
    else:
        status = Status.CANCELLED if is_cancelled else Status.TIMEOUT

    runtime = time.perf_counter() - t0
    if status is Status.INFEASIBLE:  # cannot happen once the pins are checked; kept for safety
        return AssignmentResult(
            info=SolveInfo(status, runtime_s=runtime, engine=engine),
            assignments=(),
            unserved=(),
            conflicts=("固定/禁止派遣相互冲突，无可行方案",),
        )
    if has_solution:
        used = {k: n for (k, n), var in x.items() if solver.value(var)}
        take = _canonical_take(p, pairs, used)  # covers at least what CP-SAT's split did
        objective = float(plan_objective(p, opt, used, take, big_u))
        bound: float | None = (
            None if sparse else float(math.ceil(solver.best_objective_bound - 1e-6))
        )
    else:  # stopped before CP-SAT found a plan: the greedy plan is the best so far
        objective = float(plan_objective(p, opt, used, take, big_u))
        bound = None
    assignments = [
        TeamAssignment(
            p.team_ids[k],
            p.incident_ids[n],
            int(p.eta_s[k, n]),
            {s: take[k, n, s] for s in pairs[(k, n)] if take.get((k, n, s), 0) > 0},
            (k, n) in pinned,
        )
        for k, n in sorted(used.items(), key=lambda kn: (kn[1], kn[0]))
    ]
    unserved_out: list[Unserved] = []
    late_out: list[Unserved] = []
    arrival: dict[str, int] = {}
    for n in range(N):
        sent = [a for a in assignments if a.incident_id == p.incident_ids[n]]
        if sent:
            arrival[p.incident_ids[n]] = max(a.eta_s for a in sent)
        for s, q in p.requirements[n].items():
            if q <= 0:
                continue
            got = sum(a.contributes.get(s, 0) for a in sent)
            if got < q:
                unserved_out.append(_unmet_reason(p, opt, n, s, int(q - got), forbidden))
            if deadline[n] < NO_DEADLINE:
                late_people = sum(a.contributes.get(s, 0) for a in sent if a.eta_s > deadline[n])
                if late_people > 0:
                    last = max(a.eta_s for a in sent if a.contributes.get(s, 0))
                    minutes = _minutes(int(deadline[n]))
                    late_out.append(
                        Unserved(
                            p.incident_ids[n],
                            s,
                            float(late_people),
                            Reason.TOO_LATE,
                            f"{minutes} 分钟内无可用{s}队伍：{late_people} 人预计 "
                            f"{_minutes(last)} 分钟到达",
                            f"{late_people} × {s} arrive after the {minutes} min deadline",
                        )
                    )
    info = SolveInfo(
        status=status, objective=objective, bound=bound, runtime_s=runtime, engine=engine
    )
    return AssignmentResult(
        info=info,
        assignments=tuple(assignments),
        unserved=tuple(unserved_out),
        late=tuple(late_out),
        arrival_s=arrival,
    )


__all__ = [
    "AssignmentOptions",
    "plan_objective",
    "AssignmentResult",
    "TeamAssignment",
    "solve_assignment",
]
