"""Deliveries cut into vehicle-sized pieces (*jobs*, the engines' unit of work) and screened.

:func:`prepare_jobs` splits a delivery that fits no vehicle of its pickup depot into equal
pieces (see "Split delivery" in :mod:`dispatch.routing`) and sets aside, with a Chinese reason,
the deliveries that cannot be made at all (no vehicle, no road, too large, too late even
directly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from dispatch.results import Reason
from dispatch.routing.model import (
    KG_UNIT,
    M3_UNIT,
    RoutingProblem,
    RoutingVehicle,
    amount_int,
    fits,
)


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


@dataclass
class PreparedJobs:
    jobs: list[Job]
    unserved: list[tuple[int, Reason, str]]  # (delivery index, reason, message)
    horizon: int


def prepare_jobs(problem: RoutingProblem, *, allow_split: bool = True) -> PreparedJobs:
    """Cut deliveries into vehicle-sized pieces and screen out those that cannot be made."""
    horizon = max((v.max_duration_s for v in problem.vehicles), default=0)
    jobs: list[Job] = []
    unserved: list[tuple[int, Reason, str]] = []
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
        # Deadline impossible even directly, or the round trip exceeds every shift?
        feasible_vehicle = False
        for v in fleet:
            if not fits(v, d.weight_kg / k, d.volume_m3 / k):
                continue
            go = problem.travel_s(v, d.pickup_depot, d.site)
            back = problem.travel_s(v, d.site, d.pickup_depot)
            start = max(problem.loading_s + go, d.earliest_s)
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
        for p in range(k):
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
    return PreparedJobs(jobs=jobs, unserved=unserved, horizon=horizon)
