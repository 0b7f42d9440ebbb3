"""The workspace file: one GeoPackage per county workspace.

A workspace holds a :class:`gis.model.Scenario`, optionally the road network frames (stored
verbatim) and free JSON documents (plans, event log, templates...). It is an ordinary GeoPackage
that QGIS, ``ogrinfo`` and any GDAL tool can open.

File layout (schema version :data:`SCHEMA_VERSION`)
---------------------------------------------------
Every spatial layer is in EPSG:4326 (WGS-84 lon/lat).

=================== ============== ==========================================================
layer               geometry       columns
=================== ============== ==========================================================
``reliefdesk_meta`` (attributes)   key, value — ``schema_version``, ``scenario_name``,
                                   ``road_network_kind/source/hash/note``, ``saved_at`` and
                                   one ``metadata.<key>`` row per Scenario.metadata entry
``boundary``        GEOMETRY       name (0 or 1 row; Polygon or MultiPolygon)
``townships``       Point          code, name, population, location_source
``stockpiles``      Point          id, name, level, township_code, contact
``shelters``        Point          id, name, setting, shelter_class, capacity, occupancy,
                                   township_code
``teams``           Point          id, name, force_type, headcount, status, leader, phone
``incidents``       Point          id, name, category, subtype, level (1..4), reported_at
                                   (ISO 8601 text), affected_people, deadline_min, status,
                                   description, township_code
``hazards``         GEOMETRY       id, name, category, risk_level, description
``closures``        GEOMETRY       id, reason, radius_m, speed_factor, since, until (ISO text)
``materials``       (attributes)   code, name_zh, name_en, unit, unit_weight_kg,
                                   unit_volume_m3, category, divisible
``inventory``       (attributes)   stockpile_id, material, quantity, safety_stock (NULL =
                                   the material is absent from that mapping)
``shelter_stock``   (attributes)   shelter_id, material, quantity
``incident_needs``  (attributes)   incident_id, material, quantity
``incident_skills`` (attributes)   incident_id, skill, headcount
``team_skills``     (attributes)   team_id, skill (row order = skill order)
``vehicles``        (attributes)   id, home_id, home_layer (stockpiles/teams), kind,
                                   capacity_kg, capacity_m3, name, speed_factor
``documents``       (attributes)   kind, doc_id, json
``road_nodes``      Point          node_id (int64) — only when a road network is stored
``road_edges``      LineString     u, v (int64), oneway (bool), highway, name, ref (text),
                                   maxspeed_kmh (float, NULL allowed), length_m (float),
                                   bridge (bool)
=================== ============== ==========================================================

Decisions
---------
* Hazards (Point, Polygon or MultiPolygon), closures (Point, line or polygon) and the boundary
  live in one layer each of geometry type ``GEOMETRY`` ("Unknown"), so each row keeps its own
  type and a round trip is exact. QGIS shows such a layer split by geometry type.
* An invalid polygon (e.g. self-intersecting, as QGIS lets one draw) is repaired with
  :func:`shapely.make_valid` and reported in :attr:`Workspace.warnings`; a geometry that cannot be
  repaired into an allowed type, an empty geometry or a NaN coordinate is an error.
* A layer in another CRS (EPSG:3857, EPSG:4490 (CGCS2000)...) is reprojected to EPSG:4326 with a
  warning; a layer without a CRS is taken as EPSG:4326 with a warning.
* Errors are :class:`gis.errors.WorkspaceError`; ``row`` is the feature id (``fid``) that QGIS
  shows, ``column`` the field name (``"geometry"`` for the geometry).
* Saving is atomic: all layers go to a temporary file in the target's directory
  (``.NAME.<pid>-<random>.reliefdesk-tmp.gpkg``), which is fsync'ed and moved over the target
  with :func:`os.replace` (then the directory is fsync'ed). A crash or ``kill -9`` mid-save
  leaves the previous file intact; temporary files left by a killed save (their process is
  gone) are removed by the next save of that file. SQLite side files of the old file (``-wal``
  left by QGIS, a hot ``-journal``) are folded back and removed so they are never replayed into
  the new file. Saving through a symlink replaces the file it points to.
* Entity layers are read with ``pyogrio.raw.read`` and the attribute tables through one
  read-only ``sqlite3`` connection (GDAL reopening the file per table costs ~15 ms each); all
  writing goes through pyogrio/GDAL.
* Lenient where QGIS editing makes it harmless: numbers typed as text (``"300"``), codes typed
  as numbers, levels as ``"II"``/``"Ⅲ"``/``"3级"``, single-part MultiPoints, missing optional
  columns (defaults), extra columns (ignored). Text containing NUL cannot be stored (GeoPackage
  text is C strings): :func:`write_workspace` refuses it, naming layer, row and column.
* :attr:`Workspace.warnings` = file warnings (reprojection, repairs, skipped documents) followed
  by :func:`validate_scenario` — callers need not call it again on a freshly read workspace.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from gis.errors import ValidationError, WorkspaceError
from gis.model import (
    ROAD_EDGE_COLUMNS,
    ROAD_NODE_COLUMNS,
    Hazard,
    Incident,
    IncidentStatus,
    Location,
    Material,
    RoadClosure,
    RoadNetworkRef,
    Scenario,
    Shelter,
    Stockpile,
    Team,
    Township,
    Vehicle,
)

__all__ = [
    "SCHEMA_VERSION",
    "Workspace",
    "write_workspace",
    "read_workspace",
    "read_road_frames",
    "validate_scenario",
]

#: Version of the file layout written by this module. Files with a higher version are refused.
SCHEMA_VERSION: int = 1

META_TABLE = "reliefdesk_meta"
ROAD_NODES = "road_nodes"
ROAD_EDGES = "road_edges"
WGS84 = "EPSG:4326"


_TEMP_SUFFIX = ".reliefdesk-tmp.gpkg"
_STALE_TEMP_AGE_S = 6 * 3600.0


# --------------------------------------------------------------------------------------------
# Public result type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Workspace:
    """What :func:`read_workspace` returns.

    Compared by identity (``eq=False``): GeoDataFrames have no single truth value, so a
    field-wise ``==`` would raise. Compare ``.scenario`` (a value) instead.

    Attributes
    ----------
    path
        The file read (``None`` for a workspace not yet saved).
    scenario
        The county's resources and incidents.
    road_nodes, road_edges
        The road network frames (schema in :data:`ROAD_NODE_COLUMNS` / :data:`ROAD_EDGE_COLUMNS`),
        or ``None`` when the file holds none or ``include_roads=False``.
    documents
        ``kind -> {doc_id: JSON text}``: plans, the event log, templates...
    warnings
        Problems found on read that did not stop it (reprojected layers, repaired geometry,
        skipped documents), followed by :func:`validate_scenario`'s planner warnings.
    """

    path: Path | None
    scenario: Scenario
    road_nodes: gpd.GeoDataFrame | None = None
    road_edges: gpd.GeoDataFrame | None = None
    documents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Layer schema
# --------------------------------------------------------------------------------------------

# kinds: "text" (NULL → ""), "int", "float", "float?" (NULL allowed → NaN), "qty"/"qty?" (like
# float/float? but ≥ 0, checked here so the error names the related table's row), "bool", "time",
# "time?" (NULL/"" → None), "level" (1..4 or I..IV text, left to the model to parse)
_Spec = tuple[tuple[str, str, bool], ...]  # (column, kind, required)


def _cols(*items: tuple[str, str] | tuple[str, str, bool]) -> _Spec:
    return tuple((c[0], c[1], c[2] if len(c) > 2 else True) for c in items)  # type: ignore[misc]


_SPATIAL: dict[str, tuple[str, _Spec]] = {
    "boundary": ("Unknown", _cols(("name", "text", False))),
    "townships": (
        "Point",
        _cols(
            ("code", "text"),
            ("name", "text"),
            ("population", "int", False),
            ("location_source", "text", False),
        ),
    ),
    "stockpiles": (
        "Point",
        _cols(
            ("id", "text"),
            ("name", "text"),
            ("level", "text"),
            ("township_code", "text", False),
            ("contact", "text", False),
        ),
    ),
    "shelters": (
        "Point",
        _cols(
            ("id", "text"),
            ("name", "text"),
            ("setting", "text"),
            ("shelter_class", "text"),
            ("capacity", "int"),
            ("occupancy", "int", False),
            ("township_code", "text", False),
        ),
    ),
    "teams": (
        "Point",
        _cols(
            ("id", "text"),
            ("name", "text"),
            ("force_type", "text"),
            ("headcount", "int"),
            ("status", "text", False),
            ("leader", "text", False),
            ("phone", "text", False),
        ),
    ),
    "incidents": (
        "Point",
        _cols(
            ("id", "text"),
            ("name", "text"),
            ("category", "text"),
            ("subtype", "text"),
            ("level", "level"),
            ("reported_at", "time"),
            ("affected_people", "int", False),
            ("deadline_min", "float", False),
            ("status", "text", False),
            ("description", "text", False),
            ("township_code", "text", False),
        ),
    ),
    "hazards": (
        "Unknown",
        _cols(
            ("id", "text"),
            ("name", "text"),
            ("category", "text"),
            ("risk_level", "level"),
            ("description", "text", False),
        ),
    ),
    "closures": (
        "Unknown",
        _cols(
            ("id", "text"),
            ("reason", "text", False),
            ("radius_m", "float", False),
            ("speed_factor", "float", False),
            ("since", "time?", False),
            ("until", "time?", False),
        ),
    ),
}

_TABLES: dict[str, _Spec] = {
    META_TABLE: _cols(("key", "text"), ("value", "text")),
    "materials": _cols(
        ("code", "text"),
        ("name_zh", "text"),
        ("name_en", "text", False),
        ("unit", "text"),
        ("unit_weight_kg", "float"),
        ("unit_volume_m3", "float"),
        ("category", "text"),
        ("divisible", "bool", False),
    ),
    "inventory": _cols(
        ("stockpile_id", "text"),
        ("material", "text"),
        ("quantity", "qty?"),
        ("safety_stock", "qty?"),
    ),
    "shelter_stock": _cols(("shelter_id", "text"), ("material", "text"), ("quantity", "qty")),
    "incident_needs": _cols(("incident_id", "text"), ("material", "text"), ("quantity", "qty")),
    "incident_skills": _cols(("incident_id", "text"), ("skill", "text"), ("headcount", "int")),
    "team_skills": _cols(("team_id", "text"), ("skill", "text")),
    "vehicles": _cols(
        ("id", "text"),
        ("home_id", "text"),
        ("home_layer", "text", False),
        ("kind", "text"),
        ("capacity_kg", "float"),
        ("capacity_m3", "float"),
        ("name", "text", False),
        ("speed_factor", "float", False),
    ),
    "documents": _cols(("kind", "text"), ("doc_id", "text"), ("json", "text")),
}

_DEFAULTS: dict[tuple[str, str], Any] = {
    ("townships", "population"): 0,
    ("shelters", "occupancy"): 0,
    ("teams", "status"): "待命",
    ("incidents", "affected_people"): 0,
    ("incidents", "deadline_min"): 120.0,
    ("incidents", "status"): IncidentStatus.REPORTED.value,
    ("closures", "radius_m"): 50.0,
    ("closures", "speed_factor"): 0.0,
    ("materials", "divisible"): False,
    ("vehicles", "speed_factor"): 1.0,
}

_ALLOWED_GEOMS: dict[str, tuple[str, ...]] = {
    "boundary": ("Polygon", "MultiPolygon"),
    "townships": ("Point",),
    "stockpiles": ("Point",),
    "shelters": ("Point",),
    "teams": ("Point",),
    "incidents": ("Point",),
    "hazards": ("Point", "Polygon", "MultiPolygon"),
    "closures": ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"),
}

_DTYPE_OF_KIND = {
    "text": object,
    "int": "int64",
    "float": "float64",
    "float?": "float64",
    "qty": "float64",
    "qty?": "float64",
    "bool": "bool",
    "time": object,
    "time?": object,
    "level": "int64",
}


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _frame(
    spec: _Spec, rows: list[dict[str, Any]], layer: str = "", path: str | None = None
) -> pd.DataFrame:
    data = {}
    for col, kind, _req in spec:
        values = [r[col] for r in rows]
        if kind == "text":
            for i, v in enumerate(values):
                if isinstance(v, str) and "\x00" in v:
                    raise WorkspaceError(
                        f"text {v!r} contains a NUL character, which GeoPackage text cannot hold",
                        path=path,
                        layer=layer or None,
                        row=i + 1,
                        column=col,
                    )
        data[col] = pd.Series(values, dtype=_DTYPE_OF_KIND[kind])
    return pd.DataFrame(data)


def _geo_frame(
    layer: str, rows: list[dict[str, Any]], geoms: list[BaseGeometry], path: str | None = None
) -> gpd.GeoDataFrame:
    _gtype, spec = _SPATIAL[layer]
    df = _frame(spec, rows, layer, path)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=WGS84))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _pt(loc: Location) -> BaseGeometry:
    return shapely.Point(loc.lon, loc.lat)


def _scenario_frames(
    scenario: Scenario, documents: Mapping[str, Mapping[str, str]], path: str | None = None
) -> dict[str, pd.DataFrame]:
    """Build every layer of the file (except the road layers) as a (Geo)DataFrame."""
    s = scenario
    frame = functools.partial(_frame, path=path)
    geo_frame = functools.partial(_geo_frame, path=path)
    out: dict[str, pd.DataFrame] = {}
    meta = [
        ("schema_version", str(SCHEMA_VERSION)),
        ("scenario_name", s.name),
        ("road_network_kind", s.road_network.kind),
        ("road_network_source", s.road_network.source),
        ("road_network_hash", s.road_network.content_hash),
        ("road_network_note", s.road_network.note),
        ("saved_at", datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    meta += [(f"metadata.{k}", v) for k, v in s.metadata.items()]
    out[META_TABLE] = frame(
        _TABLES[META_TABLE], [{"key": k, "value": v} for k, v in meta], META_TABLE
    )

    boundary = [] if s.boundary is None else [s.boundary]
    out["boundary"] = geo_frame("boundary", [{"name": s.name} for _ in boundary], boundary)
    out["townships"] = geo_frame(
        "townships",
        [
            {
                "code": t.code,
                "name": t.name,
                "population": t.population,
                "location_source": t.location_source,
            }
            for t in s.townships
        ],
        [_pt(t.location) for t in s.townships],
    )
    out["stockpiles"] = geo_frame(
        "stockpiles",
        [
            {
                "id": p.id,
                "name": p.name,
                "level": p.level.value,
                "township_code": p.township_code,
                "contact": p.contact,
            }
            for p in s.stockpiles
        ],
        [_pt(p.location) for p in s.stockpiles],
    )
    out["shelters"] = geo_frame(
        "shelters",
        [
            {
                "id": h.id,
                "name": h.name,
                "setting": h.setting.value,
                "shelter_class": h.shelter_class.value,
                "capacity": h.capacity,
                "occupancy": h.occupancy,
                "township_code": h.township_code,
            }
            for h in s.shelters
        ],
        [_pt(h.location) for h in s.shelters],
    )
    out["teams"] = geo_frame(
        "teams",
        [
            {
                "id": t.id,
                "name": t.name,
                "force_type": t.force_type.value,
                "headcount": t.headcount,
                "status": t.status.value,
                "leader": t.leader,
                "phone": t.phone,
            }
            for t in s.teams
        ],
        [_pt(t.location) for t in s.teams],
    )
    out["incidents"] = geo_frame(
        "incidents",
        [
            {
                "id": i.id,
                "name": i.name,
                "category": i.category.value,
                "subtype": i.subtype,
                "level": i.level,
                "reported_at": _iso(i.reported_at),
                "affected_people": i.affected_people,
                "deadline_min": i.deadline_min,
                "status": i.status.value,
                "description": i.description,
                "township_code": i.township_code,
            }
            for i in s.incidents
        ],
        [_pt(i.location) for i in s.incidents],
    )
    out["hazards"] = geo_frame(
        "hazards",
        [
            {
                "id": h.id,
                "name": h.name,
                "category": h.category,
                "risk_level": h.risk_level,
                "description": h.description,
            }
            for h in s.hazards
        ],
        [h.geometry for h in s.hazards],
    )
    out["closures"] = geo_frame(
        "closures",
        [
            {
                "id": c.id,
                "reason": c.reason,
                "radius_m": c.radius_m,
                "speed_factor": c.speed_factor,
                "since": _iso(c.since),
                "until": _iso(c.until),
            }
            for c in s.closures
        ],
        [c.geometry for c in s.closures],
    )
    out["materials"] = frame(
        _TABLES["materials"],
        layer="materials",
        rows=[
            {
                "code": m.code,
                "name_zh": m.name_zh,
                "name_en": m.name_en,
                "unit": m.unit,
                "unit_weight_kg": m.unit_weight_kg,
                "unit_volume_m3": m.unit_volume_m3,
                "category": m.category,
                "divisible": m.divisible,
            }
            for m in s.materials
        ],
    )
    inventory = []
    for p in s.stockpiles:
        codes = list(p.inventory) + [c for c in p.safety_stock if c not in p.inventory]
        for code in codes:
            inventory.append(
                {
                    "stockpile_id": p.id,
                    "material": code,
                    "quantity": float(p.inventory.get(code, math.nan)),
                    "safety_stock": float(p.safety_stock.get(code, math.nan)),
                }
            )
    out["inventory"] = frame(_TABLES["inventory"], layer="inventory", rows=inventory)
    out["shelter_stock"] = frame(
        _TABLES["shelter_stock"],
        layer="shelter_stock",
        rows=[
            {"shelter_id": h.id, "material": code, "quantity": float(q)}
            for h in s.shelters
            for code, q in h.stock.items()
        ],
    )
    out["incident_needs"] = frame(
        _TABLES["incident_needs"],
        layer="incident_needs",
        rows=[
            {"incident_id": i.id, "material": code, "quantity": float(q)}
            for i in s.incidents
            for code, q in i.needs.items()
        ],
    )
    out["incident_skills"] = frame(
        _TABLES["incident_skills"],
        layer="incident_skills",
        rows=[
            {"incident_id": i.id, "skill": skill, "headcount": n}
            for i in s.incidents
            for skill, n in i.required_skills.items()
        ],
    )
    out["team_skills"] = frame(
        _TABLES["team_skills"],
        layer="team_skills",
        rows=[{"team_id": t.id, "skill": skill} for t in s.teams for skill in t.skills],
    )
    vehicles = []
    for layer, owners in (("stockpiles", s.stockpiles), ("teams", s.teams)):
        for owner in owners:
            for v in owner.vehicles:
                vehicles.append(
                    {
                        "id": v.id,
                        "home_id": v.home_id,
                        "home_layer": layer,
                        "kind": v.kind,
                        "capacity_kg": v.capacity_kg,
                        "capacity_m3": v.capacity_m3,
                        "name": v.name,
                        "speed_factor": v.speed_factor,
                    }
                )
    out["vehicles"] = frame(_TABLES["vehicles"], layer="vehicles", rows=vehicles)
    out["documents"] = frame(
        _TABLES["documents"],
        layer="documents",
        rows=[
            {"kind": kind, "doc_id": doc_id, "json": text}
            for kind, docs in documents.items()
            for doc_id, text in docs.items()
        ],
    )
    return out


def _check_documents(
    documents: Mapping[str, Mapping[str, str]] | None, path: str
) -> dict[str, dict[str, str]]:
    if documents is None:
        return {}
    if not isinstance(documents, Mapping):
        raise WorkspaceError(
            f"documents must be a mapping kind -> {{doc_id: JSON text}}, got {type(documents).__name__}",
            path=path,
            layer="documents",
        )
    out: dict[str, dict[str, str]] = {}
    for kind, docs in documents.items():
        if not isinstance(kind, str) or not kind:
            raise WorkspaceError(
                f"document kind {kind!r} must be non-empty text",
                path=path,
                layer="documents",
                column="kind",
            )
        if not isinstance(docs, Mapping):
            raise WorkspaceError(
                f"documents[{kind!r}] must be a mapping doc_id -> JSON text, got "
                f"{type(docs).__name__}",
                path=path,
                layer="documents",
            )
        out[kind] = {}
        for doc_id, text in docs.items():
            where = f"documents[{kind!r}][{doc_id!r}]"
            if not isinstance(doc_id, str) or not doc_id:
                raise WorkspaceError(
                    f"{where}: doc_id must be non-empty text",
                    path=path,
                    layer="documents",
                    column="doc_id",
                )
            if not isinstance(text, str):
                raise WorkspaceError(
                    f"{where} must be JSON text, got {type(text).__name__}",
                    path=path,
                    layer="documents",
                    column="json",
                )
            try:
                json.loads(text)
            except ValueError as exc:
                raise WorkspaceError(
                    f"{where} is not valid JSON: {exc}", path=path, layer="documents", column="json"
                ) from None
            out[kind][doc_id] = text
    return out


def _coerce_road_frame(
    frame: Any, columns: Mapping[str, str], geom_type: str, layer: str, path: str
) -> gpd.GeoDataFrame:
    """Check a road frame against the schema; return it in EPSG:4326 with schema dtypes."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise WorkspaceError(
            f"must be a GeoDataFrame, got {type(frame).__name__}", path=path, layer=layer
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise WorkspaceError(
            f"missing column(s) {', '.join(missing)} (schema: {', '.join(columns)})",
            path=path,
            layer=layer,
            column=missing[0],
        )
    gdf = frame
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(WGS84)
    elif gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    gdf = gdf.copy()
    for col, dtype in columns.items():
        gdf[col] = _coerce_series(gdf[col], dtype, layer, path, fids=None)
    types = set(gdf.geometry.geom_type.dropna().unique())
    if types - {geom_type}:
        raise WorkspaceError(
            f"geometry must be {geom_type}, found {', '.join(sorted(types))}",
            path=path,
            layer=layer,
            column="geometry",
        )
    return gdf


def _coerce_series(
    series: pd.Series, dtype: str, layer: str, path: str, fids: np.ndarray | None
) -> pd.Series:
    """Cast a road-frame column to its schema dtype or raise WorkspaceError at the first bad row."""

    def fail(mask: np.ndarray, what: str) -> WorkspaceError:
        pos = int(np.flatnonzero(mask)[0])
        row = int(fids[pos]) if fids is not None else pos + 1  # the fid it would be written as
        return WorkspaceError(
            f"{what}, got {series.iloc[pos]!r}", path=path, layer=layer, row=row, column=series.name
        )

    if dtype == "str":
        if series.dtype != object and pd.api.types.is_string_dtype(series.dtype):
            return series.fillna("").astype(str)  # already text (pandas' str dtype): fast path
        values = series.astype(object)
        isna = pd.isna(values).to_numpy()
        bad = ~isna & ~np.array([isinstance(v, str) for v in values], dtype=bool)
        if bad.any():
            raise fail(bad, "expected text")
        out = values.where(~isna, "")
        return out.astype(str)
    if dtype == "bool":
        if series.dtype == bool:
            return series
        num = pd.to_numeric(series, errors="coerce")
        bad = ~num.isin([0, 1]).to_numpy()
        if bad.any():
            raise fail(bad, "expected a boolean (0/1)")
        return num.astype(bool)
    if dtype == "int64" and pd.api.types.is_integer_dtype(series.dtype):
        return series.astype("int64")  # exact, also beyond 2**53
    if dtype == "float64" and pd.api.types.is_float_dtype(series.dtype):
        return series.astype("float64")
    num = pd.to_numeric(series, errors="coerce")
    bad = (num.isna() & series.notna()).to_numpy()
    if bad.any():
        raise fail(bad, "expected a number")
    if dtype == "int64":
        arr = num.to_numpy(dtype="float64")
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise fail(bad, "expected a whole number")
        return num.astype("int64")
    return num.astype("float64")


def _temp_glob(target: Path) -> Iterable[Path]:
    prefix = f".{target.name}."
    for p in target.parent.iterdir():
        name = p.name
        if name.startswith(prefix) and _TEMP_SUFFIX in name:
            yield p


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":
        # os.kill(pid, 0) would terminate the process on Windows. There a temp file still
        # being written is open, so deleting it fails: report "not alive" and let unlink decide.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _cleanup_stale_temps(target: Path) -> list[Path]:
    """Remove temporary files left next to ``target`` by a save that was killed."""
    removed = []
    now = time.time()
    pattern = re.compile(
        re.escape(f".{target.name}.") + r"(\d+)-[0-9a-f]+" + re.escape(_TEMP_SUFFIX)
    )
    for p in _temp_glob(target):
        m = pattern.match(p.name)
        if not m:
            continue
        try:
            age = now - p.stat().st_mtime
        except OSError:
            continue
        if _pid_alive(int(m.group(1))) and age < _STALE_TEMP_AGE_S:
            continue  # a save in progress in another live process
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


_SIDECARS = ("-wal", "-shm", "-journal")


def _settle_old_file(target: Path) -> None:
    """Fold a previous file's SQLite side files back into it before it is replaced.

    QGIS (and any SQLite client) may leave ``X.gpkg-wal`` (write-ahead log) or a hot
    ``X.gpkg-journal`` next to the file. SQLite pairs these with whatever file bears the name,
    so after :func:`os.replace` they would be replayed into the *new* workspace and corrupt it.
    Reading the old file once lets SQLite recover it; a TRUNCATE checkpoint empties the WAL.
    Best effort: errors (a locked or broken old file) are ignored, the side files are removed
    after the replace in any case.
    """
    if not target.is_file():
        return
    if not any(Path(f"{target}{suffix}").exists() for suffix in ("-wal", "-journal")):
        return
    try:
        con = sqlite3.connect(target.resolve().as_uri() + "?mode=rw", uri=True, timeout=2.0)
    except sqlite3.Error:
        return
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error:
        pass
    finally:
        con.close()


def _remove_sidecars(target: Path) -> None:
    """Remove side files that belonged to the replaced file (see :func:`_settle_old_file`)."""
    for suffix in _SIDECARS:
        with contextlib.suppress(OSError):
            Path(f"{target}{suffix}").unlink()


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    # a file is opened for writing: Windows' FlushFileBuffers needs write access
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if directory else os.O_RDWR
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # Windows cannot open directories; os.replace is atomic there anyway
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


_SQLITE_FAST = {"OGR_SQLITE_SYNCHRONOUS": "OFF", "OGR_SQLITE_JOURNAL": "OFF"}
_fast_lock = threading.Lock()
_fast_users = 0
_fast_saved: dict[str, str | None] = {}


@contextlib.contextmanager
def _fast_sqlite() -> Iterator[None]:
    """Let GDAL skip SQLite's journal and per-commit fsyncs while filling the temp file.

    Safe because the temporary file is thrown away if anything fails, and it is fsync'ed as a
    whole before it replaces the target. Without this each layer costs ~150 ms of fsyncs on a
    busy disk. GDAL config options are process-wide: saves running in several threads share
    one setting (reference-counted) and the previous values come back after the last one.
    """
    global _fast_users
    with _fast_lock:
        if _fast_users == 0:
            _fast_saved.clear()
            _fast_saved.update({k: pyogrio.get_gdal_config_option(k) for k in _SQLITE_FAST})
            pyogrio.set_gdal_config_options(_SQLITE_FAST)
        _fast_users += 1
    try:
        yield
    finally:
        with _fast_lock:
            _fast_users -= 1
            if _fast_users == 0:
                pyogrio.set_gdal_config_options(dict(_fast_saved))


def _write_layers(
    tmp: Path,
    frames: Mapping[str, pd.DataFrame],
    nodes: gpd.GeoDataFrame | None,
    edges: gpd.GeoDataFrame | None,
) -> None:
    for layer, frame in frames.items():
        if isinstance(frame, gpd.GeoDataFrame):
            pyogrio.write_dataframe(
                frame,
                tmp,
                layer=layer,
                driver="GPKG",
                geometry_type=_SPATIAL[layer][0],
                promote_to_multi=False,
            )
        else:
            pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
    if nodes is not None and edges is not None:
        pyogrio.write_dataframe(nodes, tmp, layer=ROAD_NODES, driver="GPKG", geometry_type="Point")
        pyogrio.write_dataframe(
            edges, tmp, layer=ROAD_EDGES, driver="GPKG", geometry_type="LineString"
        )


def write_workspace(
    path: str | os.PathLike[str],
    scenario: Scenario,
    *,
    road_nodes: gpd.GeoDataFrame | None = None,
    road_edges: gpd.GeoDataFrame | None = None,
    documents: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Save a workspace atomically.

    Parameters
    ----------
    path
        Target ``.gpkg`` file; replaced if it exists. Its directory must exist.
    scenario
        The scenario to store.
    road_nodes, road_edges
        Road network frames (both or neither), stored verbatim in layers ``road_nodes`` and
        ``road_edges``. Required columns are listed in :data:`ROAD_NODE_COLUMNS` and
        :data:`ROAD_EDGE_COLUMNS`; extra columns are kept. Frames in another CRS are reprojected.
    documents
        ``kind -> {doc_id: JSON text}``; every text must parse as JSON.

    Raises
    ------
    WorkspaceError
        Bad arguments, or the file cannot be written (the previous file is then untouched).
    """
    target = Path(path)
    spath = str(target)
    if target.is_symlink():  # replace the file the link points to, keep the link
        target = Path(os.path.realpath(target))
    if not isinstance(scenario, Scenario):
        raise WorkspaceError(f"expected a Scenario, got {type(scenario).__name__}", path=spath)
    if (road_nodes is None) != (road_edges is None):
        raise WorkspaceError("road_nodes and road_edges must be given together", path=spath)
    docs = _check_documents(documents, spath)
    nodes = edges = None
    if road_nodes is not None:
        nodes = _coerce_road_frame(road_nodes, ROAD_NODE_COLUMNS, "Point", ROAD_NODES, spath)
        edges = _coerce_road_frame(road_edges, ROAD_EDGE_COLUMNS, "LineString", ROAD_EDGES, spath)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise WorkspaceError(f"directory {directory} does not exist", path=spath)
    if target.exists() and target.is_dir():
        raise WorkspaceError("is a directory", path=spath)

    frames = _scenario_frames(scenario, docs, spath)
    _cleanup_stale_temps(target)
    tmp = directory / f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}{_TEMP_SUFFIX}"
    try:
        with _fast_sqlite():
            _write_layers(tmp, frames, nodes, edges)
        _fsync_path(tmp)
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o7777)
        _settle_old_file(target)
        os.replace(tmp, target)
        _remove_sidecars(target)
    except BaseException as exc:
        for p in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with contextlib.suppress(OSError):
                p.unlink()
        if isinstance(exc, WorkspaceError | KeyboardInterrupt | SystemExit):
            raise
        if isinstance(exc, Exception):
            raise WorkspaceError(f"cannot write workspace: {exc}", path=spath) from exc
        raise
    _fsync_path(directory, directory=True)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APP_IDS = {b"GPKG", b"GP10", b"GP11"}


def _check_file(path: Path) -> None:
    spath = str(path)
    if not path.exists():
        raise WorkspaceError("file not found", path=spath)
    if path.is_dir():
        raise WorkspaceError("is a directory, not a GeoPackage file", path=spath)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise WorkspaceError(f"cannot open: {exc.strerror or exc}", path=spath) from None
    if size == 0:
        raise WorkspaceError("the file is empty (0 bytes), not a GeoPackage", path=spath)
    if len(header) < 100 or header[:16] != _SQLITE_MAGIC:
        raise WorkspaceError(
            "not a GeoPackage (no SQLite header; is it a text or another kind of file?)",
            path=spath,
        )
    if header[68:72] not in _GPKG_APP_IDS:
        raise WorkspaceError(
            "an SQLite database but not a GeoPackage (application_id is not 'GPKG')", path=spath
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    n_pages = int.from_bytes(header[28:32], "big")
    valid_for = int.from_bytes(header[92:96], "big")
    change_counter = int.from_bytes(header[24:28], "big")
    if n_pages and valid_for == change_counter and size < page_size * n_pages:
        raise WorkspaceError(
            f"the file is truncated ({size} bytes, its header says {page_size * n_pages}); "
            "it was probably copied or downloaded incompletely",
            path=spath,
        )


class _Reader:
    """Reads layers of one file, collecting warnings and raising located WorkspaceErrors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spath = str(path)
        self.warnings: list[str] = []
        try:
            listed = pyogrio.list_layers(path)
        except Exception as exc:
            raise WorkspaceError(f"cannot open as a GeoPackage: {exc}", path=self.spath) from None
        self.layers = {str(name): gtype for name, gtype in listed}
        self._con: sqlite3.Connection | None = None

    def error(
        self,
        message: str,
        layer: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> WorkspaceError:
        return WorkspaceError(message, path=self.spath, layer=layer, row=row, column=column)

    def require_layer(self, layer: str) -> None:
        if layer not in self.layers:
            raise self.error(
                "layer is missing (was the file written by ReliefDesk, or was a layer deleted?)",
                layer=layer,
            )

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _sqlite(self) -> sqlite3.Connection:
        if self._con is None:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            try:
                self._con = sqlite3.connect(uri, uri=True)
            except sqlite3.Error as exc:
                raise self.error(f"cannot open: {exc}") from None
        return self._con

    def read(self, layer: str, spatial: bool) -> pd.DataFrame:
        """A whole layer as a (Geo)DataFrame indexed by fid (used for the road layers)."""
        self.require_layer(layer)
        try:
            df = pyogrio.read_dataframe(
                self.path, layer=layer, fid_as_index=True, read_geometry=spatial
            )
        except Exception as exc:
            raise self.error(f"cannot read layer: {exc}", layer=layer) from None
        if spatial and not isinstance(df, gpd.GeoDataFrame):
            raise self.error("layer has no geometry column", layer=layer, column="geometry")
        return df

    def attributes(self, layer: str) -> tuple[list[int], dict[str, list[Any]]]:
        """Raw rows of a GeoPackage attribute table, in fid order (one SQLite connection for all:
        ~1 ms per table where opening the file through GDAL again costs ~15 ms)."""
        self.require_layer(layer)
        con = self._sqlite()
        quoted = '"' + layer.replace('"', '""') + '"'
        try:
            info = con.execute(f"PRAGMA table_info({quoted})").fetchall()
            pks = [r[1] for r in info if r[5]]
            if len(pks) == 1:
                fid_col = pks[0]
                select = (
                    f'SELECT * FROM {quoted} ORDER BY "{fid_col.replace(chr(34), chr(34) * 2)}"'
                )
            else:
                fid_col = None
                select = f"SELECT * FROM {quoted}"
            cursor = con.execute(select)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise self.error(f"cannot read layer: {exc}", layer=layer) from None
        if fid_col is not None:
            k = names.index(fid_col)
            fids = [int(r[k]) for r in rows]
        else:
            k = -1
            fids = list(range(1, len(rows) + 1))
        columns = {n: [r[j] for r in rows] for j, n in enumerate(names) if j != k}
        return fids, columns

    def features(self, layer: str) -> tuple[list[int], dict[str, list[Any]], np.ndarray, Any]:
        """Raw features of a spatial layer: fids, field values, shapely geometries, CRS."""
        self.require_layer(layer)
        try:
            meta, fids, wkb, field_data = pyogrio.raw.read(self.path, layer=layer, return_fids=True)
        except Exception as exc:
            raise self.error(f"cannot read layer: {exc}", layer=layer) from None
        if wkb is None or meta.get("geometry_type") is None:
            raise self.error("layer has no geometry column", layer=layer, column="geometry")
        try:
            geoms = shapely.from_wkb(wkb)
        except Exception as exc:
            raise self.error(
                f"unreadable geometry: {exc}", layer=layer, column="geometry"
            ) from None
        columns = {str(n): arr.tolist() for n, arr in zip(meta["fields"], field_data)}
        return [int(f) for f in fids], columns, geoms, meta.get("crs")

    def table(self, layer: str) -> tuple[list[int], dict[str, list[Any]]]:
        """Read a layer; return fids and the spec'd columns converted to Python values."""
        geoms = crs = None
        if layer in _SPATIAL:
            spec = _SPATIAL[layer][1]
            fids, raw, geoms, crs = self.features(layer)
        else:
            spec = _TABLES[layer]
            fids, raw = self.attributes(layer)
        cols: dict[str, list[Any]] = {}
        for col, kind, required in spec:
            if col not in raw:
                if required:
                    raise self.error(
                        f"column is missing (layer has: {', '.join(raw) or 'no columns'})",
                        layer=layer,
                        column=col,
                    )
                default = _DEFAULTS.get((layer, col), "" if kind == "text" else None)
                cols[col] = [default] * len(fids)
                continue
            cols[col] = [
                self.cell(layer, fid, col, kind, v, required) for fid, v in zip(fids, raw[col])
            ]
        if geoms is not None:
            cols["geometry"] = self.geometries(layer, geoms, crs, fids)
        return fids, cols

    def cell(self, layer: str, fid: int, col: str, kind: str, value: Any, required: bool) -> Any:
        missing = (
            value is None
            or (isinstance(value, float) and math.isnan(value))
            or (value is pd.NA or value is pd.NaT)
        )
        if missing:
            if kind in ("float?", "qty?", "time?"):
                return None if kind == "time?" else math.nan
            if kind == "text":
                return ""
            default = _DEFAULTS.get((layer, col))
            if default is not None and not required:
                return default
            raise self.error("value is empty (NULL)", layer=layer, row=fid, column=col)
        if kind == "text":
            if isinstance(value, str):
                return value
            if isinstance(value, bool | np.bool_):
                raise self.error(f"expected text, got {value!r}", layer=layer, row=fid, column=col)
            if isinstance(value, int | np.integer):
                return str(int(value))
            if isinstance(value, float | np.floating) and float(value).is_integer():
                return str(int(value))  # a code typed as a number in QGIS
            raise self.error(f"expected text, got {value!r}", layer=layer, row=fid, column=col)
        if kind in ("int", "float", "float?", "qty", "qty?", "level"):
            if kind == "level" and isinstance(value, str):
                return value  # "II", "Ⅲ", "3级": parsed by the model
            if isinstance(value, bool | np.bool_):
                raise self.error(
                    f"expected a number, got {value!r}", layer=layer, row=fid, column=col
                )
            try:
                number = float(value.strip()) if isinstance(value, str) else float(value)
            except (TypeError, ValueError):
                raise self.error(
                    f"expected a number, got {value!r}", layer=layer, row=fid, column=col
                ) from None
            if not math.isfinite(number):
                raise self.error(
                    f"expected a finite number, got {value!r}", layer=layer, row=fid, column=col
                )
            if kind in ("int", "level"):
                if not number.is_integer():
                    raise self.error(
                        f"expected a whole number, got {value!r}", layer=layer, row=fid, column=col
                    )
                return int(number)
            if kind in ("qty", "qty?") and number < 0:
                raise self.error(
                    f"quantity must be ≥ 0, got {value!r}", layer=layer, row=fid, column=col
                )
            return number
        if kind == "bool":
            if isinstance(value, bool | np.bool_):
                return bool(value)
            if isinstance(value, int | np.integer | float | np.floating) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "0", "1"):
                return value.strip().lower() in ("true", "1")
            raise self.error(f"expected a boolean, got {value!r}", layer=layer, row=fid, column=col)
        if kind in ("time", "time?"):
            if isinstance(value, pd.Timestamp):
                return value.to_pydatetime()
            if isinstance(value, datetime):
                return value
            if isinstance(value, str):
                if not value.strip() and kind == "time?":
                    return None
                try:
                    return datetime.fromisoformat(value.strip())
                except ValueError:
                    raise self.error(
                        f"expected an ISO 8601 time (e.g. 2024-07-01T08:30:00+08:00), got "
                        f"{value!r}",
                        layer=layer,
                        row=fid,
                        column=col,
                    ) from None
            raise self.error(f"expected a time, got {value!r}", layer=layer, row=fid, column=col)
        raise AssertionError(kind)  # pragma: no cover

    def geometries(
        self, layer: str, geoms: np.ndarray, crs: Any, fids: list[int]
    ) -> list[BaseGeometry]:
        if crs is None:
            if len(geoms):
                self.warnings.append(
                    f"layer {layer!r} has no coordinate reference system; assumed EPSG:4326"
                )
        elif crs != WGS84:
            try:
                source = pyproj.CRS.from_user_input(crs)
            except pyproj.exceptions.CRSError as exc:
                raise self.error(
                    f"unknown coordinate reference system: {exc}", layer=layer, column="geometry"
                ) from None
            epsg = source.to_epsg()
            if epsg != 4326:
                name = f"EPSG:{epsg}" if epsg else source.name
                try:
                    tr = pyproj.Transformer.from_crs(source, WGS84, always_xy=True)
                    geoms = shapely.transform(
                        geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
                    )
                except Exception as exc:
                    raise self.error(
                        f"cannot reproject from {name} to EPSG:4326: {exc}",
                        layer=layer,
                        column="geometry",
                    ) from None
                if len(geoms):
                    self.warnings.append(f"reprojected layer {layer!r} from {name} to EPSG:4326")
        allowed = _ALLOWED_GEOMS[layer]
        out: list[BaseGeometry] = []
        for fid, g in zip(fids, geoms):
            if g is None or g.is_empty:
                raise self.error(
                    "geometry is missing or empty (or has NaN coordinates)",
                    layer=layer,
                    row=fid,
                    column="geometry",
                )
            coords = shapely.get_coordinates(g, include_z=True)
            if not np.isfinite(coords[:, :2]).all():
                raise self.error(
                    "geometry has NaN or infinite coordinates",
                    layer=layer,
                    row=fid,
                    column="geometry",
                )
            if g.geom_type == "MultiPoint" and "Point" in allowed and len(g.geoms) == 1:
                g = g.geoms[0]  # QGIS exports often promote points to single-part multipoints
            if g.geom_type not in allowed:
                raise self.error(
                    f"geometry must be {'/'.join(allowed)}, got {g.geom_type}",
                    layer=layer,
                    row=fid,
                    column="geometry",
                )
            if not g.is_valid:
                reason = shapely.is_valid_reason(g)
                fixed = _repair(g, allowed)
                if fixed is None:
                    raise self.error(
                        f"invalid geometry ({reason}) that cannot be repaired",
                        layer=layer,
                        row=fid,
                        column="geometry",
                    )
                self.warnings.append(
                    f"layer {layer!r} row {fid}: invalid geometry ({reason}) repaired with "
                    f"make_valid (now {fixed.geom_type})"
                )
                g = fixed
            out.append(g)
        return out


def _repair(geom: BaseGeometry, allowed: tuple[str, ...]) -> BaseGeometry | None:
    """make_valid, keeping only the parts of the original dimension; None if nothing usable."""
    fixed = shapely.make_valid(geom)
    dim = shapely.get_dimensions(geom)
    if fixed.geom_type == "GeometryCollection":
        parts = [p for p in shapely.get_parts(fixed) if shapely.get_dimensions(p) == dim]
        if not parts:
            return None
        fixed = shapely.union_all(parts)
    if fixed.is_empty or fixed.geom_type not in allowed or not fixed.is_valid:
        return None
    return fixed


def _wrap(build: Callable[[], Any], reader: _Reader, layer: str, row: int | None) -> Any:
    try:
        return build()
    except (ValueError, TypeError) as exc:  # ValidationError, and model slips (naive vs aware)
        raise reader.error(f"invalid value: {exc}", layer=layer, row=row) from None


def _read_meta(reader: _Reader) -> dict[str, str]:
    if META_TABLE not in reader.layers:
        raise reader.error(
            "not a ReliefDesk workspace: the metadata table is missing "
            "(a GeoPackage written by another program?)",
            layer=META_TABLE,
        )
    fids, cols = reader.table(META_TABLE)
    meta: dict[str, str] = {}
    for fid, key, value in zip(fids, cols["key"], cols["value"]):
        if key in meta:
            raise reader.error(
                f"key {key!r} appears twice", layer=META_TABLE, row=fid, column="key"
            )
        meta[key] = value
    raw = meta.get("schema_version")
    if raw is None:
        raise reader.error("schema_version is missing", layer=META_TABLE, column="key")
    try:
        version = int(raw)
    except ValueError:
        raise reader.error(
            f"schema_version {raw!r} is not a whole number", layer=META_TABLE, column="value"
        ) from None
    if version > SCHEMA_VERSION:
        raise reader.error(
            f"the workspace was written by a newer ReliefDesk (schema version {version}); this "
            f"version reads schema versions up to {SCHEMA_VERSION} — please update ReliefDesk",
            layer=META_TABLE,
        )
    if version < 1:
        raise reader.error(f"unknown schema version {version}", layer=META_TABLE)
    return meta


def _group(
    reader: _Reader,
    layer: str,
    key_col: str,
    known: Mapping[str, Any],
    owner_layer: str,
) -> tuple[list[int], dict[str, list[Any]], list[str]]:
    fids, cols = reader.table(layer)
    for fid, key in zip(fids, cols[key_col]):
        if key not in known:
            raise reader.error(
                f"refers to {owner_layer[:-1]} {key!r}, which is not in layer {owner_layer!r}",
                layer=layer,
                row=fid,
                column=key_col,
            )
    return fids, cols, cols[key_col]


def _quantity_maps(
    reader: _Reader,
    layer: str,
    key_col: str,
    owners: Mapping[str, Any],
    owner_layer: str,
    material_codes: set[str],
) -> dict[str, dict[str, float]]:
    fids, cols, keys = _group(reader, layer, key_col, owners, owner_layer)
    out: dict[str, dict[str, float]] = {}
    for fid, key, code, qty in zip(fids, keys, cols["material"], cols["quantity"]):
        _check_material(reader, layer, fid, code, material_codes)
        bucket = out.setdefault(key, {})
        if code in bucket:
            raise reader.error(
                f"material {code!r} listed twice for {key!r}",
                layer=layer,
                row=fid,
                column="material",
            )
        bucket[code] = qty
    return out


def _check_material(reader: _Reader, layer: str, fid: int, code: str, known: set[str]) -> None:
    if known and code not in known:
        raise reader.error(
            f"unknown material {code!r} (not in layer 'materials')",
            layer=layer,
            row=fid,
            column="material",
        )


def _index_rows(
    reader: _Reader, layer: str, fids: list[int], ids: list[str], col: str = "id"
) -> dict[str, int]:
    seen: dict[str, int] = {}
    for fid, i in zip(fids, ids):
        if i in seen:
            raise reader.error(
                f"duplicate id {i!r} (also in row {seen[i]})", layer=layer, row=fid, column=col
            )
        seen[i] = fid
    return seen


def _read_scenario(reader: _Reader, meta: dict[str, str]) -> Scenario:
    # materials
    fids, c = reader.table("materials")
    _index_rows(reader, "materials", fids, c["code"], "code")
    materials = tuple(
        _wrap(
            lambda i=i: Material(
                code=c["code"][i],
                name_zh=c["name_zh"][i],
                name_en=c["name_en"][i],
                unit=c["unit"][i],
                unit_weight_kg=c["unit_weight_kg"][i],
                unit_volume_m3=c["unit_volume_m3"][i],
                category=c["category"][i],
                divisible=c["divisible"][i],
            ),
            reader,
            "materials",
            fid,
        )
        for i, fid in enumerate(fids)
    )
    codes = {m.code for m in materials}

    # entity layers (read first, build after the related tables)
    layers = {name: reader.table(name) for name in _SPATIAL}
    rows: dict[str, dict[str, int]] = {}
    for name in ("stockpiles", "shelters", "teams", "incidents", "hazards", "closures"):
        lfids, lcols = layers[name]
        rows[name] = _index_rows(reader, name, lfids, lcols["id"])
    _index_rows(reader, "townships", layers["townships"][0], layers["townships"][1]["code"], "code")

    # inventory / safety stock
    fids, c, keys = _group(reader, "inventory", "stockpile_id", rows["stockpiles"], "stockpiles")
    inventory: dict[str, dict[str, float]] = {}
    safety: dict[str, dict[str, float]] = {}
    seen_inv: set[tuple[str, str]] = set()
    for fid, key, code, qty, ss in zip(fids, keys, c["material"], c["quantity"], c["safety_stock"]):
        _check_material(reader, "inventory", fid, code, codes)
        if (key, code) in seen_inv:
            raise reader.error(
                f"material {code!r} listed twice for stockpile {key!r}",
                layer="inventory",
                row=fid,
                column="material",
            )
        seen_inv.add((key, code))
        if not math.isnan(qty):
            inventory.setdefault(key, {})[code] = qty
        if not math.isnan(ss):
            safety.setdefault(key, {})[code] = ss
    shelter_stock = _quantity_maps(
        reader, "shelter_stock", "shelter_id", rows["shelters"], "shelters", codes
    )
    needs = _quantity_maps(
        reader, "incident_needs", "incident_id", rows["incidents"], "incidents", codes
    )
    fids, c, keys = _group(reader, "incident_skills", "incident_id", rows["incidents"], "incidents")
    req_skills: dict[str, dict[str, int]] = {}
    for fid, key, skill, n in zip(fids, keys, c["skill"], c["headcount"]):
        bucket = req_skills.setdefault(key, {})
        if skill in bucket:
            raise reader.error(
                f"skill {skill!r} listed twice for incident {key!r}",
                layer="incident_skills",
                row=fid,
                column="skill",
            )
        bucket[skill] = n
    fids, c, keys = _group(reader, "team_skills", "team_id", rows["teams"], "teams")
    team_skills: dict[str, list[str]] = {}
    for key, skill in zip(keys, c["skill"]):
        team_skills.setdefault(key, []).append(skill)

    # vehicles
    fids, c = reader.table("vehicles")
    _index_rows(reader, "vehicles", fids, c["id"])
    vehicles: dict[tuple[str, str], list[Vehicle]] = {}
    for i, fid in enumerate(fids):
        home, home_layer = c["home_id"][i], c["home_layer"][i]
        if home_layer:
            if home_layer not in ("stockpiles", "teams"):
                raise reader.error(
                    f"home_layer must be stockpiles or teams, got {home_layer!r}",
                    layer="vehicles",
                    row=fid,
                    column="home_layer",
                )
            if home not in rows[home_layer]:
                raise reader.error(
                    f"home {home!r} is not in layer {home_layer!r}",
                    layer="vehicles",
                    row=fid,
                    column="home_id",
                )
        else:
            found = [lay for lay in ("stockpiles", "teams") if home in rows[lay]]
            if len(found) != 1:
                why = "is in both stockpiles and teams" if found else "is no stockpile or team"
                raise reader.error(
                    f"home {home!r} {why}", layer="vehicles", row=fid, column="home_id"
                )
            home_layer = found[0]
        v = _wrap(
            lambda i=i: Vehicle(
                id=c["id"][i],
                kind=c["kind"][i],
                capacity_kg=c["capacity_kg"][i],
                capacity_m3=c["capacity_m3"][i],
                home_id=c["home_id"][i],
                name=c["name"][i],
                speed_factor=c["speed_factor"][i],
            ),
            reader,
            "vehicles",
            fid,
        )
        vehicles.setdefault((home_layer, home), []).append(v)

    def loc(g: BaseGeometry) -> tuple[float, float]:
        return (g.x, g.y)

    def build(layer: str, make: Callable[[dict[str, list[Any]], int], Any]) -> tuple[Any, ...]:
        fids, c = layers[layer]
        return tuple(
            _wrap(lambda i=i: make(c, i), reader, layer, fid) for i, fid in enumerate(fids)
        )

    townships = build(
        "townships",
        lambda c, i: Township(
            code=c["code"][i],
            name=c["name"][i],
            location=loc(c["geometry"][i]),
            population=c["population"][i],
            location_source=c["location_source"][i],
        ),
    )
    stockpiles = build(
        "stockpiles",
        lambda c, i: Stockpile(
            id=c["id"][i],
            name=c["name"][i],
            level=c["level"][i],
            location=loc(c["geometry"][i]),
            inventory=inventory.get(c["id"][i], {}),
            safety_stock=safety.get(c["id"][i], {}),
            vehicles=tuple(vehicles.get(("stockpiles", c["id"][i]), ())),
            township_code=c["township_code"][i],
            contact=c["contact"][i],
        ),
    )
    shelters = build(
        "shelters",
        lambda c, i: Shelter(
            id=c["id"][i],
            name=c["name"][i],
            setting=c["setting"][i],
            shelter_class=c["shelter_class"][i],
            location=loc(c["geometry"][i]),
            capacity=c["capacity"][i],
            occupancy=c["occupancy"][i],
            stock=shelter_stock.get(c["id"][i], {}),
            township_code=c["township_code"][i],
        ),
    )
    teams = build(
        "teams",
        lambda c, i: Team(
            id=c["id"][i],
            name=c["name"][i],
            force_type=c["force_type"][i],
            location=loc(c["geometry"][i]),
            headcount=c["headcount"][i],
            skills=tuple(team_skills.get(c["id"][i], ())),
            vehicles=tuple(vehicles.get(("teams", c["id"][i]), ())),
            status=c["status"][i],
            leader=c["leader"][i],
            phone=c["phone"][i],
        ),
    )
    incidents = build(
        "incidents",
        lambda c, i: Incident(
            id=c["id"][i],
            name=c["name"][i],
            category=c["category"][i],
            subtype=c["subtype"][i],
            level=c["level"][i],
            location=loc(c["geometry"][i]),
            reported_at=c["reported_at"][i],
            affected_people=c["affected_people"][i],
            needs=needs.get(c["id"][i], {}),
            required_skills=req_skills.get(c["id"][i], {}),
            deadline_min=c["deadline_min"][i],
            status=c["status"][i],
            description=c["description"][i],
            township_code=c["township_code"][i],
        ),
    )
    hazards = build(
        "hazards",
        lambda c, i: Hazard(
            id=c["id"][i],
            name=c["name"][i],
            category=c["category"][i],
            risk_level=c["risk_level"][i],
            geometry=c["geometry"][i],
            description=c["description"][i],
        ),
    )
    closures = build(
        "closures",
        lambda c, i: RoadClosure(
            id=c["id"][i],
            geometry=c["geometry"][i],
            reason=c["reason"][i],
            radius_m=c["radius_m"][i],
            speed_factor=c["speed_factor"][i],
            since=c["since"][i],
            until=c["until"][i],
        ),
    )
    bfids, bc = layers["boundary"]
    boundary: BaseGeometry | None = None
    if len(bfids) == 1:
        boundary = bc["geometry"][0]
    elif len(bfids) > 1:
        boundary = shapely.union_all(bc["geometry"])
        reader.warnings.append(
            f"layer 'boundary' has {len(bfids)} rows; their union is used as the county outline"
        )
    try:
        road = RoadNetworkRef(
            kind=meta.get("road_network_kind", "none") or "none",
            source=meta.get("road_network_source", ""),
            content_hash=meta.get("road_network_hash", ""),
            note=meta.get("road_network_note", ""),
        )
    except ValidationError as exc:
        raise reader.error(f"invalid road network reference: {exc}", layer=META_TABLE) from None
    name = meta.get("scenario_name", "")
    metadata = {k[len("metadata.") :]: v for k, v in meta.items() if k.startswith("metadata.")}
    try:
        return Scenario(
            name=name or reader.path.stem,
            materials=materials,
            stockpiles=stockpiles,
            shelters=shelters,
            teams=teams,
            incidents=incidents,
            hazards=hazards,
            closures=closures,
            townships=townships,
            boundary=boundary,
            road_network=road,
            metadata=metadata,
        )
    except (ValueError, TypeError) as exc:
        raise reader.error(f"invalid scenario: {exc}") from None


def _read_documents(reader: _Reader) -> dict[str, dict[str, str]]:
    fids, c = reader.table("documents")
    docs: dict[str, dict[str, str]] = {}
    for fid, kind, doc_id, text in zip(fids, c["kind"], c["doc_id"], c["json"]):
        try:
            json.loads(text)
        except ValueError as exc:
            reader.warnings.append(
                f"layer 'documents' row {fid}: document {kind}/{doc_id} is not valid JSON "
                f"({exc}); skipped"
            )
            continue
        bucket = docs.setdefault(kind, {})
        if doc_id in bucket:
            reader.warnings.append(
                f"layer 'documents' row {fid}: document {kind}/{doc_id} appears twice; "
                "the later row wins"
            )
        bucket[doc_id] = text
    return docs


def _read_roads(reader: _Reader) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    has_nodes, has_edges = ROAD_NODES in reader.layers, ROAD_EDGES in reader.layers
    if not has_nodes and not has_edges:
        return None
    reader.require_layer(ROAD_NODES)
    reader.require_layer(ROAD_EDGES)
    out = []
    for layer, columns, gtype in (
        (ROAD_NODES, ROAD_NODE_COLUMNS, "Point"),
        (ROAD_EDGES, ROAD_EDGE_COLUMNS, "LineString"),
    ):
        gdf = reader.read(layer, spatial=True)
        missing = [c for c in columns if c not in gdf.columns]
        if missing:
            raise reader.error(
                f"column is missing (layer has: {', '.join(map(str, gdf.columns))})",
                layer=layer,
                column=missing[0],
            )
        fids = gdf.index.to_numpy()
        for col, dtype in columns.items():
            gdf[col] = _coerce_series(gdf[col], dtype, layer, reader.spath, fids=fids)
        if gdf.crs is None:
            gdf = gdf.set_crs(WGS84)
            if len(gdf):
                reader.warnings.append(f"layer {layer!r} has no CRS; assumed EPSG:4326")
        elif gdf.crs.to_epsg() != 4326:
            name = gdf.crs.to_string()
            gdf = gdf.to_crs(WGS84)
            reader.warnings.append(f"reprojected layer {layer!r} from {name} to EPSG:4326")
        geoms = gdf.geometry.to_numpy()
        bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise reader.error(
                "geometry is missing or empty", layer=layer, row=int(fids[pos]), column="geometry"
            )
        kinds = shapely.get_type_id(geoms)
        want = 0 if gtype == "Point" else 1
        bad = kinds != want
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise reader.error(
                f"geometry must be {gtype}, got {geoms[pos].geom_type}",
                layer=layer,
                row=int(fids[pos]),
                column="geometry",
            )
        coords = shapely.get_coordinates(geoms)
        if not np.isfinite(coords).all():
            raise reader.error(
                "geometry has NaN or infinite coordinates", layer=layer, column="geometry"
            )
        gdf.index.name = None
        gdf = gdf.reset_index(drop=True)
        out.append(gdf)
    return out[0], out[1]


def read_workspace(path: str | os.PathLike[str], *, include_roads: bool = True) -> Workspace:
    """Open a workspace file.

    Parameters
    ----------
    path
        A ``.gpkg`` written by :func:`write_workspace` (or edited in QGIS since).
    include_roads
        When False the road layers are not read at all (fast open; ``road_nodes`` and
        ``road_edges`` are then ``None``).

    Raises
    ------
    WorkspaceError
        The file is missing, not a GeoPackage, truncated, of a newer schema, or a layer, row
        or column is missing or invalid; the message names file, layer, row (fid) and column.
    """
    p = Path(path)
    _check_file(p)
    with _Reader(p) as reader:
        meta = _read_meta(reader)
        scenario = _read_scenario(reader, meta)
        documents = _read_documents(reader)
        roads = _read_roads(reader) if include_roads else None
    warnings = [*reader.warnings, *validate_scenario(scenario)]
    return Workspace(
        path=p,
        scenario=scenario,
        road_nodes=roads[0] if roads else None,
        road_edges=roads[1] if roads else None,
        documents=documents,
        warnings=tuple(warnings),
    )


def read_road_frames(
    path: str | os.PathLike[str],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    """Read only the road network frames of a workspace (``None`` if it stores none).

    The frames have the columns and dtypes of :data:`ROAD_NODE_COLUMNS` and
    :data:`ROAD_EDGE_COLUMNS` (text columns without NULLs), EPSG:4326 and a fresh RangeIndex.
    """
    p = Path(path)
    _check_file(p)
    with _Reader(p) as reader:
        _read_meta(reader)
        return _read_roads(reader)


# --------------------------------------------------------------------------------------------
# Planner warnings
# --------------------------------------------------------------------------------------------

#: Occupancy share above which a shelter is reported as nearly full.
SHELTER_FULL_SHARE = 0.9


def _fmt(q: float) -> str:
    return f"{q:g}"


def validate_scenario(scenario: Scenario) -> list[str]:
    """Warnings a planner should see (in Chinese, as shown in the UI); never raises.

    Reported: stockpiles without vehicles; inventory below safety stock; shelters over 90 %
    occupied; open incidents needing a material that no stockpile holds (or holds too little
    of, counting stock above safety stock); open incidents needing a skill no standby team
    has; entities outside the county boundary.
    """
    s = scenario
    out: list[str] = []
    names = {m.code: m.name_zh for m in s.materials}

    def mat(code: str) -> str:
        return f"{names[code]}（{code}）" if code in names else code

    for p in s.stockpiles:
        if not p.vehicles:
            out.append(f"储备库 {p.id}（{p.name}）没有车辆，物资无法从此处发出")
        for code, ss in p.safety_stock.items():
            stock = p.inventory.get(code, 0)
            if stock < ss:
                out.append(
                    f"储备库 {p.id}（{p.name}）的 {mat(code)} 库存 {_fmt(stock)} 低于安全库存 "
                    f"{_fmt(ss)}"
                )
    for h in s.shelters:
        if h.capacity == 0:
            out.append(f"避难场所 {h.id}（{h.name}）容量为 0")
        elif h.occupancy > SHELTER_FULL_SHARE * h.capacity:
            share = 100.0 * h.occupancy / h.capacity
            out.append(
                f"避难场所 {h.id}（{h.name}）已安置 {h.occupancy}/{h.capacity} 人（{share:.0f}%），"
                "超过 90%"
            )
    open_incidents = s.open_incidents()
    total: dict[str, float] = {}
    for p in s.stockpiles:
        for code, q in p.inventory.items():
            if q > 0:
                total[code] = total.get(code, 0) + q
    demand: dict[str, float] = {}
    for inc in open_incidents:
        for code, q in inc.needs.items():
            if q <= 0:
                continue
            demand[code] = demand.get(code, 0) + q
            if total.get(code, 0) <= 0:
                out.append(
                    f"事件 {inc.id}（{inc.name}）需要 {mat(code)} {_fmt(q)}，但没有任何储备库存有该物资"
                )
    for code, q in demand.items():
        have = total.get(code, 0)
        if 0 < have < q:
            out.append(f"所有未结束事件共需 {mat(code)} {_fmt(q)}，全县库存只有 {_fmt(have)}")
    standby_skills: set[str] = set()
    for t in s.teams:
        if t.status.value == "待命":
            standby_skills.update(t.skills)
    for inc in open_incidents:
        for skill in inc.required_skills:
            if skill not in standby_skills:
                out.append(f"事件 {inc.id}（{inc.name}）需要技能「{skill}」，但没有待命队伍具备")
    if s.boundary is not None:
        area = s.boundary
        shapely.prepare(area)
        kinds = (
            ("储备库", s.stockpiles),
            ("避难场所", s.shelters),
            ("救援队伍", s.teams),
            ("事件", s.incidents),
        )
        for label, items in kinds:
            for e in items:
                if not area.covers(shapely.Point(e.location.lon, e.location.lat)):
                    out.append(f"{label} {e.id}（{e.name}）位于县界之外")
        for t in s.townships:
            if not area.covers(shapely.Point(t.location.lon, t.location.lat)):
                out.append(f"乡镇 {t.code}（{t.name}）驻地位于县界之外")
        for hz in s.hazards:
            if not area.intersects(hz.geometry):
                out.append(f"危险源 {hz.id}（{hz.name}）位于县界之外")
    return out
