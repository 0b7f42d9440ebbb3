"""Travel times for the dispatch pipeline: the plan's places, snapped, and their matrices.

:func:`snap_places` snaps every stockpile, team, open incident and shelter to the road network
and builds one :class:`gis.matrix.TravelTimeEngine` with the scenario's closures (imported only
then: it costs ~1.4 s). A place farther than ``max_offroad_m`` from the nearest road is treated
as unreachable (with a note naming it, and :meth:`TravelTimes.explain` naming the cause in the
reasons of the needs not served there). Without a network, times are estimated from
straight-line distance (:func:`crow_matrix`: × :data:`CROW_DETOUR` at :data:`CROW_SPEED_KMH`).
Matrices hold :data:`gis.units.UNREACHABLE` where there is no path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dispatch.records import LegPath, Place, TurnStep
from dispatch.results import Reason, Unserved
from gis.errors import ValidationError
from gis.model import Scenario
from gis.placement import OUTSIDE_COUNTY_TEXT, far_from_road_text, outside_county
from gis.roads.classes import MAX_OFFROAD_M  # default DispatchOptions.max_offroad_m
from gis.units import UNREACHABLE

CROW_DETOUR = 1.3
CROW_SPEED_KMH = 30.0


@dataclass
class TravelTimes:
    """Snapped nodes of every place and a way to get matrices and paths."""

    places: dict[str, Place]
    node: dict[str, int]
    engine: Any  # TravelTimeEngine or None
    notes: list[str]
    far: frozenset[str] = frozenset()  # places too far from any road: unreachable
    far_m: Mapping[str, float] = field(default_factory=dict)  # their distance to the road
    outside: frozenset[str] = frozenset()  # incidents outside the county outline

    def explain(self, unserved: Sequence[Unserved]) -> list[Unserved]:
        """``unserved`` with the reason of needs at an incident too far from any road naming
        that cause (事发点距道路 X km（超出吸附距离）/ 事发点在县界外) instead of a road cut."""
        out = []
        for u in unserved:
            d = self.far_m.get(u.site_id)
            place = self.places.get(u.site_id)
            if d is None or u.reason != Reason.UNREACHABLE or place is None:
                out.append(u)
                continue
            if place.kind != "incident":  # a shelter's supply: not an incident site
                out.append(u)
                continue
            cause = far_from_road_text(d)
            if u.site_id in self.outside:
                cause = f"{OUTSIDE_COUNTY_TEXT}，{cause}"
            head = u.message_zh.split("：", 1)[0]
            out.append(dataclasses.replace(u, message_zh=f"{head}：不可达，{cause}"))
        return out

    def matrix(
        self, src: Sequence[str], tgt: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(seconds int64, metres int64, reachable bool) between place ids."""
        if not src or not tgt:
            z = np.zeros((len(src), len(tgt)), dtype=np.int64)
            return z, z.copy(), np.zeros((len(src), len(tgt)), dtype=bool)
        if self.engine is None:
            return crow_matrix([self.places[s] for s in src], [self.places[t] for t in tgt])
        m = self.engine.matrix(
            np.asarray([self.node[s] for s in src], dtype=np.int64),
            np.asarray([self.node[t] for t in tgt], dtype=np.int64),
        )
        reach = np.asarray(m.reachable, dtype=bool)
        sec = np.asarray(m.seconds, dtype=np.int64)
        met = np.asarray(m.metres, dtype=np.int64)
        if self.far:
            reach = (
                reach
                & np.asarray([s not in self.far for s in src], dtype=bool)[:, None]
                & np.asarray([t not in self.far for t in tgt], dtype=bool)[None, :]
            )
        sec = np.where(reach, sec, UNREACHABLE)
        met = np.where(reach, met, UNREACHABLE)
        return sec, met, reach

    def prepare(self, stop: Any = None, progress: Any = None) -> bool:
        """Preprocess the road network now (progress, cancel) when the matrices between these
        places will be answered through its contraction hierarchy (a large network); False
        when cancelled (the engine then stays on csgraph, so nothing later starts it again)."""
        from gis.matrix import MatrixCancelled
        from gis.matrix.cch import CCHError

        n = len(self.node)
        if self.engine is None:
            return True
        if self.engine.backend_for(metres=True, roots=n, pairs=n * n) != "cch":
            return True
        try:
            self.engine.prepare(stop=stop, progress=progress)
        except MatrixCancelled:
            self.engine.fallback_note = "道路网络预处理已取消"
            return False
        except CCHError as exc:  # routingkit-cch missing or failed: csgraph answers
            self.engine.fallback_note = str(exc)
        return True

    def path(self, a: str, b: str) -> LegPath | None:
        if self.engine is None or a not in self.node or b not in self.node:
            return None
        if a in self.far or b in self.far:
            return None
        p = self.engine.path(int(self.node[a]), int(self.node[b]))
        if p is None:
            return None
        steps = tuple(
            TurnStep(
                str(s.road) or "未命名道路",
                float(s.distance_m),
                float(s.seconds),
            )
            for s in (p.steps or ())
        )
        geom = p.geometry
        coords = tuple((float(x), float(y)) for x, y, *_ in geom.coords) if geom is not None else ()
        pa, pb = self.places[a], self.places[b]
        # the entity is off the road: join it to its snapped node so the line starts at it
        if coords:
            coords = ((pa.lon, pa.lat), *coords, (pb.lon, pb.lat))
        return LegPath(float(p.seconds), float(p.metres), steps, coords)


def crow_matrix(
    src: Sequence[Place], tgt: Sequence[Place]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lon1 = np.radians([p.lon for p in src])[:, None]
    lat1 = np.radians([p.lat for p in src])[:, None]
    lon2 = np.radians([p.lon for p in tgt])[None, :]
    lat2 = np.radians([p.lat for p in tgt])[None, :]
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    metres = 2 * 6_371_000.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1))) * CROW_DETOUR
    seconds = metres / (CROW_SPEED_KMH / 3.6)
    return (
        np.rint(seconds).astype(np.int64),
        np.rint(metres).astype(np.int64),
        np.ones(metres.shape, dtype=bool),
    )


def scenario_places(scenario: Scenario) -> dict[str, Place]:
    out: dict[str, Place] = {}
    for kind, items in (
        ("stockpile", scenario.stockpiles),
        ("incident", scenario.open_incidents()),
        ("shelter", scenario.shelters),
        ("team", scenario.teams),
    ):
        for e in items:
            if e.id in out:
                raise ValidationError(
                    f"Scenario {scenario.name!r}: id {e.id!r} is used by both a {out[e.id].kind} "
                    f"and a {kind}; dispatch needs ids unique across entity kinds"
                )
            out[e.id] = Place(e.id, e.name, kind, e.location.lon, e.location.lat)
    return out


def snap_places(
    scenario: Scenario, network: Any, max_offroad_m: float = MAX_OFFROAD_M
) -> TravelTimes:
    places = scenario_places(scenario)
    notes: list[str] = []
    if network is None:
        notes.append(
            f"无路网：行程时间按直线距离×{CROW_DETOUR:g}、{CROW_SPEED_KMH:g} 公里/小时估算"
        )
        return TravelTimes(places, {}, None, notes)
    from gis.matrix import TravelTimeEngine

    ids = list(places)
    snap = network.snap(
        np.asarray([places[i].lon for i in ids]), np.asarray([places[i].lat for i in ids])
    )
    node = {pid: int(n) for pid, n in zip(ids, snap.node)}
    far: dict[str, float] = {}
    for pid, d, flagged in zip(ids, snap.distance_m, snap.flagged):
        if not np.isfinite(d) or float(d) > max_offroad_m:
            far[pid] = float(d)
            notes.append(
                f"{places[pid].name}（{pid}）距最近道路 {float(d):.0f} 米，超过 "
                f"{max_offroad_m:.0f} 米，按不可达处理（请核对坐标及坐标系）"
            )
        elif flagged:
            notes.append(f"{places[pid].name}（{pid}）距最近道路 {float(d):.0f} 米")
    engine = TravelTimeEngine(network, scenario.closures)
    outside = frozenset(
        pid for pid in far if outside_county(scenario, places[pid].lon, places[pid].lat)
    )
    return TravelTimes(places, node, engine, notes, frozenset(far), far, outside)


__all__ = [
    "CROW_DETOUR",
    "CROW_SPEED_KMH",
    "MAX_OFFROAD_M",
    "TravelTimes",
    "crow_matrix",
    "scenario_places",
    "snap_places",
]
