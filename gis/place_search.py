"""Search a place by name (Qt-free): townships, villages, facilities and roads of a workspace.

:func:`build_index` collects the named places once (a few thousand for a county);
:meth:`PlaceIndex.search` ranks the names that contain every word of the query: exact name
first, then names starting with the query, then the rest, shorter names before longer ones
(``合江`` finds 合江镇 before 合江长江大桥). Roads are one entry per name (their edges' extent), so
the map can fly to the whole road. Matching ignores case, spaces and full-width forms (NFKC).

Hand-written: a substring scan over a few thousand names takes well under a millisecond, and
no search library handles Chinese names without a tokenizer that would be heavier than this.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gis.model import Scenario

#: Kind key → label shown next to a hit (zh_CN; the GUI translates it).
KIND_LABELS: dict[str, str] = {
    "township": "乡镇",
    "village": "村/社区",
    "shelter": "避难场所",
    "stockpile": "储备库",
    "team": "救援队伍",
    "incident": "突发事件",
    "hazard": "危险源",
    "road": "道路",
}

#: Zoom to fly to per kind (roads fit their extent instead).
KIND_ZOOM: dict[str, int] = {"township": 14, "road": 14}
DEFAULT_ZOOM = 16


@dataclass(frozen=True, slots=True)
class Place:
    """A named place: where to fly to (``bounds`` for extended places such as roads)."""

    name: str
    kind: str
    lon: float
    lat: float
    ref: str = ""  # entity id, township code or road ref
    bounds: tuple[float, float, float, float] | None = None

    @property
    def zoom(self) -> int:
        return KIND_ZOOM.get(self.kind, DEFAULT_ZOOM)


def normalise(text: str) -> str:
    """The matching form of a name: NFKC, case-folded, without spaces."""
    return "".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


@dataclass(frozen=True, slots=True)
class PlaceIndex:
    """Named places with their matching keys (build with :func:`build_index`)."""

    places: tuple[Place, ...]
    keys: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.places)

    def search(self, query: str, limit: int = 20) -> list[Place]:
        """Places whose name (or ref) contains every word of ``query``, best first."""
        words = [normalise(w) for w in str(query).split()]
        words = [w for w in words if w]
        if not words:
            return []
        whole = "".join(words)
        scored = []
        for i, key in enumerate(self.keys):
            if not all(w in key for w in words):
                continue
            name = normalise(self.places[i].name)
            rank = 0 if name == whole else 1 if name.startswith(whole) else 2
            scored.append((rank, len(name), i))
        scored.sort()
        return [self.places[i] for _, _, i in scored[:limit]]


def _entity_places(scenario: Scenario) -> Iterable[Place]:
    for t in scenario.townships:
        yield Place(t.name, "township", t.location.lon, t.location.lat, t.code)
    for d in scenario.demand_points:
        yield Place(d.name, "village", d.location.lon, d.location.lat, d.id)
    for kind, items in (
        ("shelter", scenario.shelters),
        ("stockpile", scenario.stockpiles),
        ("team", scenario.teams),
        ("incident", scenario.incidents),
    ):
        for e in items:
            yield Place(e.name, kind, e.location.lon, e.location.lat, e.id)
    for h in scenario.hazards:
        c = h.geometry.representative_point()
        yield Place(h.name, "hazard", c.x, c.y, h.id)


def road_places(road_edges: Any | None) -> list[Place]:
    """One place per road name (and per ref without a name), over its edges' extent."""
    if road_edges is None or not len(road_edges) or "name" not in road_edges.columns:
        return []
    import numpy as np
    import shapely

    frame = road_edges
    names = frame["name"].fillna("").astype(str).str.strip()
    refs = (
        frame["ref"].fillna("").astype(str).str.strip()
        if "ref" in frame.columns
        else names.where(names == "", "")
    )
    label = names.where(names != "", refs)
    keep = (label != "").to_numpy()
    if not keep.any():
        return []
    b = shapely.bounds(np.asarray(frame.geometry.values, dtype=object)[keep])
    labels = label.to_numpy()[keep]
    ref_of = refs.to_numpy()[keep]
    out: dict[str, list[float]] = {}
    ref_by: dict[str, str] = {}
    for lab, ref, (x0, y0, x1, y1) in zip(labels, ref_of, b):
        if np.isnan(x0):
            continue
        cur = out.get(lab)
        if cur is None:
            out[lab] = [x0, y0, x1, y1]
            ref_by[lab] = ref
        else:
            cur[0], cur[1] = min(cur[0], x0), min(cur[1], y0)
            cur[2], cur[3] = max(cur[2], x1), max(cur[3], y1)
    return [
        Place(
            lab,
            "road",
            (bx[0] + bx[2]) / 2,
            (bx[1] + bx[3]) / 2,
            ref_by[lab] if ref_by[lab] != lab else "",
            (float(bx[0]), float(bx[1]), float(bx[2]), float(bx[3])),
        )
        for lab, bx in out.items()
    ]


def build_index(
    scenario: Scenario, road_edges: Any | None = None, *, roads: Sequence[Place] | None = None
) -> PlaceIndex:
    """The named places of a scenario and its road edges (GeoDataFrame, EPSG:4326), or of
    ``roads`` already computed by :func:`road_places` (the roads change less often: ~0.1 s)."""
    road_list = road_places(road_edges) if roads is None else roads
    places = [p for p in (*_entity_places(scenario), *road_list) if p.name]
    keys = tuple(normalise(f"{p.name} {p.ref}") for p in places)
    return PlaceIndex(tuple(places), keys)
