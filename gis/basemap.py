"""The map's base map choice (Qt-free): what is drawn under the workspace's layers.

Offered in this order (视图 → 底图):

1. ``workspace``: a base map drawn by the page from the workspace's own layers (land inside the
   county outline, township areas when the workspace holds them, water, roads by class, place
   names). No tiles, no network: the default.
2. ``mbtiles``: a local MBTiles file the bureau provides (read by :mod:`gis.tiles`, served to the
   page through the ``rdtiles:`` scheme of the desktop app): raster tiles as a tile layer,
   vector tiles (``pbf``) drawn by the vendored protomaps-leaflet (BSD-3-Clause) with a generic
   style (:data:`VECTOR_STYLE`: areas, lines and points of every layer; the schema is unknown).
3. ``online``: an online XYZ source, only when the user picks one: OpenStreetMap (WGS-84) or the
   AMap/Tencent street maps, which are drawn in GCJ-02. Their tiles are placed on the WGS-84
   map with the offsets of :func:`gcj_offset_grid` (computed by :mod:`gis.coords`, the one
   implementation of the conversion; the page interpolates the grid bilinearly).
4. ``none``: nothing under the layers.

The page never carries an online URL unless the user chose an online source: the catalogue
below reaches the page only through :func:`page_spec` of an ``online`` choice.

The choice persists per workspace in the desktop settings under :func:`settings_key` (a hash of
the workspace's resolved path): a workspace file is not changed (or marked unsaved) by looking
at it differently.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gis.coords import in_china, wgs84_to_gcj02
from gis.paths import resources_dir

KINDS: tuple[str, ...] = ("workspace", "mbtiles", "online", "none")


@dataclass(frozen=True, slots=True)
class OnlineSource:
    """An online XYZ tile source."""

    key: str
    name_zh: str
    url: str
    subdomains: str
    crs: str  # "wgs84" or "gcj02"
    attribution: str
    max_zoom: int = 18


ONLINE_SOURCES: dict[str, OnlineSource] = {
    s.key: s
    for s in (
        OnlineSource(
            "osm",
            "OpenStreetMap（在线）",
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "",
            "wgs84",
            "© OpenStreetMap contributors (ODbL)",
            19,
        ),
        OnlineSource(
            "amap",
            "高德地图（在线，GCJ-02 已纠偏）",
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            "1234",
            "gcj02",
            "© 高德地图 AutoNavi",
            18,
        ),
        OnlineSource(
            "tencent",
            "腾讯地图（在线，GCJ-02 已纠偏）",
            "https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={-y}&styleid=1000&scene=0&version=347",
            "0123",
            "gcj02",
            "© 腾讯地图 Tencent",
            18,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class BasemapChoice:
    """The base map of one workspace. ``path``: the MBTiles file; ``source``: an online key."""

    kind: str = "workspace"
    path: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown base map kind {self.kind!r} (one of {', '.join(KINDS)})")
        if self.kind == "online" and self.source not in ONLINE_SOURCES:
            raise ValueError(f"unknown online source {self.source!r}")
        if self.kind == "mbtiles" and not self.path:
            raise ValueError("an MBTiles base map needs a file")

    @property
    def online(self) -> bool:
        return self.kind == "online"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: object) -> BasemapChoice:
        """The stored choice; anything unreadable gives the default (workspace base map)."""
        try:
            raw = json.loads(str(text))
            return cls(
                str(raw.get("kind", "workspace")),
                str(raw.get("path", "") or ""),
                str(raw.get("source", "") or ""),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()


DEFAULT = BasemapChoice()


def settings_key(workspace: Path | str | None) -> str:
    """Settings key of a workspace's base map choice (``basemap/<hash of the resolved path>``)."""
    if workspace is None:
        return "basemap/_none"
    resolved = str(Path(workspace).expanduser().resolve())
    return "basemap/" + hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:20]


def gcj_offset_grid(
    bounds: tuple[float, float, float, float] | list[float] | None, step: float = 0.01
) -> dict[str, Any] | None:
    """GCJ-02 − WGS-84 offsets (degrees) on a regular grid covering ``bounds`` (+0.5° margin).

    ``{"lon0", "lat0", "step", "nx", "ny", "dlon": [...], "dlat": [...]}``, row-major (rows =
    latitudes from ``lat0`` up). None outside China (the offsets are zero there) or without
    bounds. At 0.01° the bilinear interpolation error is below 10 cm (the offset's
    shortest period is 1/3°), far below a metre.
    """
    if bounds is None:
        return None
    w, s, e, n = (float(v) for v in bounds)
    if not bool(in_china((w + e) / 2, (s + n) / 2)):
        return None
    margin = 0.5
    lon0 = math.floor((w - margin) / step) * step
    lat0 = math.floor((s - margin) / step) * step
    nx = int(math.ceil((e + margin - lon0) / step)) + 1
    ny = int(math.ceil((n + margin - lat0) / step)) + 1
    lons = lon0 + step * np.arange(nx)
    lats = lat0 + step * np.arange(ny)
    glon, glat = np.meshgrid(lons, lats)
    gx, gy = wgs84_to_gcj02(glon.ravel(), glat.ravel())
    dlon = np.round(np.asarray(gx) - glon.ravel(), 8)
    dlat = np.round(np.asarray(gy) - glat.ravel(), 8)
    return {
        "lon0": round(lon0, 8),
        "lat0": round(lat0, 8),
        "step": step,
        "nx": nx,
        "ny": ny,
        "dlon": dlon.tolist(),
        "dlat": dlat.tolist(),
    }


def page_spec(
    choice: BasemapChoice,
    *,
    bounds: tuple[float, float, float, float] | list[float] | None = None,
    tile_url: str = "",
    info: Any = None,
    labels: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The JSON the page's ``RD.setBasemap`` takes for ``choice``.

    ``tile_url``: the page URL of the MBTiles tiles (the desktop's ``rdtiles:`` scheme);
    ``info``: its :class:`gis.tiles.TileSetInfo` (zoom range, attribution); ``labels``: the
    workspace base map's place names (:func:`place_labels`)."""
    if choice.kind == "workspace":
        return {"kind": "workspace", "style": WORKSPACE_STYLE, "labels": list(labels)}
    if choice.kind == "none":
        return {"kind": "none"}
    if choice.kind == "mbtiles" and getattr(info, "is_vector", False):
        return {
            "kind": "vector",
            "url": tile_url,
            "script": (resources_dir() / "vendor" / "protomaps-leaflet" / "protomaps-leaflet.js")
            .resolve()
            .as_uri(),
            "layers": list(info.layers),
            "attribution": info.attribution or Path(choice.path).name,
            "maxDataZoom": int(info.maxzoom),
            "style": VECTOR_STYLE,
        }
    if choice.kind == "mbtiles":
        return {
            "kind": "tiles",
            "url": tile_url,
            "subdomains": "",
            "attribution": getattr(info, "attribution", "") or Path(choice.path).name,
            "minNativeZoom": int(getattr(info, "minzoom", 0)),
            "maxNativeZoom": int(getattr(info, "maxzoom", 18)),
            "gcj": None,
        }
    src = ONLINE_SOURCES[choice.source]
    return {
        "kind": "tiles",
        "url": src.url,
        "subdomains": src.subdomains,
        "attribution": src.attribution,
        "minNativeZoom": 0,
        "maxNativeZoom": src.max_zoom,
        "gcj": gcj_offset_grid(bounds) if src.crs == "gcj02" else None,
    }


#: Colours of the workspace base map (a muted topographic look under the app's own layers).
WORKSPACE_STYLE: dict[str, Any] = {
    "outside": "#dde3e8",
    "land": "#f4f1e6",
    "township_line": "#b9ad93",
    "township_fill": "#efe9d8",
    "water": "#aad3df",
    "water_line": "#8cbfd9",
    # class → (colour, width px): pale, so the app's coloured road layer reads above it
    "roads": {
        "motorway": ("#f3c0b0", 3.0),
        "trunk": ("#f6d3b0", 2.6),
        "primary": ("#f8e2bc", 2.2),
        "secondary": ("#fbefcf", 1.8),
        "tertiary": ("#ffffff", 1.4),
        "village": ("#ffffff", 1.0),
        "other": ("#ffffff", 0.8),
    },
}


#: Generic look of a vector MBTiles of unknown schema: every layer's areas, lines and points.
VECTOR_STYLE: dict[str, Any] = {
    "fill": "#e8e2d0",
    "fill_opacity": 0.7,
    "outline": "#b5a888",
    "line": "#8d8d8d",
    "line_width": 1.0,
    "point": "#6d6d6d",
}


def place_labels(
    county_name: str, boundary: Any | None, rivers: Any | None
) -> list[dict[str, Any]]:
    """Place names of the workspace base map: the county (at its outline's inner point) and each
    named river (at the middle of its longest centre line). ``rivers``: the GeoJSON dict of the
    workspace's rivers document. Text only: the page sets it with ``textContent``."""
    from shapely.geometry import shape

    labels: list[dict[str, Any]] = []
    if boundary is not None and not boundary.is_empty and county_name:
        p = boundary.representative_point()
        labels.append({"kind": "county", "text": county_name, "lon": p.x, "lat": p.y})
    best: dict[str, Any] = {}
    for f in (rivers or {}).get("features") or []:
        try:
            name = str((f.get("properties") or {}).get("name") or "").strip()
            geom = shape(f["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if not name or geom.geom_type not in ("LineString", "MultiLineString"):
            continue
        parts = list(getattr(geom, "geoms", [geom]))
        longest = max(parts, key=lambda g: g.length)
        if name not in best or longest.length > best[name].length:
            best[name] = longest
    for name, line in best.items():
        p = line.interpolate(0.5, normalized=True)
        labels.append({"kind": "river", "text": name, "lon": round(p.x, 6), "lat": round(p.y, 6)})
    return labels
