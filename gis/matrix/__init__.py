"""Travel-time and distance matrices and paths over a :class:`gis.roads.RoadNetwork`.

:class:`TravelTimeEngine` (in :mod:`gis.matrix.engine`) is the one interface the rest of
ReliefDesk uses. Behind it: :mod:`gis.matrix.csgraph` (Dijkstra on ``scipy.sparse.csgraph``,
the reference and fallback) and :mod:`gis.matrix.cch` (customizable contraction hierarchies
from routingkit-cch, for large networks and instant closures), with
:mod:`gis.matrix.chains` contracting chains of two-link nodes before the hierarchy is ordered.
"""

from __future__ import annotations

from gis.matrix.engine import BACKENDS, MatrixBackend, TravelTimeEngine, choose_backend
from gis.matrix.types import (
    DEFAULT_OFFROAD_KMH,
    MatrixCancelled,
    Path,
    Step,
    TravelMatrix,
    round_units,
)
from gis.units import UNREACHABLE

__all__ = [
    "UNREACHABLE",
    "round_units",
    "DEFAULT_OFFROAD_KMH",
    "MatrixCancelled",
    "TravelMatrix",
    "Step",
    "Path",
    "TravelTimeEngine",
    "MatrixBackend",
    "BACKENDS",
    "choose_backend",
]
