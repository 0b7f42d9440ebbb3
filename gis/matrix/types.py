"""Value types shared by every travel-time backend (imports only numpy, shapely, gis.roads, gis.units).

``UNREACHABLE``, ``DEFAULT_OFFROAD_KMH``, :func:`round_units`, :class:`TravelMatrix`,
:class:`Path`, :class:`Step` and :class:`MatrixCancelled` are re-exported by :mod:`gis.matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from gis.errors import Cancelled
from gis.roads import SnapResult, road_class_zh

#: Off-road speed from a facility/incident to its snapped network node (km/h).
DEFAULT_OFFROAD_KMH: float = 5.0


def round_units(x: Any) -> np.ndarray:
    """Round seconds or metres to whole units: halves up, with a 1e-6 tolerance.

    Sums of the same arc values in another order differ in the last float bits; on data with
    lengths such as 12.5 m plain ``rint`` would then round the same path differently. The
    tolerance makes every summation order give the same integer.
    """
    return np.floor(np.asarray(x, dtype=np.float64) + (0.5 + 1e-6))


class MatrixCancelled(Cancelled):
    """The ``stop`` callable asked a matrix computation (or the road network's preprocessing)
    to stop; a :class:`gis.errors.Cancelled`."""


@dataclass(frozen=True)
class TravelMatrix:
    """Sources × targets travel times and distances.

    Attributes
    ----------
    seconds, metres
        int32 ``[S, T]``; :data:`UNREACHABLE` where ``reachable`` is False.
    reachable
        bool ``[S, T]``.
    source_nodes, target_nodes
        Node indices the rows and columns refer to (snapped nodes for ``matrix_lonlat``).
    source_snap, target_snap
        Snap results when built from coordinates, else None.
    network_hash
        ``content_hash`` of the network (with closures) the matrix was computed on.
    backend
        Which engine computed it: ``"csgraph"`` or ``"cch"`` (empty when built by hand).

    ``metres`` holds -1 for reachable pairs when it was not asked for (``metres=False``).
    """

    seconds: np.ndarray
    metres: np.ndarray
    reachable: np.ndarray
    source_nodes: np.ndarray
    target_nodes: np.ndarray
    source_snap: SnapResult | None = None
    target_snap: SnapResult | None = None
    network_hash: str = ""
    backend: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.seconds.shape[0]), int(self.seconds.shape[1]))

    def unreachable_pairs(self) -> list[tuple[int, int]]:
        """(row, column) of every pair without a path, row-major."""
        rows, cols = np.nonzero(~self.reachable)
        return list(zip(rows.tolist(), cols.tolist(), strict=True))


@dataclass(frozen=True)
class Step:
    """One line of a turn list: a stretch along one road.

    ``road`` is the road's name, else its ref (e.g. G93), else its Chinese class label
    (高速/国道/省道/县道/乡道/村道/其他); ``highway`` the OSM class of its first arc.
    """

    road: str
    highway: str
    distance_m: float
    seconds: float


@dataclass(frozen=True)
class Path:
    """A time-shortest path between two nodes.

    ``nodes`` node indices (source first), ``arcs`` arc indices, ``seconds``/``metres`` rounded
    like the matrix, ``geometry`` a lon/lat LineString following the roads from the source node
    to the target node, ``steps`` the turn list (consecutive arcs on the same road merged).
    """

    nodes: tuple[int, ...]
    arcs: tuple[int, ...]
    seconds: int
    metres: int
    geometry: shapely.LineString
    steps: tuple[Step, ...]


def step_label(name: str, ref: str, highway: str) -> str:
    """A turn-list label: the road's name, else its ref, else its Chinese class label."""
    if name:
        return name
    if ref:
        return ref
    return road_class_zh(highway)
