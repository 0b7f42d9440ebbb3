"""Geodesic measurement of a drawn line or polygon (Qt-free), in metric units.

Lengths and areas are computed on the WGS-84 ellipsoid with :class:`pyproj.Geod` (Karney's
algorithms, the same library that reprojects the workspace), not on a projected plane: a
county-wide measurement is exact to the millimetre. :func:`format_length` /
:func:`format_area` give the metric text the map shows (m / km, m² / ha / km²).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape


@dataclass(frozen=True, slots=True)
class Measurement:
    """A measured geometry: length (line: its length; polygon: its perimeter) and area."""

    kind: str  # "line" | "polygon"
    length_m: float
    area_m2: float = 0.0
    vertices: int = 0


@functools.cache
def _geod() -> Any:
    from pyproj import Geod

    return Geod(ellps="WGS84")


def measure_geometry(geom: Any) -> Measurement:
    """Measure a shapely (Multi)LineString or (Multi)Polygon in lon/lat degrees."""
    if geom is None or geom.is_empty:
        raise ValueError("空几何，无法量算")
    g = _geod()
    kind = "polygon" if geom.geom_type in ("Polygon", "MultiPolygon") else "line"
    if kind == "line" and geom.geom_type not in ("LineString", "MultiLineString"):
        raise ValueError(f"只能量算线或面，收到 {geom.geom_type}")
    length = float(g.geometry_length(geom))
    area = abs(float(g.geometry_area_perimeter(geom)[0])) if kind == "polygon" else 0.0
    n = (
        len(geom.exterior.coords) - 1
        if geom.geom_type == "Polygon"
        else len(getattr(geom, "coords", ()))
    )
    return Measurement(kind, length, area, n)


def measure_geojson(text: str) -> Measurement:
    """Measure a GeoJSON geometry (text from the map's drawing tool)."""
    try:
        geom = shape(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"量算几何无效：{exc}") from exc
    return measure_geometry(geom)


def format_length(m: float) -> str:
    return f"{m / 1000:.2f} km" if m >= 1000 else f"{m:.1f} m"


def format_area(m2: float) -> str:
    if m2 >= 1_000_000:
        return f"{m2 / 1e6:.3f} km²"
    if m2 >= 10_000:
        return f"{m2 / 1e4:.2f} ha ({m2:,.0f} m²)"
    return f"{m2:,.0f} m²"


def scale_bar(metres_per_px: float, max_px: float) -> tuple[float, float]:
    """A metric scale bar no longer than ``max_px``: ``(length in metres, length in pixels)``,
    the length a round 1, 2 or 5 × 10ⁿ metres."""
    if not (metres_per_px > 0 and max_px > 0):
        raise ValueError("scale bar needs a positive scale and width")
    limit = metres_per_px * max_px
    step = 10 ** math.floor(math.log10(limit))
    for k in (5, 2, 1):
        if k * step <= limit:
            return float(k * step), k * step / metres_per_px
    return float(step), step / metres_per_px
