"""Problem objects for the dispatch solvers, and builders from a :class:`gis.model.Scenario`.

A problem is a frozen dataclass of ids, small tuples and numpy arrays (integer seconds); it knows
nothing of files, road graphs or widgets. The travel-time matrices are computed by the caller
(normally with ``gis.matrix.TravelTimeEngine.matrix_lonlat``) and passed in, either as an int
array or as any object with ``seconds`` and ``reachable`` attributes (a ``TravelMatrix``).

Unreachable pairs
    A pair is unreachable when the ``reachable`` mask says so, or — when no mask is given — when
    its seconds are negative or ≥ :data:`UNREACHABLE` (``np.iinfo(np.int32).max``, the sentinel
    used by ``gis.matrix``).

Site priority (materials and teams)
    ``priority = LEVEL_WEIGHT[level] × urgency(deadline)`` with ``LEVEL_WEIGHT = {I: 8, II: 4,
    III: 2, IV: 1}`` (each level twice as important as the next) and ``urgency = 3`` when the
    deadline is ≤ 60 min (golden hour), ``2`` when ≤ 180 min, ``1`` otherwise (or no deadline).
    Weights are integers in 1..24, see :func:`site_priority`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gis.model import (
    Incident,
    Location,
    Scenario,
    Shelter,
    TeamStatus,
)
from gis.units import UNREACHABLE

#: Deadline value meaning "no deadline".
NO_DEADLINE: int = int(np.iinfo(np.int64).max)

LEVEL_WEIGHT: Mapping[int, int] = {1: 8, 2: 4, 3: 2, 4: 1}


def site_priority(level: int, deadline_s: int | float | None) -> int:
    """Integer priority weight of a site from its response level and deadline (see module doc)."""
    if level not in LEVEL_WEIGHT:
        raise ValueError(f"site_priority: level {level!r} is not a response level 1..4")
    if deadline_s is None or deadline_s >= NO_DEADLINE:
        urgency = 1
    elif deadline_s <= 3600:
        urgency = 3
    elif deadline_s <= 3 * 3600:
        urgency = 2
    else:
        urgency = 1
    return LEVEL_WEIGHT[level] * urgency


# --------------------------------------------------------------------------------------------
# Matrix helpers
# --------------------------------------------------------------------------------------------


def split_matrix(
    seconds: Any, shape: tuple[int, int], what: str, reachable: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(seconds int64, reachable bool)`` of ``shape`` from an array or a TravelMatrix.

    Raises ValueError naming ``what`` when the shapes do not match.
    """
    if reachable is None and hasattr(seconds, "reachable") and hasattr(seconds, "seconds"):
        reachable = seconds.reachable
    if hasattr(seconds, "seconds"):
        seconds = seconds.seconds
    sec = np.asarray(seconds)
    if sec.ndim != 2 or sec.shape != tuple(shape):
        raise ValueError(f"{what}: travel-time matrix has shape {sec.shape}, expected {shape}")
    if sec.dtype.kind == "f":
        finite = np.isfinite(sec)
        sec_i = np.where(finite, np.rint(np.where(finite, sec, 0)), UNREACHABLE).astype(np.int64)
    elif sec.dtype.kind in "iu":
        sec_i = sec.astype(np.int64)
    else:
        raise ValueError(f"{what}: travel-time matrix must hold numbers, got dtype {sec.dtype}")
    ok = (sec_i >= 0) & (sec_i < UNREACHABLE)
    if reachable is not None:
        mask = np.asarray(reachable, dtype=bool)
        if mask.shape != sec_i.shape:
            raise ValueError(
                f"{what}: reachable mask has shape {mask.shape}, expected {sec_i.shape}"
            )
        ok &= mask
    sec_i = np.where(ok, sec_i, UNREACHABLE).astype(np.int64)
    sec_i.setflags(write=False)
    ok.setflags(write=False)
    return sec_i, ok


def _frozen(a: Any, dtype: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    arr = np.array(a, dtype=dtype, copy=True)
    if arr.shape != shape:
        raise ValueError(f"{what} has shape {arr.shape}, expected {shape}")
    arr.setflags(write=False)
    return arr


def _deadline_s(minutes: float | None) -> int:
    if minutes is None or not np.isfinite(minutes):
        return NO_DEADLINE
    return int(round(minutes * 60.0))


# --------------------------------------------------------------------------------------------
# Allocation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllocationSite:
    """A place that needs materials: an incident, or a shelter short of supplies."""

    id: str
    needs: Mapping[str, float]
    level: int = 3
    deadline_s: int = NO_DEADLINE
    name: str = ""
    location: Location | None = None
    kind: str = "incident"  # or "shelter"

    @classmethod
    def from_incident(cls, incident: Incident) -> AllocationSite:
        return cls(
            id=incident.id,
            needs=dict(incident.needs),
            level=incident.level,
            deadline_s=_deadline_s(incident.deadline_min),
            name=incident.name,
            location=incident.location,
            kind="incident",
        )


@dataclass(frozen=True, eq=False)
class AllocationProblem:
    """Stockpiles × sites × materials.

    Arrays: ``available`` [S, M] (stock − safety stock, may always leave), ``safety`` [S, M]
    (safety stock, may leave only for sites whose level the options release), ``demand`` [T, M],
    ``seconds`` [S, T] (int, :data:`UNREACHABLE` where ``reachable`` is False), ``deadline_s`` [T]
    (:data:`NO_DEADLINE` = none), ``level`` [T] (1..4), ``priority`` [T] (int ≥ 1, see
    :func:`site_priority`), ``divisible`` [M].
    """

    stockpile_ids: tuple[str, ...]
    site_ids: tuple[str, ...]
    materials: tuple[str, ...]
    available: np.ndarray
    demand: np.ndarray
    seconds: np.ndarray
    safety: np.ndarray | None = None
    reachable: np.ndarray | None = None
    deadline_s: np.ndarray | None = None
    level: np.ndarray | None = None
    priority: np.ndarray | None = None
    divisible: np.ndarray | None = None
    material_names: tuple[str, ...] = ()
    material_units: tuple[str, ...] = ()
    site_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        s, t, m = len(self.stockpile_ids), len(self.site_ids), len(self.materials)
        for name, ids in (
            ("stockpile_ids", self.stockpile_ids),
            ("site_ids", self.site_ids),
            ("materials", self.materials),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"AllocationProblem.{name} has duplicates")
        set_ = object.__setattr__
        set_(self, "stockpile_ids", tuple(self.stockpile_ids))
        set_(self, "site_ids", tuple(self.site_ids))
        set_(self, "materials", tuple(self.materials))
        avail = _frozen(self.available, np.float64, (s, m), "AllocationProblem.available")
        dem = _frozen(self.demand, np.float64, (t, m), "AllocationProblem.demand")
        saf = (
            np.zeros((s, m))
            if self.safety is None
            else _frozen(self.safety, np.float64, (s, m), "AllocationProblem.safety")
        )
        for name, arr in (("available", avail), ("demand", dem), ("safety", saf)):
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"AllocationProblem.{name} must be finite and ≥ 0")
        sec, ok = split_matrix(self.seconds, (s, t), "AllocationProblem.seconds", self.reachable)
        dl = (
            np.full(t, NO_DEADLINE, dtype=np.int64)
            if self.deadline_s is None
            else _frozen(self.deadline_s, np.int64, (t,), "AllocationProblem.deadline_s")
        )
        lvl = (
            np.full(t, 3, dtype=np.int64)
            if self.level is None
            else _frozen(self.level, np.int64, (t,), "AllocationProblem.level")
        )
        if np.any((lvl < 1) | (lvl > 4)):
            raise ValueError("AllocationProblem.level must be in 1..4")
        if self.priority is None:
            pri = np.array([site_priority(int(a), int(b)) for a, b in zip(lvl, dl)], np.int64)
        else:
            pri = _frozen(self.priority, np.int64, (t,), "AllocationProblem.priority")
        if np.any(pri < 1):
            raise ValueError("AllocationProblem.priority must be integers ≥ 1")
        div = (
            np.zeros(m, dtype=bool)
            if self.divisible is None
            else _frozen(self.divisible, bool, (m,), "AllocationProblem.divisible")
        )
        names = tuple(self.material_names) or tuple(self.materials)
        units = tuple(self.material_units) or ("",) * m
        snames = tuple(self.site_names) or tuple(self.site_ids)
        if len(names) != m or len(units) != m or len(snames) != t:
            raise ValueError("AllocationProblem: material_names/material_units/site_names length")
        for arr in (saf, dl, lvl, pri, div):
            arr.setflags(write=False)
        for k, v in (
            ("available", avail),
            ("demand", dem),
            ("safety", saf),
            ("seconds", sec),
            ("reachable", ok),
            ("deadline_s", dl),
            ("level", lvl),
            ("priority", pri),
            ("divisible", div),
            ("material_names", names),
            ("material_units", units),
            ("site_names", snames),
        ):
            set_(self, k, v)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(stockpiles, sites, materials)."""
        return (len(self.stockpile_ids), len(self.site_ids), len(self.materials))


def build_allocation_problem(
    scenario: Scenario,
    seconds: Any,
    *,
    sites: Sequence[AllocationSite] | None = None,
    extra_sites: Iterable[AllocationSite] = (),
    reachable: Any = None,
    materials: Sequence[str] | None = None,
) -> AllocationProblem:
    """Allocation problem of ``scenario``'s stockpiles towards ``sites``.

    Parameters
    ----------
    scenario
        Source of stockpiles (inventory, safety stock) and the material catalogue.
    seconds
        Travel seconds stockpiles × sites (int array or TravelMatrix), in the order of
        ``scenario.stockpiles`` and of the sites (``sites`` then ``extra_sites``).
    sites
        Default: the open incidents that have needs, in scenario order.
    extra_sites
        Appended to ``sites``, e.g. shelters from
        :func:`dispatch.evacuation.shelter_supply_deficits`.
    reachable
        Optional bool mask; otherwise derived from the :data:`UNREACHABLE` sentinel.
    materials
        Material codes to plan (default: every code that some site needs).
    """
    if sites is None:
        sites = [AllocationSite.from_incident(i) for i in scenario.open_incidents() if i.needs]
    all_sites = list(sites) + list(extra_sites)
    catalogue = scenario.material_index
    if materials is None:
        seen: dict[str, None] = {}
        for site in all_sites:
            for code, q in site.needs.items():
                if q > 0:
                    seen.setdefault(code, None)
        materials = list(seen)
    codes = tuple(materials)
    sp = scenario.stockpiles
    avail = np.zeros((len(sp), len(codes)))
    safety = np.zeros((len(sp), len(codes)))
    for i, s in enumerate(sp):
        for j, code in enumerate(codes):
            stock = float(s.inventory.get(code, 0))
            free = float(s.available(code))
            avail[i, j] = free
            safety[i, j] = stock - free
    demand = np.array(
        [[float(site.needs.get(code, 0)) for code in codes] for site in all_sites]
    ).reshape(len(all_sites), len(codes))
    names, units, div = [], [], []
    for code in codes:
        mat = catalogue.get(code)
        names.append(mat.name_zh if mat else code)
        units.append(mat.unit if mat else "")
        div.append(bool(mat.divisible) if mat else False)
    return AllocationProblem(
        stockpile_ids=tuple(s.id for s in sp),
        site_ids=tuple(s.id for s in all_sites),
        materials=codes,
        available=avail,
        demand=demand,
        seconds=seconds,
        safety=safety,
        reachable=reachable,
        deadline_s=np.array([s.deadline_s for s in all_sites], dtype=np.int64),
        level=np.array([s.level for s in all_sites], dtype=np.int64),
        divisible=np.array(div, dtype=bool),
        material_names=tuple(names),
        material_units=tuple(units),
        site_names=tuple(s.name or s.id for s in all_sites),
    )


# --------------------------------------------------------------------------------------------
# Team assignment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AssignmentProblem:
    """Teams × incidents.

    ``eta_s`` [K, N] int seconds from each team's base (:data:`UNREACHABLE` where
    ``reachable`` is False); ``requirements[n]`` maps skill → headcount; ``pins`` and
    ``forbids`` are (team_id, incident_id) pairs decided by the operator.
    """

    team_ids: tuple[str, ...]
    team_skills: tuple[tuple[str, ...], ...]
    headcount: np.ndarray
    incident_ids: tuple[str, ...]
    requirements: tuple[Mapping[str, int], ...]
    eta_s: np.ndarray
    team_status: tuple[str, ...] = ()
    reachable: np.ndarray | None = None
    deadline_s: np.ndarray | None = None
    level: np.ndarray | None = None
    priority: np.ndarray | None = None
    pins: tuple[tuple[str, str], ...] = ()
    forbids: tuple[tuple[str, str], ...] = ()
    team_names: tuple[str, ...] = ()
    incident_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        k, n = len(self.team_ids), len(self.incident_ids)
        set_ = object.__setattr__
        if len(set(self.team_ids)) != k or len(set(self.incident_ids)) != n:
            raise ValueError("AssignmentProblem: duplicate team or incident ids")
        skills = tuple(tuple(s) for s in self.team_skills)
        if len(skills) != k:
            raise ValueError(f"AssignmentProblem.team_skills has {len(skills)} rows, expected {k}")
        reqs = tuple({str(a): int(b) for a, b in r.items()} for r in self.requirements)
        if len(reqs) != n:
            raise ValueError(f"AssignmentProblem.requirements has {len(reqs)} rows, expected {n}")
        if any(v < 0 for r in reqs for v in r.values()):
            raise ValueError("AssignmentProblem.requirements must be ≥ 0 headcounts")
        hc = _frozen(self.headcount, np.int64, (k,), "AssignmentProblem.headcount")
        if np.any(hc < 0):
            raise ValueError("AssignmentProblem.headcount must be ≥ 0")
        sec, ok = split_matrix(self.eta_s, (k, n), "AssignmentProblem.eta_s", self.reachable)
        status = tuple(self.team_status) or (TeamStatus.STANDBY.value,) * k
        if len(status) != k:
            raise ValueError("AssignmentProblem.team_status length differs from team_ids")
        dl = (
            np.full(n, NO_DEADLINE, dtype=np.int64)
            if self.deadline_s is None
            else _frozen(self.deadline_s, np.int64, (n,), "AssignmentProblem.deadline_s")
        )
        lvl = (
            np.full(n, 3, dtype=np.int64)
            if self.level is None
            else _frozen(self.level, np.int64, (n,), "AssignmentProblem.level")
        )
        if self.priority is None:
            pri = np.array([site_priority(int(a), int(b)) for a, b in zip(lvl, dl)], np.int64)
        else:
            pri = _frozen(self.priority, np.int64, (n,), "AssignmentProblem.priority")
        if np.any(pri < 1):
            raise ValueError("AssignmentProblem.priority must be integers ≥ 1")
        for arr in (dl, lvl, pri):
            arr.setflags(write=False)
        tnames = tuple(self.team_names) or tuple(self.team_ids)
        inames = tuple(self.incident_names) or tuple(self.incident_ids)
        for k_, v in (
            ("team_skills", skills),
            ("requirements", reqs),
            ("headcount", hc),
            ("eta_s", sec),
            ("reachable", ok),
            ("team_status", tuple(str(s) for s in status)),
            ("deadline_s", dl),
            ("level", lvl),
            ("priority", pri),
            ("pins", tuple((str(a), str(b)) for a, b in self.pins)),
            ("forbids", tuple((str(a), str(b)) for a, b in self.forbids)),
            ("team_names", tnames),
            ("incident_names", inames),
        ):
            set_(self, k_, v)


def build_assignment_problem(
    scenario: Scenario,
    seconds: Any,
    *,
    incidents: Sequence[Incident] | None = None,
    reachable: Any = None,
    pins: Iterable[tuple[str, str]] = (),
    forbids: Iterable[tuple[str, str]] = (),
) -> AssignmentProblem:
    """Assignment problem of ``scenario.teams`` (all statuses; the solver filters) to incidents.

    ``seconds`` is teams × incidents (team base → incident), in scenario order of the teams and
    of ``incidents`` (default: the open incidents that require skills).
    """
    if incidents is None:
        incidents = [i for i in scenario.open_incidents() if i.required_skills]
    teams = scenario.teams
    return AssignmentProblem(
        team_ids=tuple(t.id for t in teams),
        team_skills=tuple(t.skills for t in teams),
        headcount=np.array([t.headcount for t in teams], dtype=np.int64),
        team_status=tuple(str(t.status.value) for t in teams),
        incident_ids=tuple(i.id for i in incidents),
        requirements=tuple(dict(i.required_skills) for i in incidents),
        eta_s=seconds,
        reachable=reachable,
        deadline_s=np.array([_deadline_s(i.deadline_min) for i in incidents], dtype=np.int64),
        level=np.array([i.level for i in incidents], dtype=np.int64),
        pins=tuple(pins),
        forbids=tuple(forbids),
        team_names=tuple(t.name for t in teams),
        incident_names=tuple(i.name for i in incidents),
    )


# --------------------------------------------------------------------------------------------
# Evacuation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvacuationGroup:
    """People to move together: an incident zone or a village."""

    id: str
    people: int
    location: Location | None = None
    name: str = ""
    priority: int = 1


@dataclass(frozen=True, eq=False)
class EvacuationProblem:
    """Groups × shelters: ``people`` [G], ``capacity`` [H] (free places), ``seconds`` [G, H]."""

    group_ids: tuple[str, ...]
    people: np.ndarray
    shelter_ids: tuple[str, ...]
    capacity: np.ndarray
    seconds: np.ndarray
    reachable: np.ndarray | None = None
    priority: np.ndarray | None = None
    group_names: tuple[str, ...] = ()
    shelter_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        g, h = len(self.group_ids), len(self.shelter_ids)
        if len(set(self.group_ids)) != g or len(set(self.shelter_ids)) != h:
            raise ValueError("EvacuationProblem: duplicate group or shelter ids")
        ppl = _frozen(self.people, np.int64, (g,), "EvacuationProblem.people")
        cap = _frozen(self.capacity, np.int64, (h,), "EvacuationProblem.capacity")
        if np.any(ppl < 0) or np.any(cap < 0):
            raise ValueError("EvacuationProblem: people and capacity must be ≥ 0")
        sec, ok = split_matrix(self.seconds, (g, h), "EvacuationProblem.seconds", self.reachable)
        pri = (
            np.ones(g, dtype=np.int64)
            if self.priority is None
            else _frozen(self.priority, np.int64, (g,), "EvacuationProblem.priority")
        )
        if np.any(pri < 1):
            raise ValueError("EvacuationProblem.priority must be integers ≥ 1")
        pri.setflags(write=False)
        gn = tuple(self.group_names) or tuple(self.group_ids)
        sn = tuple(self.shelter_names) or tuple(self.shelter_ids)
        set_ = object.__setattr__
        for k_, v in (
            ("group_ids", tuple(self.group_ids)),
            ("shelter_ids", tuple(self.shelter_ids)),
            ("people", ppl),
            ("capacity", cap),
            ("seconds", sec),
            ("reachable", ok),
            ("priority", pri),
            ("group_names", gn),
            ("shelter_names", sn),
        ):
            set_(self, k_, v)


def build_evacuation_problem(
    scenario: Scenario,
    seconds: Any,
    *,
    groups: Sequence[EvacuationGroup] | None = None,
    shelters: Sequence[Shelter] | None = None,
    reachable: Any = None,
) -> EvacuationProblem:
    """Evacuation problem: ``groups`` (default: open incidents with affected people, priority
    from their level) → ``shelters`` (default: the scenario's shelters, free capacity).

    ``seconds`` is groups × shelters in the order of ``groups`` and ``shelters``.
    """
    if groups is None:
        groups = [
            EvacuationGroup(
                id=i.id,
                people=i.affected_people,
                location=i.location,
                name=i.name,
                priority=LEVEL_WEIGHT[i.level],
            )
            for i in scenario.open_incidents()
            if i.affected_people > 0
        ]
    if shelters is None:
        shelters = scenario.shelters
    return EvacuationProblem(
        group_ids=tuple(g.id for g in groups),
        people=np.array([g.people for g in groups], dtype=np.int64),
        shelter_ids=tuple(s.id for s in shelters),
        capacity=np.array([max(0, s.free_capacity) for s in shelters], dtype=np.int64),
        seconds=seconds,
        reachable=reachable,
        priority=np.array([g.priority for g in groups], dtype=np.int64),
        group_names=tuple(g.name or g.id for g in groups),
        shelter_names=tuple(s.name for s in shelters),
    )


__all__ = [
    "LEVEL_WEIGHT",
    "NO_DEADLINE",
    "UNREACHABLE",
    "AllocationProblem",
    "AllocationSite",
    "AssignmentProblem",
    "EvacuationGroup",
    "EvacuationProblem",
    "build_allocation_problem",
    "build_assignment_problem",
    "build_evacuation_problem",
    "site_priority",
    "split_matrix",
]
