"""Evacuation: groups of people (incident zones, villages) → shelters with free places.

Three stages
------------
1. **Min-cost flow** (OR-Tools ``SimpleMinCostFlow``): group → shelter arcs cost travel seconds,
   shelter → sink arcs have the free capacity, and a group → sink "not evacuated" arc costs
   ``B × priority``; with ``B = min(#groups, #shelters) × max seconds + 1`` this is provably
   lexicographic (same argument as :mod:`dispatch.allocation`): first the priority-weighted number
   of people placed ``W*`` is maximal, then person × seconds is minimal. Its travel cost is a
   lower bound for stage 3.
2. **Whole-group plan** (CP-SAT, a third of the time limit): each group to at most one shelter,
   same weighted number placed, min Σ people·(seconds + split_penalty_s). It is a generalised
   assignment problem, usually solved in well under a second; the better of it and the flow's
   plan becomes the hint (and fallback) of stage 3.
3. **CP-SAT repair of splits** (exact model, the rest of the time limit): integer people
   ``y[g, h]`` and ``z[g, h] = 1`` when group ``g`` uses shelter ``h``; capacities,
   Σₕ y[g, h] ≤ people_g and Σ priority·y ≥ ``W*`` (nobody left behind compared with stage 1);
   minimise Σ seconds·y + Σ split_penalty_g·(shelters used by g) with ``split_penalty_g =
   options.split_penalty_s × people_g``: a group is split only when capacity forces it or when
   splitting saves more than ``split_penalty_s`` seconds per person of the group on average
   (default 30 min). Status OPTIMAL when CP-SAT proves it, otherwise TIMEOUT/CANCELLED with the
   best plan (at worst the hint) and a bound (CP-SAT's, or stage 1's travel if larger).

When the flow's plan already places everybody without splitting a group it is optimal for
stage 3 too (least travel, fewest shelters) and stages 2–3 are skipped.

Overflow: people left without a place are reported with :attr:`Reason.OVER_CAPACITY` (reachable
shelters are full, or no shelter has free places at all) or :attr:`Reason.UNREACHABLE` (shelters
with free places exist but none can be reached).

:func:`shelter_supply_deficits` turns the resulting shelter populations and a per-person daily
standard into :class:`dispatch.problems.AllocationSite` needs for the allocation.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

from dispatch.problems import NO_DEADLINE, AllocationSite, EvacuationProblem
from dispatch.results import ProgressFn, Reason, SolveInfo, Status, StopFn, Unserved
from gis.model import Material, Shelter


@dataclass(frozen=True, slots=True)
class EvacuationOptions:
    """Options of :func:`solve_evacuation`.

    ``split_penalty_s``: seconds per person of a group charged for each shelter it uses (see
    module doc); 0 gives the plain min person × seconds plan. ``time_limit_s`` bounds stage 2.
    """

    split_penalty_s: int = 1800
    time_limit_s: float = 10.0
    num_workers: int = 8
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Relocation:
    """The evacuation solver's decision (the plan records it as :class:`dispatch.records.EvacuationMove`):
    ``people`` of ``group_id`` go to ``shelter_id`` (travel ``travel_s``)."""

    group_id: str
    shelter_id: str
    people: int
    travel_s: int


@dataclass(frozen=True, slots=True)
class EvacuationResult:
    """Outcome of :func:`solve_evacuation`.

    ``info.objective`` = Σ people × seconds + split penalties; ``person_seconds`` is the travel
    part alone; ``shelter_load`` maps shelter id → people sent there by this plan.
    """

    info: SolveInfo
    moves: tuple[Relocation, ...]
    unserved: tuple[Unserved, ...]
    person_seconds: int = 0
    shelter_load: Mapping[str, int] = field(default_factory=dict)

    def placed(self, group_id: str | None = None) -> int:
        return sum(m.people for m in self.moves if group_id is None or m.group_id == group_id)

    def shelters_of(self, group_id: str) -> tuple[str, ...]:
        return tuple(m.shelter_id for m in self.moves if m.group_id == group_id)


def _flow_stage(p: EvacuationProblem) -> tuple[np.ndarray, int]:
    """Stage 1: people per (group, shelter) as a [G, H] array, and the weighted people placed."""
    G, H = len(p.group_ids), len(p.shelter_ids)
    y = np.zeros((G, H), dtype=np.int64)
    gi, hi = np.nonzero(p.reachable & (p.people[:, None] > 0) & (p.capacity[None, :] > 0))
    if len(gi) == 0:
        return y, 0
    cost = p.seconds[gi, hi]
    big_b = min(G, H) * int(cost.max()) + 1
    sink = G + H
    tails = np.concatenate([gi, G + np.arange(H), np.arange(G)]).astype(np.int32)
    heads = np.concatenate([G + hi, np.full(H, sink), np.full(G, sink)]).astype(np.int32)
    caps = np.concatenate([p.people[gi], p.capacity, p.people]).astype(np.int64)
    costs = np.concatenate([cost, np.zeros(H, np.int64), big_b * p.priority]).astype(np.int64)
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:G] = p.people
    supplies[sink] = -int(p.people.sum())
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow returned status {status} on a feasible network")
    flows = np.asarray(smcf.flows(np.arange(len(gi), dtype=np.int32)), dtype=np.int64)
    y[gi, hi] = flows
    weighted = int(np.dot(y.sum(axis=1), p.priority))
    return y, weighted


def _split_stage(
    p: EvacuationProblem,
    opt: EvacuationOptions,
    hint: np.ndarray,
    weighted: int,
    stop: StopFn | None,
    time_limit_s: float,
) -> tuple[Status, np.ndarray, float | None, float | None]:
    """Stage 2 (CP-SAT); returns status, plan, objective, bound."""
    G, H = len(p.group_ids), len(p.shelter_ids)
    pen = int(opt.split_penalty_s) * p.people
    model = cp_model.CpModel()
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    z: dict[tuple[int, int], cp_model.IntVar] = {}
    ok = p.reachable & (p.people[:, None] > 0) & (p.capacity[None, :] > 0)
    ok, sparse = _nearest(p, ok, hint > 0)
    gi, hi = np.nonzero(ok)
    deadline = time.perf_counter() + time_limit_s
    for i, (g, h) in enumerate(zip(gi.tolist(), hi.tolist())):
        if i % 256 == 0:  # building a big model takes a while: within the limit too
            if stop is not None and stop():
                return Status.CANCELLED, hint, None, None
            if time.perf_counter() > deadline:
                return Status.TIMEOUT, hint, None, None
        ub = int(min(p.people[g], p.capacity[h]))
        y[g, h] = model.new_int_var(0, ub, f"y_{g}_{h}")
        z[g, h] = model.new_bool_var(f"z_{g}_{h}")
        model.add(y[g, h] <= ub * z[g, h])
        model.add(y[g, h] >= 1).only_enforce_if(z[g, h])
        model.add_hint(y[g, h], int(hint[g, h]))
        model.add_hint(z[g, h], int(hint[g, h] > 0))
    by_g: dict[int, list[int]] = {}
    by_h: dict[int, list[int]] = {}
    for g, h in y:
        by_g.setdefault(g, []).append(h)
        by_h.setdefault(h, []).append(g)
    for g, hs in by_g.items():
        model.add(sum(y[g, h] for h in hs) <= int(p.people[g]))
    for h, gs in by_h.items():
        model.add(sum(y[g, h] for g in gs) <= int(p.capacity[h]))
    model.add(sum(int(p.priority[g]) * v for (g, _), v in y.items()) >= weighted)
    model.minimize(
        sum(int(p.seconds[g, h]) * v for (g, h), v in y.items())
        + sum(int(pen[g]) * v for (g, _), v in z.items())
    )
    solver, st, cancelled = _run(model, opt, max(0.05, deadline - time.perf_counter()), stop)
    if st == cp_model.OPTIMAL and not sparse:
        status = Status.OPTIMAL
    elif st == cp_model.OPTIMAL:  # optimal over each group's nearest shelters only
        status = Status.FEASIBLE
    else:
        status = Status.CANCELLED if cancelled else Status.TIMEOUT
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return status, hint, None, None
    plan = np.zeros((G, H), dtype=np.int64)
    for (g, h), v in y.items():
        plan[g, h] = solver.value(v)
    bound = None if sparse else float(math.ceil(solver.best_objective_bound - 1e-6))
    return status, plan, float(round(solver.objective_value)), bound


#: Above this many (group, shelter) pairs the CP-SAT models keep, per group, only its
#: :data:`NEAREST_SHELTERS` nearest shelters (and those the hint uses): the model then grows
#: linearly with the groups, and its build time stays within the stage's limit.
MAX_EXACT_PAIRS = 5_000
NEAREST_SHELTERS = 8


def _nearest(p: EvacuationProblem, ok: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, bool]:
    """``ok`` cut to each group's nearest shelters when it has too many pairs; (mask, cut?)."""
    if int(ok.sum()) <= MAX_EXACT_PAIRS or ok.shape[1] <= NEAREST_SHELTERS:
        return ok, False
    sec = np.where(ok, np.asarray(p.seconds, dtype=np.float64), np.inf)
    k = NEAREST_SHELTERS
    near = np.argpartition(sec, k - 1, axis=1)[:, :k]
    mask = np.zeros_like(ok)
    np.put_along_axis(mask, near, True, axis=1)
    return (mask & ok) | (keep & ok), True


def _run(
    model: cp_model.CpModel, opt: EvacuationOptions, limit: float, stop: StopFn | None
) -> tuple[cp_model.CpSolver, int, bool]:
    """Solve ``model`` with a watcher thread that calls ``stop_search`` when ``stop()``."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, float(limit))
    solver.parameters.num_workers = max(1, int(opt.num_workers))
    solver.parameters.random_seed = int(opt.seed)
    done = threading.Event()
    cancelled = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            if stop is not None and stop():
                cancelled.set()
                solver.stop_search()
                return

    thread = threading.Thread(target=watch, daemon=True) if stop is not None else None
    if thread is not None:
        thread.start()
    try:
        st = solver.solve(model)
    finally:
        done.set()
        if thread is not None:
            thread.join()
    if st == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the evacuation model: {model.validate()}")
    return solver, st, cancelled.is_set()


def _whole_group_stage(
    p: EvacuationProblem,
    opt: EvacuationOptions,
    weighted: int,
    stop: StopFn | None,
    time_limit_s: float,
) -> np.ndarray | None:
    """Stage 2a: the best plan that splits no group (a generalised assignment problem, easy for
    CP-SAT), placing the same priority-weighted number of people as the flow. Used as a hint
    for stage 2b; ``None`` when no such plan is found (capacity forces a split)."""
    G, H = len(p.group_ids), len(p.shelter_ids)
    ok = p.reachable & (p.people[:, None] > 0) & (p.people[:, None] <= p.capacity[None, :])
    ok, _ = _nearest(p, ok, np.zeros_like(ok))
    gi, hi = np.nonzero(ok)
    if len(gi) == 0 or len(gi) > 50_000:
        return None
    deadline = time.perf_counter() + time_limit_s
    model = cp_model.CpModel()
    x = {(g, h): model.new_bool_var(f"w_{g}_{h}") for g, h in zip(gi.tolist(), hi.tolist())}
    if time.perf_counter() > deadline:
        return None
    by_g: dict[int, list[cp_model.IntVar]] = {}
    by_h: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
    for (g, h), v in x.items():
        by_g.setdefault(g, []).append(v)
        by_h.setdefault(h, []).append((g, v))
    for vs in by_g.values():
        model.add_at_most_one(vs)
    for h, gv in by_h.items():
        model.add(sum(int(p.people[g]) * v for g, v in gv) <= int(p.capacity[h]))
    model.add(sum(int(p.priority[g] * p.people[g]) * v for (g, _), v in x.items()) >= weighted)
    model.minimize(
        sum(
            int(p.people[g]) * (int(p.seconds[g, h]) + int(opt.split_penalty_s)) * v
            for (g, h), v in x.items()
        )
    )
    if time.perf_counter() > deadline:
        return None
    solver, st, _ = _run(model, opt, deadline - time.perf_counter(), stop)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    plan = np.zeros((G, H), dtype=np.int64)
    for (g, h), v in x.items():
        if solver.value(v):
            plan[g, h] = p.people[g]
    return plan


def _objective(p: EvacuationProblem, opt: EvacuationOptions, plan: np.ndarray) -> tuple[int, int]:
    travel = int(np.sum(np.where(plan > 0, plan * np.where(p.reachable, p.seconds, 0), 0)))
    pen = int(np.sum((plan > 0).sum(axis=1) * int(opt.split_penalty_s) * p.people))
    return travel, travel + pen


def solve_evacuation(
    problem: EvacuationProblem,
    options: EvacuationOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> EvacuationResult:
    """Send people to shelters (see module doc). Never raises for overflow or unreachable groups."""
    opt = options or EvacuationOptions()
    p = problem
    t0 = time.perf_counter()
    G = len(p.group_ids)
    if stop is not None and stop():
        plan = np.zeros((G, len(p.shelter_ids)), dtype=np.int64)
        status: Status = Status.CANCELLED
        obj = bound = None
    else:
        plan, weighted = _flow_stage(p)
        if progress is not None:
            progress(0.3, "最小费用流完成，正在减少分拆")
        travel_lb, flow_obj = _objective(p, opt, plan)
        n_split = int(((plan > 0).sum(axis=1) > 1).sum())
        if not plan.any():
            status, obj, bound = Status.OPTIMAL, 0.0, 0.0
        elif stop is not None and stop():
            status, obj, bound = Status.CANCELLED, float(flow_obj), float(travel_lb)
        elif opt.split_penalty_s <= 0 or (n_split == 0 and int(plan.sum()) == int(p.people.sum())):
            # The flow plan is optimal for stage 2 as well: it has the least travel, and every
            # group (all are served) uses exactly one shelter, the fewest possible.
            status, obj, bound = Status.OPTIMAL, float(flow_obj), float(flow_obj)
        else:
            # 2a: best plan without any split (fast); the better of it and the flow's plan is
            # the hint and fallback of 2b, the exact model.
            whole = _whole_group_stage(p, opt, weighted, stop, opt.time_limit_s / 3)
            if whole is not None and _objective(p, opt, whole)[1] < flow_obj:
                plan, flow_obj = whole, _objective(p, opt, whole)[1]
            if progress is not None:
                progress(0.5, "整组安置方案完成，正在求精确最优")
            remaining = max(0.05, opt.time_limit_s - (time.perf_counter() - t0))
            status, plan2, obj, bound = _split_stage(p, opt, plan, weighted, stop, remaining)
            if obj is not None and obj <= flow_obj:
                plan = plan2
            else:  # nothing better than the hint within the limit: keep the hint's plan
                obj = float(flow_obj)
            # The flow's travel is a valid lower bound too (penalties are ≥ 0).
            bound = max(float(bound or 0.0), float(travel_lb))
    if progress is not None:
        progress(1.0, "疏散方案完成")

    moves: list[Relocation] = []
    for g, h in zip(*np.nonzero(plan > 0)):
        moves.append(
            Relocation(p.group_ids[g], p.shelter_ids[h], int(plan[g, h]), int(p.seconds[g, h]))
        )
    unserved: list[Unserved] = []
    placed = plan.sum(axis=1)
    for g in range(G):
        missing = int(p.people[g] - placed[g])
        if missing <= 0:
            continue
        if status is Status.CANCELLED and not plan.any():
            reason = Reason.CANCELLED
            zh = f"{missing} 人未安置：计算已取消"
            en = f"{missing} people not placed: cancelled"
        elif not (p.capacity > 0).any():  # not a road problem: there is no free place at all
            reason = Reason.OVER_CAPACITY
            zh = f"{missing} 人未安置：容量不足（无有空余床位的避难场所）"
            en = f"{missing} people not placed: no shelter has free places"
        elif not (p.reachable[g] & (p.capacity > 0)).any():
            reason = Reason.UNREACHABLE
            zh = f"{missing} 人未安置：不可达（道路中断，无可达的避难场所）"
            en = f"{missing} people not placed: no shelter with free places is reachable"
        else:
            reason = Reason.OVER_CAPACITY
            zh = f"{missing} 人未安置：容量不足（可达避难场所已满）"
            en = f"{missing} people not placed: reachable shelters are full"
        unserved.append(Unserved(p.group_ids[g], "people", float(missing), reason, zh, en))
    travel, _ = _objective(p, opt, plan)
    load = {p.shelter_ids[h]: int(v) for h, v in enumerate(plan.sum(axis=0)) if v > 0}
    info = SolveInfo(
        status=status,
        objective=obj,
        bound=bound,
        runtime_s=time.perf_counter() - t0,
        engine="ortools-min_cost_flow+cp-sat",
    )
    return EvacuationResult(
        info=info,
        moves=tuple(moves),
        unserved=tuple(unserved),
        person_seconds=travel,
        shelter_load=load,
    )


def shelter_supply_deficits(
    moves: Sequence[Relocation],
    shelters: Sequence[Shelter],
    standard: Mapping[str, float],
    days: float = 1.0,
    *,
    materials: Mapping[str, Material] | None = None,
    level: int = 3,
    deadline_s: int = NO_DEADLINE,
) -> tuple[AllocationSite, ...]:
    """Needs each shelter lacks for its people over ``days``.

    People at a shelter = its current occupancy + the people the ``moves`` send there. The need
    of material ``m`` is people × ``standard[m]`` (per person per day) × ``days``, rounded up to
    whole units unless ``materials[m].divisible``; the deficit is need − the shelter's stock.
    Returns one :class:`AllocationSite` (``kind="shelter"``, ``level``, ``deadline_s``) per
    shelter that lacks something, ready for ``build_allocation_problem(extra_sites=...)``.
    """
    if days < 0:
        raise ValueError(f"shelter_supply_deficits: days must be ≥ 0, got {days!r}")
    for code, per in standard.items():
        if not (isinstance(per, int | float) and math.isfinite(per) and per >= 0):
            raise ValueError(f"shelter_supply_deficits: standard[{code!r}] = {per!r} is not ≥ 0")
    incoming: dict[str, int] = {}
    for m in moves:
        incoming[m.shelter_id] = incoming.get(m.shelter_id, 0) + int(m.people)
    known = {s.id for s in shelters}
    unknown = sorted(set(incoming) - known)
    if unknown:
        raise ValueError(f"shelter_supply_deficits: moves name unknown shelter(s) {unknown}")
    out: list[AllocationSite] = []
    for s in shelters:
        people = s.occupancy + incoming.get(s.id, 0)
        if people <= 0:
            continue
        needs: dict[str, float] = {}
        for code, per in standard.items():
            need = people * float(per) * float(days)
            mat = materials.get(code) if materials else None
            if mat is None or not mat.divisible:
                need = math.ceil(need - 1e-9)
            lack = need - float(s.stock.get(code, 0))
            if lack > 1e-9:
                needs[code] = lack if (mat is not None and mat.divisible) else math.ceil(lack)
        if needs:
            out.append(
                AllocationSite(
                    id=s.id,
                    needs=needs,
                    level=level,
                    deadline_s=deadline_s,
                    name=s.name,
                    location=s.location,
                    kind="shelter",
                )
            )
    return tuple(out)


__all__ = [
    "Relocation",
    "EvacuationOptions",
    "EvacuationResult",
    "shelter_supply_deficits",
    "solve_evacuation",
]
