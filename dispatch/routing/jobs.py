"""Deliveries cut into vehicle-sized pieces (*jobs*, the engines' unit of work) and screened.

:func:`prepare_jobs` splits a delivery that fits no vehicle of its pickup depot into equal
pieces (see "Split delivery" in :mod:`dispatch.routing`) and sets aside, with a Chinese reason,
the deliveries that cannot be made at all (no vehicle, no road, too large, too late even
directly).

Bounded by construction: a delivery is cut into at most :data:`MAX_PIECES_PER_DELIVERY` pieces
and never more than its depot's fleet can carry in its trips (Σ ``max_trips``: each piece of a
split delivery fills more than half of the vehicle it was sized for, so one trip carries one
piece); all deliveries together make at most ``max_jobs`` pieces (the engines' matrices grow as
the square of the pieces, see :func:`max_jobs_for_memory`), the highest priorities first.
What a cap cut is reported (:attr:`PreparedJobs.cut`): the part not planned, the cap, and — when
a vehicle's capacity is implausibly small — a hint that tonnes may have been typed as kg.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from dispatch.results import Reason
from dispatch.routing.model import (
    KG_UNIT,
    M3_UNIT,
    RoutingProblem,
    RoutingVehicle,
    amount_int,
    fits,
)

#: Most pieces one delivery is cut into (the fleet's trips may bound it lower).
MAX_PIECES_PER_DELIVERY = 60
#: Memory the engines' job × job matrices may take (bytes), see :func:`max_jobs_for_memory`.
MATRIX_MEMORY_BUDGET = 600 * 2**20
#: Never fewer pieces than this, whatever the estimate says.
MIN_JOBS = 200


def matrix_bytes(n_nodes: int, n_speed_factors: int = 1) -> int:
    """Estimated peak bytes of the engines' node × node matrices for ``n_nodes`` nodes.

    Per node pair: int64 duration per speed factor and distance (8 bytes each), the no-road
    mask and temporaries while they are built (≈ 24 bytes), and a pickled copy of the payload
    sent to the OR-Tools child (the same again).
    """
    per_pair = 8 * (n_speed_factors + 1) + 24
    return 2 * n_nodes * n_nodes * per_pair


def max_jobs_for_memory(problem: RoutingProblem, budget_bytes: int = MATRIX_MEMORY_BUDGET) -> int:
    """Most pieces whose matrices (pieces + depots + reload nodes) fit ``budget_bytes``."""
    speeds = len({v.speed_factor for v in problem.vehicles}) or 1
    fixed = len(problem.depots) + sum(max(0, v.max_trips - 1) for v in problem.vehicles)
    n = int(math.isqrt(max(1, budget_bytes // (2 * (8 * (speeds + 1) + 24)))))
    return max(MIN_JOBS, n - fixed)


@dataclass(frozen=True, slots=True)
class Job:
    """One piece of a delivery (the engines' unit of work)."""

    index: int
    delivery: int  # index into problem.deliveries
    piece: int
    pieces: int
    site: int
    depot: int
    weight_kg: float
    volume_m3: float
    w_int: int
    v_int: int
    service_s: int
    earliest_s: int
    deadline_s: int  # horizon when none
    priority: float  # delivery priority / pieces


def split_quantities(loads: Mapping[str, float], k: int, piece: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for mat, q in loads.items():
        if float(q).is_integer():
            base, rem = divmod(int(q), k)
            out[mat] = float(base + (1 if piece < rem else 0))
        else:
            out[mat] = q / k
    return out


def pieces_needed(v: RoutingVehicle, w: float, vol: float) -> int | None:
    """Fewest equal pieces of (w, vol) that fit ``v``; None when a dimension has no room."""
    k = 1
    for amount, cap in ((w, v.capacity_kg), (vol, v.capacity_m3)):
        if amount <= 0:
            continue
        if cap <= 0:
            return None
        k = max(k, math.ceil(amount / cap - 1e-9))
    while not fits(v, w / k, vol / k):  # integer rounding at the edge
        k += 1
    return k


@dataclass(frozen=True, slots=True)
class Cut:
    """Pieces of a delivery a cap left out: ``kept`` of ``pieces`` planned (``kept`` may be 0)."""

    delivery: int
    kept: int
    pieces: int
    message: str


@dataclass
class PreparedJobs:
    jobs: list[Job]
    unserved: list[tuple[int, Reason, str]]  # (delivery index, reason, message)
    horizon: int
    cut: list[Cut] = field(default_factory=list)


def _small_vehicles(fleet: list[RoutingVehicle]) -> str:
    """'：车辆 VH-003 载重 5 kg，是否应为 5 吨？' for implausibly small vehicles, else ''."""
    odd = [v for v in fleet if 0 < v.capacity_kg < SMALL_VEHICLE_KG]
    if not odd:
        return ""
    v = odd[0]
    more = f" 等 {len(odd)} 辆" if len(odd) > 1 else ""
    return f"；车辆 {v.id}{more} 载重 {v.capacity_kg:g} kg：是否应为 {v.capacity_kg:g} 吨？"


#: A vehicle carrying less than this (kg) is probably a capacity typed in tonnes.
SMALL_VEHICLE_KG = 100.0


def prepare_jobs(
    problem: RoutingProblem,
    *,
    allow_split: bool = True,
    max_pieces: int = MAX_PIECES_PER_DELIVERY,
    max_jobs: int | None = None,
) -> PreparedJobs:
    """Cut deliveries into vehicle-sized pieces and screen out those that cannot be made.

    At most ``max_pieces`` pieces per delivery (and no more than its depot's fleet has trips)
    and ``max_jobs`` pieces in all (default: what :func:`max_jobs_for_memory` allows); pieces
    left out are listed in :attr:`PreparedJobs.cut`, never silently dropped.
    """
    if max_jobs is None:
        max_jobs = max_jobs_for_memory(problem)
    horizon = max((v.max_duration_s for v in problem.vehicles), default=0)
    planned: list[tuple[int, int, int]] = []  # (delivery, pieces needed, pieces allowed)
    unserved: list[tuple[int, Reason, str]] = []
    notes: dict[int, str] = {}
    by_depot: dict[int, list[RoutingVehicle]] = {}
    for v in problem.vehicles:
        by_depot.setdefault(v.depot, []).append(v)
    for di, d in enumerate(problem.deliveries):
        site_name = problem.locations[d.site]
        depot_name = problem.depots[d.pickup_depot]
        fleet = by_depot.get(d.pickup_depot, [])
        if not fleet:
            unserved.append(
                (di, Reason.NO_VEHICLE, f"{depot_name} 无车辆，无法向 {site_name} 配送 {d.id}")
            )
            continue
        if not (
            problem.is_reachable(d.pickup_depot, d.site)
            and problem.is_reachable(d.site, d.pickup_depot)
        ):
            unserved.append(
                (di, Reason.UNREACHABLE, f"{site_name} 不可达：{depot_name} 与该点之间道路中断")
            )
            continue
        if any(fits(v, d.weight_kg, d.volume_m3) for v in fleet):
            k = 1
        else:
            needs = [n for v in fleet if (n := pieces_needed(v, d.weight_kg, d.volume_m3))]
            if not needs or not allow_split:
                unserved.append(
                    (
                        di,
                        Reason.OVER_CAPACITY,
                        f"{d.id} 货物 {d.weight_kg:g} kg / {d.volume_m3:g} m³ 超出 {depot_name} "
                        f"所有车辆的载重或容积" + ("" if needs else "（车辆无此容量）"),
                    )
                )
                continue
            k = min(needs)
        trips = sum(v.max_trips for v in fleet if fits(v, d.weight_kg / k, d.volume_m3 / k))
        allowed = min(k, max(1, int(max_pieces)), max(1, trips))
        if allowed < k:
            notes[di] = (
                f"每项配送最多分 {min(int(max_pieces), trips)} 车次"
                f"（{depot_name} 车辆共 {trips} 趟）" + _small_vehicles(fleet)
            )
        # Deadline impossible even directly, or the round trip exceeds every shift?
        feasible_vehicle = False
        for v in fleet:
            if not fits(v, d.weight_kg / k, d.volume_m3 / k):
                continue
            go = problem.travel_s(v, d.pickup_depot, d.site)
            back = problem.travel_s(v, d.site, d.pickup_depot)
            start = max(v.ready_s + problem.loading_s + go, d.earliest_s)
            if d.deadline_s is not None and start > d.deadline_s:
                continue
            if start + d.service_s + back > v.max_duration_s:
                continue
            feasible_vehicle = True
            break
        if not feasible_vehicle:
            unserved.append(
                (
                    di,
                    Reason.TOO_LATE,
                    f"{d.id} 即使直达也无法按时送达 {site_name}"
                    + (f"（时限 {d.deadline_s // 60} 分钟）" if d.deadline_s is not None else "")
                    + "或超出车辆最长工作时间",
                )
            )
            continue
        planned.append((di, k, allowed))
    # all pieces together within max_jobs: highest priority first, one piece each before more
    budget = max(0, int(max_jobs))
    grant = {di: 0 for di, _, _ in planned}
    order = sorted(planned, key=lambda t: -problem.deliveries[t[0]].priority)
    for di, _, _allowed in order:
        if budget > 0:
            grant[di] = 1
            budget -= 1
    for di, _, allowed in order:
        extra = min(allowed - grant[di], budget)
        if grant[di] and extra > 0:
            grant[di] += extra
            budget -= extra
    jobs: list[Job] = []
    cut: list[Cut] = []
    for di, k, allowed in planned:
        d = problem.deliveries[di]
        kept = grant[di]
        if kept < k:
            why = notes.get(di, "")
            if kept < allowed:
                why = (
                    why + "；" if why else ""
                ) + f"全部配送合计最多 {int(max_jobs)} 车次（内存上限）"
            left_kg = d.weight_kg * (k - kept) / k
            cut.append(
                Cut(
                    di,
                    kept,
                    k,
                    f"{d.id} 需 {k} 车次，只安排 {kept} 车次，其余 {left_kg:g} kg 未安排：{why}",
                )
            )
        for p in range(kept):
            jobs.append(
                Job(
                    index=len(jobs),
                    delivery=di,
                    piece=p,
                    pieces=k,
                    site=d.site,
                    depot=d.pickup_depot,
                    weight_kg=d.weight_kg / k,
                    volume_m3=d.volume_m3 / k,
                    w_int=amount_int(d.weight_kg / k, KG_UNIT),
                    v_int=amount_int(d.volume_m3 / k, M3_UNIT),
                    service_s=int(d.service_s),
                    earliest_s=int(d.earliest_s),
                    deadline_s=int(d.deadline_s) if d.deadline_s is not None else horizon,
                    priority=d.priority / k,
                )
            )
    return PreparedJobs(jobs=jobs, unserved=unserved, horizon=horizon, cut=cut)
