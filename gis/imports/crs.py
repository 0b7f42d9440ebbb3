"""Which coordinate system a ledger or a vector file is in, and conversion to WGS-84.

Systems: WGS-84, GCJ-02 (高德/腾讯), BD-09 (百度), CGCS2000 geographic (EPSG:4490) and any EPSG
code pyproj knows — in practice CGCS2000 Gauss-Krüger zones (3°: EPSG:4513–4533 with the zone
number before the easting, 4534–4554 without; 6°: 4491–4512). GCJ-02 and BD-09 go through
:mod:`gis.coords` (the one vectorised implementation), projections through pyproj.

Detection (``auto``), first decisive clue wins:

1. a CRS declared by the file (``.prj``, GeoPackage, GeoJSON, KML = WGS-84);
2. header words of the coordinate columns: 高德 / 腾讯 / GCJ / 火星 → GCJ-02, 百度 / BD → BD-09,
   2000 / CGCS → CGCS2000;
3. value ranges: numbers beyond ±180 are projected metres — an easting with a zone prefix
   (≥ 10⁷, e.g. 35 xxx xxx) names its 3° zone; without one the zone is the one of the county
   (central meridian nearest the workspace outline); northings and eastings swapped (surveyors'
   X is north) are put right;
4. otherwise WGS-84.

Then the county outline checks the choice: points outside it in the chosen system but inside in
another are counted, and a better system is suggested (:func:`outline_check`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely

from gis.coords import to_wgs84
from gis.errors import DataImportError, ValidationError

#: ``--crs`` values besides ``EPSG:N``.
NAMED = {"wgs84": "WGS84", "gcj02": "GCJ02", "bd09": "BD09", "cgcs2000": "CGCS2000"}
#: Names shown to the user.
DISPLAY = {"WGS84": "WGS-84", "GCJ02": "GCJ-02", "BD09": "BD-09", "CGCS2000": "CGCS2000"}

_HINTS = (
    (re.compile(r"高德|腾讯|gcj|火星|amap|gaode|tencent|qq", re.IGNORECASE), "GCJ02"),
    (re.compile(r"百度|bd09|bd-09|baidu|\bbd\b", re.IGNORECASE), "BD09"),
    (re.compile(r"cgcs|2000|国家2000", re.IGNORECASE), "CGCS2000"),
    (re.compile(r"wgs|gps|北斗", re.IGNORECASE), "WGS84"),
)


def parse_crs_option(text: str) -> str:
    """``auto``, a named system or ``EPSG:N`` (normalised: ``GCJ02``, ``EPSG:4545`` …)."""
    t = (text or "auto").strip()
    low = t.lower().replace("-", "").replace("_", "")
    if low == "auto":
        return "auto"
    if low in NAMED:
        return NAMED[low]
    m = re.fullmatch(r"epsg:(\d{4,6})", t.lower())
    if m:
        code = int(m.group(1))
        if code == 4326:
            return "WGS84"
        if code == 4490:
            return "CGCS2000"
        _transformer(code)  # raises DataImportError for an unknown code
        return f"EPSG:{code}"
    raise DataImportError(f"--crs {text!r}: expected auto, wgs84, gcj02, bd09, cgcs2000 or EPSG:N")


@lru_cache(maxsize=32)
def _transformer(code: int) -> Any:
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_epsg(code)
    except CRSError:
        raise DataImportError(f"EPSG:{code} is not a coordinate system pyproj knows") from None
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def hint_from_headers(headers: Sequence[str]) -> str | None:
    """A system named in the coordinate column headers (``经度(高德)`` → GCJ02), or ``None``."""
    for h in headers:
        for pattern, system in _HINTS:
            if pattern.search(h or ""):
                return system
    return None


def system_of_file_crs(crs: Any) -> str | None:
    """The system of a CRS declared by a file (``None`` when it declares none)."""
    if crs is None:
        return None
    from pyproj import CRS

    try:
        c = CRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - a broken .prj is no declaration
        return None
    code = c.to_epsg(min_confidence=70)
    if code == 4326:
        return "WGS84"
    if code == 4490:
        return "CGCS2000"
    if code is not None:
        return f"EPSG:{code}"
    if c.is_geographic:
        return "CGCS2000" if "2000" in c.name else "WGS84"
    return f"WKT:{c.to_wkt()}"


def _gk_zone_epsg(x: np.ndarray, central_lon: float | None) -> int | None:
    """EPSG code of CGCS2000 3° Gauss-Krüger from eastings (zone prefix, else ``central_lon``)."""
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return None
    zones = np.floor(finite / 1e6).astype(int)
    if np.all(zones >= 25) and np.all(zones <= 45) and np.unique(zones).size == 1:
        return 4513 + int(zones[0]) - 25
    if central_lon is None or not np.all((finite > 0) & (finite < 1e6)):
        return None
    cm = int(round(central_lon / 3.0)) * 3
    if 75 <= cm <= 135:
        return 4534 + (cm - 75) // 3
    return None


@dataclass(frozen=True)
class Converted:
    """WGS-84 lon/lat arrays and the system they were read in (``system`` as for ``--crs``)."""

    lon: np.ndarray
    lat: np.ndarray
    system: str
    note: str = ""


def to_wgs(x: np.ndarray, y: np.ndarray, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert arrays from ``system`` (named, ``EPSG:N`` or ``WKT:…``) to WGS-84 lon/lat."""
    if system in DISPLAY:
        try:
            return to_wgs84(x, y, system)
        except ValidationError as exc:
            raise DataImportError(str(exc)) from None
    if system.startswith("EPSG:"):
        t = _transformer(int(system[5:]))
    else:
        from pyproj import CRS, Transformer

        t = Transformer.from_crs(CRS.from_wkt(system[4:]), "EPSG:4326", always_xy=True)
    lon, lat = t.transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def detect(
    x: np.ndarray,
    y: np.ndarray,
    *,
    option: str,
    headers: Sequence[str] = (),
    file_system: str | None = None,
    central_lon: float | None = None,
    columns: bool = True,
) -> Converted:
    """Convert ``x``/``y`` (the columns mapped to lon/lat, NaN where missing) to WGS-84.

    ``option`` is :func:`parse_crs_option`'s result; ``auto`` detects as the module says.
    ``columns``: the values come from two table columns (X and Y may be swapped), not from
    a geometry."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    note = ""
    projected = bool(np.nanmax(np.abs(np.concatenate([x, y, [0.0]]))) > 180)
    if projected and columns and option not in DISPLAY:
        # surveyors' X is north: put the easting first (it is the smaller one in China,
        # unless it carries a zone prefix)
        ok = np.isfinite(x) & np.isfinite(y)
        mx, my = (float(np.median(x[ok])), float(np.median(y[ok]))) if ok.any() else (0.0, 0.0)
        if (mx > my and mx < 1e7) or (my >= 1e7 > mx):
            x, y = y, x
            note = "X/Y swapped (X is the northing)"
    if option != "auto":
        system = option
        if system in DISPLAY and projected:
            raise DataImportError(
                f"--crs {DISPLAY[system]} names degrees, but the coordinates are metres "
                "(projected); use --crs EPSG:N (e.g. EPSG:4545) or auto"
            )
    elif file_system is not None:
        system, note = file_system, "declared by the file"
    elif projected:
        code = _gk_zone_epsg(x, central_lon)
        if code is None:
            raise DataImportError(
                "coordinates look projected (metres) but the zone is unknown: "
                "give --crs EPSG:N (CGCS2000 3° Gauss-Krüger zones: EPSG:4513–4554)"
            )
        system = f"EPSG:{code}"
        note = (note + "; " if note else "") + "Gauss-Krüger zone from the values"
    else:
        hint = hint_from_headers(headers)
        system = hint or "WGS84"
        note = "named in the header" if hint else "default"
    lon, lat = to_wgs(x, y, system)
    return Converted(lon=lon, lat=lat, system=system, note=note)


def inside(boundary: Any, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which points lie inside the county outline (all ``True`` without an outline)."""
    if boundary is None:
        return np.ones(len(lon), dtype=bool)
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.zeros(len(lon), dtype=bool)
    if ok.any():
        shapely.prepare(boundary)
        out[ok] = shapely.contains_xy(boundary, lon[ok], lat[ok])
    return out


def outline_check(
    boundary: Any, x: np.ndarray, y: np.ndarray, chosen: Converted
) -> tuple[str | None, np.ndarray]:
    """``(better system or None, rows that another system would put inside the county)``.

    Only geographic systems are compared (a shift of a few hundred metres at the border)."""
    n = len(chosen.lon)
    flagged = np.zeros(n, dtype=bool)
    if boundary is None or chosen.system not in DISPLAY:
        return None, flagged
    here = inside(boundary, chosen.lon, chosen.lat)
    best, best_count = None, int(here.sum())
    for other in ("WGS84", "GCJ02", "BD09"):
        if other == chosen.system or (other == "WGS84" and chosen.system == "CGCS2000"):
            continue
        lon, lat = to_wgs(np.asarray(x, float), np.asarray(y, float), other)
        there = inside(boundary, lon, lat)
        flagged |= there & ~here
        if int(there.sum()) > best_count:
            best, best_count = other, int(there.sum())
    return best, flagged


__all__ = [
    "Converted",
    "detect",
    "hint_from_headers",
    "inside",
    "outline_check",
    "parse_crs_option",
    "system_of_file_crs",
    "to_wgs",
]
