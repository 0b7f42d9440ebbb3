"""Chinese map coordinate systems: WGS-84 ⇄ GCJ-02 ⇄ BD-09, and CGCS2000.

* **WGS-84** (EPSG:4326) is what ReliefDesk stores everywhere.
* **GCJ-02** ("火星坐标", AMap/高德, Tencent, Google China) is WGS-84 plus a published,
  deliberately non-linear offset of a few hundred metres inside China (none outside).
* **BD-09** (Baidu/百度) is GCJ-02 with a further published polar perturbation.
* **CGCS2000** (EPSG:4490) differs from WGS-84 by a few centimetres; pyproj's EPSG:4490 →
  EPSG:4326 transformation is used (a null transformation today), so the result follows PROJ
  should a grid-based transformation ever be published.

Why this module is hand-written rather than a dependency: the PyPI packages for this were
checked (2026-11). ``coordtransform`` 0.2.1 (maintained, C extension) inverts GCJ-02 with a single
first-order step, which leaves errors of ~1 m, and has no BD-09 exact inverse; ``prcoords`` 1.0.2
(2019), ``eviltransform`` 0.1.1 (2018) and ``coord-convert`` 0.2.1 (2019) are unmaintained,
scalar-only pure Python. None is vectorised over numpy with a sub-centimetre inverse, so the
published forward formulas (Krasovsky 1940 ellipsoid, the public GCJ-02 polynomial/sine offset,
Baidu's polar perturbation) are written here with numpy, and both inverses are solved by
fixed-point iteration until the residual is below 1e-10° (≈ 0.01 mm).

Every function accepts scalars or array-likes (broadcast together) and returns a pair of the same
kind: ``(float, float)`` for scalars, ``(ndarray, ndarray)`` otherwise.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.errors import ValidationError

__all__ = [
    "SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cgcs2000_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_cgcs2000",
    "wgs84_to_gcj02",
]

#: Coordinate systems understood by :func:`to_wgs84` / :func:`from_wgs84`.
SYSTEMS: tuple[str, ...] = ("WGS84", "GCJ02", "BD09", "CGCS2000")

# Krasovsky 1940 ellipsoid used by the GCJ-02 offset.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's perturbation constant.
_X_PI = np.pi * 3000.0 / 180.0

# Rough bounding box in which the GCJ-02 offset is applied (the usual published convention).
_CHINA_LON = (73.66, 135.05)
_CHINA_LAT = (3.86, 53.55)

_TOL_DEG = 1e-10
_MAX_ITER = 30

Pair = tuple[Any, Any]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    try:
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        x, y = np.broadcast_arrays(x, y)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"coordinates: lon/lat must be numbers or arrays of numbers ({exc})"
        ) from None
    return x, y, scalar


def _out(x: NDArray[np.float64], y: NDArray[np.float64], scalar: bool) -> Pair:
    if scalar:
        return float(x), float(y)
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def _in_china(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (
        (x > _CHINA_LON[0]) & (x < _CHINA_LON[1]) & (y > _CHINA_LAT[0]) & (y < _CHINA_LAT[1])
    )


def in_china(lon: ArrayLike, lat: ArrayLike) -> Any:
    """True where the point lies in the box where GCJ-02/BD-09 offsets apply.

    Outside it GCJ-02 equals WGS-84 (the published convention). Returns a bool for scalars and
    a boolean array otherwise.
    """
    x, y, scalar = _arrays(lon, lat)
    mask = _in_china(x, y)
    return bool(mask) if scalar else mask


def _gcj_delta(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """GCJ-02 minus WGS-84 in degrees at WGS-84 point (x, y); zero outside China."""
    dx = x - 105.0
    dy = y - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * dx * pi) + 20.0 * np.sin(2.0 * dx * pi)) * 2.0 / 3.0
    sqrt_abs = np.sqrt(np.abs(dx))
    t_lat = (
        -100.0 + 2.0 * dx + 3.0 * dy + 0.2 * dy * dy + 0.1 * dx * dy + 0.2 * sqrt_abs
        + common
        + (20.0 * np.sin(dy * pi) + 40.0 * np.sin(dy / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(dy / 12.0 * pi) + 320.0 * np.sin(dy * pi / 30.0)) * 2.0 / 3.0
    )
    t_lon = (
        300.0 + dx + 2.0 * dy + 0.1 * dx * dx + 0.1 * dx * dy + 0.1 * sqrt_abs
        + common
        + (20.0 * np.sin(dx * pi) + 40.0 * np.sin(dx / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(dx / 12.0 * pi) + 300.0 * np.sin(dx / 30.0 * pi)) * 2.0 / 3.0
    )
    rad = y / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (t_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    inside = _in_china(x, y)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def _wgs_to_gcj(x: NDArray, y: NDArray) -> tuple[NDArray, NDArray]:
    dx, dy = _gcj_delta(x, y)
    return x + dx, y + dy


def _converged(rx: NDArray, ry: NDArray) -> bool:
    """True when every finite residual is below the tolerance (NaN inputs stay NaN)."""
    r = np.abs(rx) + np.abs(ry)
    finite = np.isfinite(r)
    return not finite.any() or float(r[finite].max()) < _TOL_DEG


def _gcj_to_wgs(gx: NDArray, gy: NDArray) -> tuple[NDArray, NDArray]:
    # Fixed point w = g - delta(w): the offset varies slowly, so this contracts fast (3–5 steps).
    wx, wy = gx.copy(), gy.copy()
    for _ in range(_MAX_ITER):
        fx, fy = _wgs_to_gcj(wx, wy)
        rx, ry = fx - gx, fy - gy
        wx = wx - rx
        wy = wy - ry
        if _converged(rx, ry):
            break
    return wx, wy


def _gcj_to_bd(x: NDArray, y: NDArray) -> tuple[NDArray, NDArray]:
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(bx: NDArray, by: NDArray) -> tuple[NDArray, NDArray]:
    # Published closed-form approximation, then refined by fixed-point iteration.
    x = bx - 0.0065
    y = by - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITER):
        fx, fy = _gcj_to_bd(gx, gy)
        rx, ry = fx - bx, fy - by
        gx = gx - rx
        gy = gy - ry
        if _converged(rx, ry):
            break
    return gx, gy


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS-84 → GCJ-02 (identity outside China)."""
    x, y, scalar = _arrays(lon, lat)
    return _out(*_wgs_to_gcj(x, y), scalar)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 → WGS-84 by iteration; the forward residual is < 1e-10° (≈ 0.01 mm)."""
    x, y, scalar = _arrays(lon, lat)
    return _out(*_gcj_to_wgs(x, y), scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 → BD-09 (Baidu)."""
    x, y, scalar = _arrays(lon, lat)
    return _out(*_gcj_to_bd(x, y), scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 → GCJ-02 (closed-form start refined by iteration to < 1e-10°)."""
    x, y, scalar = _arrays(lon, lat)
    return _out(*_bd_to_gcj(x, y), scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS-84 → BD-09 (through GCJ-02)."""
    x, y, scalar = _arrays(lon, lat)
    return _out(*_gcj_to_bd(*_wgs_to_gcj(x, y)), scalar)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 → WGS-84 (through GCJ-02)."""
    x, y, scalar = _arrays(lon, lat)
    return _out(*_gcj_to_wgs(*_bd_to_gcj(x, y)), scalar)


@lru_cache(maxsize=2)
def _cgcs_transformer(inverse: bool) -> Any:
    from pyproj import Transformer

    src, dst = ("EPSG:4326", "EPSG:4490") if inverse else ("EPSG:4490", "EPSG:4326")
    return Transformer.from_crs(src, dst, always_xy=True)


def cgcs2000_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """CGCS2000 (EPSG:4490) → WGS-84 via pyproj (differences are at the centimetre level)."""
    x, y, scalar = _arrays(lon, lat)
    ox, oy = _cgcs_transformer(False).transform(x, y)
    return _out(np.asarray(ox, dtype=np.float64), np.asarray(oy, dtype=np.float64), scalar)


def wgs84_to_cgcs2000(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS-84 → CGCS2000 (EPSG:4490) via pyproj."""
    x, y, scalar = _arrays(lon, lat)
    ox, oy = _cgcs_transformer(True).transform(x, y)
    return _out(np.asarray(ox, dtype=np.float64), np.asarray(oy, dtype=np.float64), scalar)


def _system(system: str) -> str:
    if not isinstance(system, str):
        raise ValidationError(
            f"coordinate system must be text, one of {', '.join(SYSTEMS)}; got {system!r}"
        )
    key = system.strip().upper().replace("-", "").replace("_", "").replace(" ", "")
    aliases = {"WGS1984": "WGS84", "EPSG4326": "WGS84", "EPSG4490": "CGCS2000", "BD09LL": "BD09"}
    key = aliases.get(key, key)
    if key not in SYSTEMS:
        raise ValidationError(
            f"unknown coordinate system {system!r}: expected one of {', '.join(SYSTEMS)}"
        )
    return key


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> Pair:
    """Convert coordinates given in ``system`` (WGS84/GCJ02/BD09/CGCS2000, any case) to WGS-84.

    Raises
    ------
    ValidationError
        If ``system`` is not one of :data:`SYSTEMS`.
    """
    key = _system(system)
    if key == "WGS84":
        x, y, scalar = _arrays(lon, lat)
        return _out(x, y, scalar)
    if key == "GCJ02":
        return gcj02_to_wgs84(lon, lat)
    if key == "BD09":
        return bd09_to_wgs84(lon, lat)
    return cgcs2000_to_wgs84(lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> Pair:
    """Convert WGS-84 coordinates to ``system`` (the inverse of :func:`to_wgs84`)."""
    key = _system(system)
    if key == "WGS84":
        x, y, scalar = _arrays(lon, lat)
        return _out(x, y, scalar)
    if key == "GCJ02":
        return wgs84_to_gcj02(lon, lat)
    if key == "BD09":
        return wgs84_to_bd09(lon, lat)
    return wgs84_to_cgcs2000(lon, lat)
