"""Sentinels shared by the travel-time matrices (:mod:`gis.matrix`) and the solvers (a leaf).

Importing :mod:`gis.matrix` costs ~1.4 s (SciPy, Shapely, the road code); the solvers need only
its "no path" value, so it lives here, with no imports at all.
"""

from __future__ import annotations

#: "No path" in the integer ``seconds`` and ``metres`` matrices (2 147 483 647 = int32 max,
#: about 68 years — never a real time or distance). Real values are clamped below it. It fits
#: an int32 matrix; sums of two or more entries do not: add such entries in int64 or Python
#: ints only (the routing engines replace them by a large finite value before any sum).
UNREACHABLE: int = 2**31 - 1
