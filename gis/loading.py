"""Use cases that join the workspace file, the road network and the travel-time engine.

These are the functions behind the headless commands (``app.py info / import-osm / matrix``) and
the GUI's "open workspace": plain Python, no Qt.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gis.errors import ReliefDeskError, WorkspaceError
from gis.model import RoadNetworkRef, Scenario
from gis.roads.classes import MAX_OFFROAD_M  # points farther from any road: unreachable

ProgressFn = Callable[[float, str], None]


#: Scenario metadata key holding what ``import-osm`` dropped or cut (its messages, `` | ``-joined).
IMPORT_REPORT_KEY = "roads_import_report"


def _noop(fraction: float, message: str) -> None:  # noqa: ARG001
    return None


def open_workspace(path: Path | str, *, include_roads: bool = False) -> Any:
    """Read a workspace (roads are loaded separately, through the cache): a GeoPackage file or
    a shared database named by a ``postgresql://`` URL (read through an offline copy)."""
    from gis.workspace import open_storage, read_workspace
    from gis.workspace.postgis import is_database_url

    if isinstance(path, str) and is_database_url(path):
        return open_storage(path).read(include_roads=include_roads)
    return read_workspace(Path(path), include_roads=include_roads)


def _cache_key(path: Path, ref: RoadNetworkRef) -> str:
    """Key of the processed road network of a workspace file.

    A sha256 of the road layers' rows as they are in the file now (≈ 70 ms on the demo
    county), so a road layer edited in QGIS or with ``ogr2ogr`` after ReliefDesk saved it (when
    the recorded ``ref.content_hash`` no longer describes it) is never served stale from the
    cache. If the layers cannot be read that way, the file's identity (resolved path, size,
    modification time) is the key.
    """
    fingerprint = road_layers_fingerprint(path)
    if fingerprint is not None:
        return f"roads:{ref.content_hash}:{fingerprint}"
    st = path.stat()
    return f"file:{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def road_layers_fingerprint(path: Path) -> str | None:
    """sha256 of every row (all columns, geometry blobs included) of the road layers and of
    their coordinate reference systems (``gpkg_geometry_columns.srs_id`` and its definition).

    ``None`` when the file cannot be read with SQLite or has no road layers.
    """
    import sqlite3

    h = hashlib.sha256()
    try:
        con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        # the layers' coordinate reference systems are part of what the rows mean: an srs_id
        # changed behind ReliefDesk's back must not be served from a cache built without it
        crs = con.execute(
            "SELECT g.table_name, g.srs_id, s.organization, s.organization_coordsys_id, "
            "s.definition FROM gpkg_geometry_columns g LEFT JOIN gpkg_spatial_ref_sys s "
            "ON s.srs_id = g.srs_id WHERE g.table_name IN ('road_nodes', 'road_edges') "
            "ORDER BY g.table_name"
        ).fetchall()
        h.update(repr(("crs", crs)).encode())
        for table in ("road_nodes", "road_edges"):
            cur = con.execute(f'SELECT * FROM "{table}" ORDER BY 1')
            h.update(repr((table, [d[0] for d in cur.description])).encode())
            while rows := cur.fetchmany(4096):
                h.update(repr(rows).encode())
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return h.hexdigest()


def load_road_network(path: Path | str, scenario: Scenario, *, options: Any = None) -> Any:
    """The workspace's road network, from the cache when possible (< 1 s on the demo county).

    Returns ``None`` when the workspace has no road layers.
    """
    from gis.roads import RoadNetwork, RoadOptions, load_network_cached
    from gis.workspace import read_road_frames

    path = Path(path)
    opts = options or RoadOptions()

    def build() -> RoadNetwork:
        frames = read_road_frames(path)
        if frames is None:
            raise _NoRoads()
        nodes, edges = frames
        return RoadNetwork.from_frames(nodes, edges, options=opts, source=str(path))

    try:
        return load_network_cached(_cache_key(path, scenario.road_network), build, options=opts)
    except _NoRoads:
        return None


class _NoRoads(Exception):
    pass


def workspace_info(ws: Any) -> dict[str, Any]:
    """JSON-able summary: counts per entity, road nodes/edges, validation warnings."""
    scenario: Scenario = ws.scenario
    info: dict[str, Any] = {
        "file": str(ws.path),
        "name": scenario.name,
        "counts": scenario.counts(),
        "open_incidents": len(scenario.open_incidents()),
        "road_network": {
            "kind": scenario.road_network.kind,
            "source": scenario.road_network.source,
            "note": scenario.road_network.note,
        },
        "warnings": list(ws.warnings),  # file warnings + validate_scenario(), in that order
    }
    network = load_road_network(ws.path, scenario)
    if network is None:
        info["road_network"].update({"nodes": 0, "edges": 0})
        info["warnings"].append("workspace has no road network: import one with `import-osm`")
    else:
        info["road_network"].update(
            {
                "nodes": int(network.n_nodes),
                "edges": int(network.n_edges),
                "arcs": int(network.n_arcs),
                "dropped_nodes": int(network.report.dropped_nodes),
                "dropped_edges": int(network.report.dropped_edges),
            }
        )
        info["warnings"].extend(network.report.messages)
        imported = scenario.metadata.get(IMPORT_REPORT_KEY, "")
        if imported:  # dropped when the roads were imported (the stored network is clean)
            info["road_network"]["import_report"] = imported.split(" | ")
        info["warnings"].extend(snap_warnings(scenario, network))
    return info


def database_info(url: str) -> dict[str, Any]:
    """:func:`workspace_info` of a shared database workspace (``app.py info URL``): the same
    JSON, read through an offline copy; ``file`` is the URL without its password."""
    from gis.workspace.postgis import PostgisStorage

    storage = PostgisStorage(url)
    with storage.pulled() as path:
        info = workspace_info(open_workspace(path))
    info["file"] = storage.location
    return info


def db_push(path: Path, url: str) -> str:
    """Copy a workspace file (read and checked like any open) into a shared database."""
    from gis.workspace import read_workspace
    from gis.workspace.postgis import PostgisStorage

    ws = read_workspace(Path(path), include_roads=True)
    storage = PostgisStorage(url)
    storage.write(
        ws.scenario, road_nodes=ws.road_nodes, road_edges=ws.road_edges, documents=ws.documents
    )
    counts = ", ".join(f"{k} {v}" for k, v in ws.scenario.counts().items())
    return f"pushed {path} to {storage.location}: {counts}"


def db_pull(url: str, out: Path) -> str:
    """Write an offline GeoPackage copy of a shared database workspace."""
    from gis.workspace.postgis import PostgisStorage

    storage = PostgisStorage(url)
    storage.pull(out)
    return f"pulled {storage.location} to {out}"


def snap_warnings(scenario: Scenario, network: Any) -> list[str]:
    """One warning per facility or incident farther from the road network than the snap limit."""
    from gis.model import ENTITY_FIELDS

    located = [
        (fname, e)
        for fname in ENTITY_FIELDS
        for e in getattr(scenario, fname)
        if getattr(e, "location", None) is not None
    ]
    if not located:
        return []
    snap = network.snap(
        np.asarray([e.location.lon for _, e in located]),
        np.asarray([e.location.lat for _, e in located]),
    )
    out = []
    for (fname, e), dist, flagged in zip(located, snap.distance_m, snap.flagged):
        if flagged:
            out.append(
                f"{fname[:-1]} {e.id} ({e.name}) is {dist:,.0f} m from the nearest road node "
                f"(limit {snap.snap_warn_m:,.0f} m): travel times to it are rough"
            )
    return out


def import_osm(
    file: Path,
    out: Path,
    *,
    boundary_path: Path | None = None,
    name: str | None = None,
    progress: ProgressFn = _noop,
) -> dict[str, Any]:
    """Build (or replace) a workspace's road network from an OSM file.

    If ``out`` already is a workspace, its entities are kept and only the roads (and the
    boundary, when given) are replaced; otherwise a new workspace is created.
    """
    from gis.roads import load_osm

    boundary = read_boundary(boundary_path) if boundary_path is not None else None
    if out.exists():  # fail before the long read if the target is not a workspace
        open_workspace(out)
    progress(0.05, f"reading {file}")
    network = load_osm(file, boundary=boundary, progress=progress)
    summary = _store_roads(
        network,
        out,
        boundary=boundary,
        name=name or Path(file).name.split(".")[0],
        source=Path(file).name,
        progress=progress,
    )
    return {**summary, "source": str(file)}


def download_roads(
    out: Path,
    *,
    boundary_path: Path | None = None,
    place: str | None = None,
    name: str | None = None,
    progress: ProgressFn = _noop,
) -> dict[str, Any]:
    """Download a workspace's road network from OpenStreetMap with osmnx (needs the internet).

    The area is the polygon of ``boundary_path``, else the place name ``place`` (geocoded by
    Nominatim), else the boundary of the existing workspace ``out``. Entities of an existing
    workspace are kept, as with :func:`import_osm`. Offline, :class:`NetworkUnavailableError`
    says so and nothing is written.
    """
    from gis.roads import download_osm

    if boundary_path is not None and place is not None:
        raise WorkspaceError("give either a boundary file or a place name, not both")
    boundary = read_boundary(boundary_path) if boundary_path is not None else None
    existing = open_workspace(out) if out.exists() else None
    polygon = boundary
    if polygon is None and place is None:
        if existing is None or existing.scenario.boundary is None:
            raise WorkspaceError(
                "no area to download: give --boundary GEOJSON or --place NAME "
                "(or a workspace that has a boundary)",
                path=str(out),
            )
        polygon = existing.scenario.boundary
    progress(0.05, f"downloading roads of {place or 'the boundary polygon'}")
    network = download_osm(polygon=polygon, place=place)
    source = f"OpenStreetMap download ({place})" if place else "OpenStreetMap download (polygon)"
    summary = _store_roads(
        network,
        out,
        boundary=boundary,
        name=name or place or out.stem,
        source=source,
        progress=progress,
    )
    return {**summary, "source": source}


#: Metadata keys that describe the road network a workspace had (the demo's generated roads and
#: their bridges): dropped when the roads are replaced.
_OLD_ROADS_KEYS = frozenset({"bridges", "single_bridge", "single_bridge_townships"})


def _store_roads(
    network: Any,
    out: Path,
    *,
    boundary: Any,
    name: str,
    source: str,
    progress: ProgressFn,
) -> dict[str, Any]:
    """Write ``network`` as the road network of workspace ``out`` (created if absent)."""
    from gis.workspace import read_workspace, write_workspace

    progress(0.85, "writing workspace")
    ref = RoadNetworkRef(
        kind="osm",
        source=source,
        content_hash=network.content_hash,
        note="© OpenStreetMap contributors (ODbL)",
    )
    documents = None
    roads_meta = {
        "roads": f"from {source} (© OpenStreetMap contributors, ODbL)",
        # the stored network is already cleaned: keep what the import dropped for `info`
        IMPORT_REPORT_KEY: " | ".join(network.report.messages),
    }
    if out.exists():
        old = read_workspace(out, include_roads=False)
        meta = {k: v for k, v in old.scenario.metadata.items() if k not in _OLD_ROADS_KEYS}
        if "roads_note" in old.scenario.metadata:  # a demo's "generated roads" note is stale now
            meta["roads_note"] = meta["roads_note_en"] = f"roads {roads_meta['roads']}"
        scenario = old.scenario.replace(road_network=ref, metadata={**meta, **roads_meta})
        if boundary is not None:
            scenario = scenario.replace(boundary=boundary)
        documents = old.documents
    else:
        scenario = Scenario(
            name=name,
            boundary=boundary,
            road_network=ref,
            metadata=roads_meta,
        )
    scenario, documents = _with_standard_catalogue(scenario, documents)
    nodes, edges = network.to_frames()
    write_workspace(out, scenario, road_nodes=nodes, road_edges=edges, documents=documents)
    progress(1.0, "done")
    return {
        "workspace": str(out),
        "nodes": int(network.n_nodes),
        "edges": int(network.n_edges),
        "dropped_nodes": int(network.report.dropped_nodes),
        "dropped_edges": int(network.report.dropped_edges),
        "messages": list(network.report.messages),
    }


def _with_standard_catalogue(
    scenario: Scenario, documents: Mapping[str, Mapping[str, str]] | None
) -> tuple[Scenario, dict[str, dict[str, str]]]:
    """The bundled material catalogue and 预案 templates where the workspace has none (a
    workspace made by ``import-osm`` starts with them, like 文件 → 新建 in the app)."""
    from gis.catalogue import PLAN_TEMPLATES_JSON, load_materials

    docs = {str(k): dict(v) for k, v in (documents or {}).items()}
    if not scenario.materials:
        scenario = scenario.replace(materials=tuple(load_materials()))
    if not docs.get("plan_templates"):
        docs["plan_templates"] = {"default": PLAN_TEMPLATES_JSON.read_text(encoding="utf-8")}
    return scenario, docs


def read_boundary(path: Path) -> Any:
    """Union of a GeoJSON's polygons in WGS-84 (reprojected if the file says another CRS).

    Every problem is one line naming the file and, for a bad feature, its row (1-based):
    NaN or infinite coordinates, no polygon, an outline GEOS cannot repair.
    """
    import warnings

    import geopandas as gpd
    import shapely

    spath = str(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL/GEOS chatter: errors below say it
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:
            raise WorkspaceError(f"cannot read boundary: {_one_line(exc)}", path=spath) from None
        if gdf.empty:
            raise WorkspaceError("boundary file has no features", path=spath)
        for row, geom in enumerate(gdf.geometry, start=1):
            if geom is None or geom.is_empty:
                continue
            if not np.isfinite(shapely.get_coordinates(geom)).all():
                raise WorkspaceError(
                    "boundary geometry has NaN or infinite coordinates",
                    path=spath,
                    row=row,
                    column="geometry",
                )
        try:
            if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
                gdf = gdf.to_crs(4326)
            geom = shapely.make_valid(gdf.geometry.union_all())
            polys = [
                g
                for g in getattr(geom, "geoms", [geom])
                if g.geom_type in ("Polygon", "MultiPolygon")
            ]
            if not polys:
                raise WorkspaceError("boundary file has no polygon", path=spath)
            return shapely.union_all(polys)
        except WorkspaceError:
            raise
        except Exception as exc:  # GEOS or PROJ: a multi-line message without the file
            raise WorkspaceError(f"cannot use the boundary: {_one_line(exc)}", path=spath) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --------------------------------------------------------------------------------------------
# Matrix command
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointSet:
    ids: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray


def read_points_csv(path: Path, prefix: str) -> PointSet:
    """Points from a CSV of ``lon,lat`` with an optional header and optional ``id`` column.

    The file is read as UTF-8 (with or without BOM), else as GB18030 (what Chinese Excel saves).
    Ids, when given, must be non-empty and unique; every error names the file and row.
    """
    ids: list[str] = []
    lons: list[float] = []
    lats: list[float] = []
    seen: dict[str, int] = {}
    raw = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any byte string
        raise WorkspaceError("not a text CSV (neither UTF-8 nor GB18030)", path=str(path))
    if "\x00" in text:
        raise WorkspaceError("not a text CSV (contains NUL bytes)", path=str(path))
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    try:
        rows.extend(reader)
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (131,072 characters)
        raise WorkspaceError(
            f"unreadable CSV line: {_one_line(exc)}", path=str(path), row=reader.line_num
        ) from None
    if not rows:
        raise WorkspaceError("CSV is empty (expected lon,lat rows)", path=str(path))
    header = [c.strip().lower() for c in rows[0]]
    has_header = "lon" in header and "lat" in header
    if has_header:
        ilon, ilat = header.index("lon"), header.index("lat")
        iid = header.index("id") if "id" in header else None
        body = rows[1:]
    else:
        ilon, ilat, iid = 0, 1, None
        body = rows
        try:
            float(rows[0][0]), float(rows[0][1])
        except (IndexError, ValueError):
            raise WorkspaceError(
                f"the header must name columns lon and lat (optional id), got {rows[0]!r}",
                path=str(path),
                row=1,
            ) from None
    for n, row in enumerate(body, start=2 if has_header else 1):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            lon = float(row[ilon])
            lat = float(row[ilat])
        except (IndexError, ValueError):
            raise WorkspaceError(
                f"expected numbers in columns lon,lat, got {row!r}", path=str(path), row=n
            ) from None
        if not (
            math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        ):
            raise WorkspaceError(f"coordinate out of range: {lon}, {lat}", path=str(path), row=n)
        if iid is not None:
            pid = row[iid].strip() if iid < len(row) else ""
            if not pid:
                raise WorkspaceError("empty id", path=str(path), row=n, column="id")
            if pid in seen:
                raise WorkspaceError(
                    f"duplicate id {pid!r} (first on row {seen[pid]})",
                    path=str(path),
                    row=n,
                    column="id",
                )
            seen[pid] = n
        else:
            pid = f"{prefix}{len(ids) + 1}"
        ids.append(pid)
        lons.append(lon)
        lats.append(lat)
    if not ids:
        raise WorkspaceError("CSV has no points", path=str(path))
    return PointSet(tuple(ids), np.asarray(lons), np.asarray(lats))


def _entity_points(entities: Sequence[Any]) -> PointSet:
    return PointSet(
        tuple(e.id for e in entities),
        np.asarray([e.location.lon for e in entities], dtype=float),
        np.asarray([e.location.lat for e in entities], dtype=float),
    )


def matrix_csv(
    workspace: Path,
    out: Path,
    *,
    sources_csv: Path | None = None,
    targets_csv: Path | None = None,
    max_offroad_m: float = MAX_OFFROAD_M,
) -> str:
    """Write a seconds matrix CSV; returns a one-line report (size, unreachable pairs, snaps).

    Times include the straight off-road leg from each point to its nearest road node at
    walking pace; a point farther than ``max_offroad_m`` from any road (typically a wrong
    coordinate or coordinate system) is unreachable instead: its row or column stays empty.
    """
    if not (math.isfinite(max_offroad_m) and max_offroad_m >= 0):
        raise WorkspaceError(f"max off-road distance must be ≥ 0 m, got {max_offroad_m!r}")
    from gis.matrix import DEFAULT_OFFROAD_KMH, TravelTimeEngine

    ws = open_workspace(workspace)
    scenario: Scenario = ws.scenario
    network = load_road_network(workspace, scenario)
    if network is None:
        raise WorkspaceError(
            "workspace has no road network (run import-osm first)", path=str(workspace)
        )
    if sources_csv is not None:
        sources = read_points_csv(sources_csv, "S")
    else:
        sources = _entity_points([*scenario.stockpiles, *scenario.teams])
    if targets_csv is not None:
        targets = read_points_csv(targets_csv, "T")
    else:
        targets = _entity_points([*scenario.incidents, *scenario.shelters])
    if not sources.ids:
        raise WorkspaceError(
            "no sources: the workspace has no stockpiles or teams", path=str(workspace)
        )
    if not targets.ids:
        raise WorkspaceError(
            "no targets: the workspace has no incidents or shelters", path=str(workspace)
        )
    out = Path(out)
    if out.is_dir():
        raise WorkspaceError("output is a directory, expected a CSV file name", path=str(out))
    if not out.parent.is_dir():
        raise WorkspaceError("output folder does not exist", path=str(out))
    engine = TravelTimeEngine(network, scenario.closures)
    # seconds only (the CSV has no metres): the contraction-hierarchy backend can answer
    m = engine.matrix_lonlat(sources.lon, sources.lat, targets.lon, targets.lat, metres=False)
    assert m.source_snap is not None and m.target_snap is not None
    off_s = m.source_snap.distance_m > max_offroad_m
    off_t = m.target_snap.distance_m > max_offroad_m
    reachable = m.reachable & ~off_s[:, None] & ~off_t[None, :]
    tmp = out.with_name(out.name + ".tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["source", *targets.ids])
            for i, sid in enumerate(sources.ids):
                cells = (str(int(s)) if ok else "" for s, ok in zip(m.seconds[i], reachable[i]))
                w.writerow([sid, *cells])
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    n_unreach = int((~reachable).sum())
    report = (
        f"wrote {out}: {len(sources.ids)}×{len(targets.ids)} seconds, "
        f"{n_unreach} unreachable pair(s)"
    )
    off = far_snaps(sources, m.source_snap, off_s) + far_snaps(targets, m.target_snap, off_t)
    if off:
        shown = ", ".join(off[:5]) + (f" and {len(off) - 5} more" if len(off) > 5 else "")
        report += (
            f"; {len(off)} point(s) farther than {max_offroad_m:,.0f} m from any road, "
            f"unreachable (check the coordinates and their system): {shown}"
        )
    far = far_snaps(sources, m.source_snap, ~off_s) + far_snaps(targets, m.target_snap, ~off_t)
    if far:
        limit = m.source_snap.snap_warn_m if m.source_snap is not None else 500.0
        shown = ", ".join(far[:5]) + (f" and {len(far) - 5} more" if len(far) > 5 else "")
        report += (
            f"; {len(far)} point(s) farther than {limit:,.0f} m from a road "
            f"(times include an off-road leg at {DEFAULT_OFFROAD_KMH:g} km/h): {shown}"
        )
    return report


def far_snaps(points: PointSet, snap: Any, among: np.ndarray | None = None) -> list[str]:
    """``"id (distance m)"`` of each point whose snap is flagged (farther than the warning
    limit), optionally only ``among`` a mask of the points."""
    if snap is None:
        return []
    mask = snap.flagged if among is None else snap.flagged & among
    return [
        f"{pid} ({dist:,.0f} m)" for pid, dist, f in zip(points.ids, snap.distance_m, mask) if f
    ]


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


__all__ = [
    "IMPORT_REPORT_KEY",
    "ReliefDeskError",
    "download_roads",
    "import_osm",
    "load_road_network",
    "matrix_csv",
    "open_workspace",
    "read_boundary",
    "read_points_csv",
    "workspace_info",
]
