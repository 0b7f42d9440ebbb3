"""Drive-time areas (isochrones) along the roads, from travel times at the road nodes.

Given the time (seconds) from the nearest facility to every node of a :class:`RoadNetwork` — or
from every node to the nearest facility, for trips *to* a facility — the area reached within
``T`` minutes is the part of each road that can be driven within ``T`` (whole edges, and the
reached fraction of an edge whose far end is beyond ``T``, cut along the edge's own geometry
by the remaining time), buffered by ``buffer_m`` metres on each side and unioned. It follows
the roads, so a river without a bridge or a closed road stays outside, unlike a circle.

How
---
* Per arc, the remaining time at its entry node over its travel time is the reached fraction
  (outbound: from the arc's tail; inbound: towards its head). Arcs of a closed road have an
  infinite time and reach nothing beyond their nodes. Fractions of the two arcs of an edge are
  combined per edge end (numpy ``maximum.at``), so a two-way edge reached from both ends is
  whole when the two fractions meet.
* Roads are cut and buffered in the network's metric CRS (:attr:`RoadNetwork.crs`, the local
  UTM zone, through :meth:`RoadNetwork.projected_edges`): chains merged, simplified by
  ``buffer_m / 10``, buffered with shapely 2's vectorised ``buffer``; the buffers are taken to
  WGS-84, unioned per band of newly reached roads (``union_all``, GEOS' cascaded union), then
  with the previous area.
* **Nesting by construction**: the polygon of threshold ``T_k`` is the union of the polygon of
  ``T_{k-1}`` and the buffers of the roads newly reached (edges whole at ``T_{k-1}`` are not
  buffered again; every edge partly reached is, with its longer part). So each area contains
  the previous one (the union is done in the output coordinates, so this holds there).

Hand-written on shapely/numpy because no installed library draws network isochrones from a
node time array (osmnx' example draws convex hulls of nodes or buffers whole edges from a
networkx graph, without partial edges or closures, and would need the graph in networkx).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from gis.errors import ValidationError
from gis.roads import RoadNetwork

__all__ = ["Isochrone", "DEFAULT_BUFFER_M", "isochrones", "reached_fractions"]

#: Default half-width of the area drawn around a reached road (metres).
DEFAULT_BUFFER_M = 300.0
#: Segments per quarter circle of the buffers' round ends (2: the ends are octagons; the
#: union costs about half that of the default 8 and the outline moves by < 8 % of the buffer).
QUAD_SEGS = 2


@dataclass(frozen=True, slots=True)
class Isochrone:
    """The area reached within ``minutes``: a (Multi)Polygon in WGS-84, possibly empty.

    ``road_km`` is the length of road reached (whole and partial edges).
    """

    minutes: float
    geometry: BaseGeometry
    road_km: float


def reached_fractions(
    network: RoadNetwork, node_seconds: np.ndarray, limit_s: float, *, inbound: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Per edge, the fraction of its length reached from its start and from its end.

    ``node_seconds`` is the time from the facilities to each node (``inbound``: from each node
    to the facilities), ``inf`` where there is none. A pair whose sum is ≥ 1 means the whole
    edge. Uses the network's current arc times (closures applied).
    """
    t = np.asarray(node_seconds, dtype=np.float64)
    if t.shape != (network.n_nodes,):
        raise ValidationError(
            f"node_seconds must have one time per road node ({network.n_nodes}), got {t.shape}"
        )
    arc_t = np.asarray(network.travel_time_s, dtype=np.float64)
    anchor = network.arc_v if inbound else network.arc_u
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (limit_s - t[anchor]) / arc_t
    frac = np.where(np.isfinite(arc_t) & np.isfinite(t[anchor]), frac, 0.0)
    frac = np.clip(np.nan_to_num(frac, nan=0.0), 0.0, 1.0)
    # the anchor is the edge geometry's start when (outbound, arc along the edge) or
    # (inbound, arc against it)
    reversed_ = np.asarray(network.arc_reversed, dtype=bool)
    at_start = reversed_ if inbound else ~reversed_
    rows = np.asarray(network.edge_row, dtype=np.int64)
    from_start = np.zeros(network.n_edges)
    from_end = np.zeros(network.n_edges)
    np.maximum.at(from_start, rows[at_start], frac[at_start])
    np.maximum.at(from_end, rows[~at_start], frac[~at_start])
    # an edge whose node is reached is "reached" at that node even with no time left: keep
    # the fractions as they are (0 draws nothing; the buffer of a neighbour draws the node)
    return from_start, from_end


def _pieces(
    lines: np.ndarray, from_start: np.ndarray, from_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Geometry of the reached part of each edge (whole or one/two end pieces) and its length."""
    whole = from_start + from_end >= 1.0 - 1e-12
    out: list[BaseGeometry] = list(lines[whole])
    lengths = [float(shapely.length(lines[whole]).sum())]
    for i in np.flatnonzero(~whole & ((from_start > 0) | (from_end > 0))):
        line = lines[i]
        total = line.length
        if from_start[i] > 0:
            out.append(shapely.ops.substring(line, 0.0, from_start[i] * total))
            lengths.append(from_start[i] * total)
        if from_end[i] > 0:
            out.append(shapely.ops.substring(line, (1.0 - from_end[i]) * total, total))
            lengths.append(from_end[i] * total)
    return np.asarray(out, dtype=object), np.asarray(lengths)


def isochrones(
    network: RoadNetwork,
    node_seconds: np.ndarray,
    minutes: Sequence[float],
    *,
    inbound: bool = False,
    buffer_m: float = DEFAULT_BUFFER_M,
) -> tuple[Isochrone, ...]:
    """Nested drive-time areas, one per threshold in ascending ``minutes`` (see module doc)."""
    import shapely.ops  # noqa: F401  (substring)

    mins = sorted(float(m) for m in minutes)
    if not mins or any(not np.isfinite(m) or m <= 0 for m in mins):
        raise ValidationError(f"isochrone minutes must be positive numbers, got {list(minutes)}")
    if not (np.isfinite(buffer_m) and buffer_m > 0):
        raise ValidationError(f"isochrone buffer must be > 0 m, got {buffer_m!r}")
    lines = np.asarray(network.projected_edges(), dtype=object)
    to_wgs = Transformer.from_crs(network.crs, "EPSG:4326", always_xy=True)

    def to_lonlat(c: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs.transform(c[:, 0], c[:, 1]))

    tol = buffer_m / 10.0
    polygon: BaseGeometry = shapely.Polygon()
    whole_before = np.zeros(network.n_edges, dtype=bool)
    out: list[Isochrone] = []
    for m in mins:
        fs, fe = reached_fractions(network, node_seconds, m * 60.0, inbound=inbound)
        whole = fs + fe >= 1.0 - 1e-12
        new = ~whole_before & ((fs > 0) | (fe > 0))
        pieces, lengths = _pieces(lines[new], fs[new], fe[new])
        km = float(shapely.length(lines[whole_before]).sum() + lengths.sum()) / 1000.0
        pieces = pieces[shapely.get_type_id(pieces) == 1] if len(pieces) else pieces
        if len(pieces):
            # merging chains first means fewer, longer buffers to union (≈ 25 % fewer parts)
            merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(pieces)))
            simple = shapely.simplify(merged, tol, preserve_topology=False)
            grown = shapely.buffer(simple, buffer_m, quad_segs=QUAD_SEGS)
            # to WGS-84 before the union: the nesting then holds exactly in the output
            # coordinates (reprojecting a union afterwards bends its straight edges apart);
            # the band's buffers are unioned first, then once with the previous area (≈ 25 %
            # less work than one union of all)
            band = shapely.union_all(shapely.transform(grown, to_lonlat))
            polygon = band if polygon.is_empty else shapely.union(polygon, band)
        whole_before = whole
        out.append(Isochrone(m, polygon, round(km, 3)))
    return tuple(out)
