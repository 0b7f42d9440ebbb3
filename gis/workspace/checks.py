"""Checks that are not reading: file sniffing, argument checks, geometry repair, planner rules.

* :func:`check_file` — is this a complete GeoPackage at all (header, application id, size)?
  Run before GDAL opens it, so a text file or a truncated copy gets a plain message.
* :func:`check_documents`, :func:`check_road_frame` — the arguments of a save, checked before
  anything is written. :func:`coerce_road_column` casts a road-frame column to its schema dtype
  (used on write and on read) and locates the first bad row.
* :func:`repair_geometry` — ``make_valid`` for an invalid polygon drawn in QGIS.
* :func:`validate_scenario` — warnings a planner should see; never raises.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.errors import WorkspaceError
from gis.fields import short_repr
from gis.model import Scenario
from gis.phrases import say
from gis.workspace.schema import WGS84, RoadLayer

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APP_IDS = {b"GPKG", b"GP10", b"GP11"}


def check_file(path: Path) -> None:
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


def check_documents(
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
                f"document kind {short_repr(kind)} must be non-empty text",
                path=path,
                layer="documents",
                column="kind",
            )
        if not isinstance(docs, Mapping):
            raise WorkspaceError(
                f"documents[{short_repr(kind)}] must be a mapping doc_id -> JSON text, got "
                f"{type(docs).__name__}",
                path=path,
                layer="documents",
            )
        out[kind] = {}
        for doc_id, text in docs.items():
            where = f"documents[{short_repr(kind)}][{short_repr(doc_id)}]"
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


def check_road_frame(frame: Any, spec: RoadLayer, path: str) -> gpd.GeoDataFrame:
    """Check a road frame against the schema; return it in EPSG:4326 with schema dtypes."""
    columns, geom_type, layer = spec.columns, spec.geometry_type, spec.layer
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
        gdf[col] = coerce_road_column(gdf[col], dtype, layer, path, fids=None)
    types = set(gdf.geometry.geom_type.dropna().unique())
    if types - {geom_type}:
        raise WorkspaceError(
            f"geometry must be {geom_type}, found {', '.join(sorted(types))}",
            path=path,
            layer=layer,
            column="geometry",
        )
    return gdf


def coerce_road_column(
    series: pd.Series, dtype: str, layer: str, path: str, fids: np.ndarray | None
) -> pd.Series:
    """Cast a road-frame column to its schema dtype or raise WorkspaceError at the first bad row."""

    def fail(mask: np.ndarray, what: str) -> WorkspaceError:
        pos = int(np.flatnonzero(mask)[0])
        row = int(fids[pos]) if fids is not None else pos + 1  # the fid it would be written as
        if pd.isna(series.iloc[pos]):
            what = f"{what}, got an empty value (NULL)"
            return WorkspaceError(what, path=path, layer=layer, row=row, column=series.name)
        return WorkspaceError(
            f"{what}, got {short_repr(series.iloc[pos])}",
            path=path,
            layer=layer,
            row=row,
            column=series.name,
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


def repair_geometry(geom: BaseGeometry, allowed: tuple[str, ...]) -> BaseGeometry | None:
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


# --------------------------------------------------------------------------------------------
# Planner warnings
# --------------------------------------------------------------------------------------------

#: Occupancy share above which a shelter is reported as nearly full.
SHELTER_FULL_SHARE = 0.9


def _fmt(q: float) -> str:
    return f"{q:g}"


def validate_scenario(scenario: Scenario) -> list[str]:
    """Warnings a planner should see (in Chinese; :func:`gis.phrases.load_warning_text` words
    them in English from the templates of :data:`gis.phrases.LOAD_WARNINGS`); never raises.

    Reported: stockpiles without vehicles; inventory below safety stock; shelters over 90 %
    occupied; open incidents needing a material that no stockpile holds (or holds too little
    of, counting stock above safety stock); open incidents needing a skill no standby team
    has; entities outside the county boundary; demand points naming an unknown township, or
    whose populations add up to more than their township's (coverage counts the township seat
    for the rest, so the sum must fit).
    """
    s = scenario
    out: list[str] = []
    names = {m.code: m.name_zh for m in s.materials}

    def mat(code: str) -> str:
        return f"{names[code]}（{code}）" if code in names else code

    for p in s.stockpiles:
        if not p.vehicles:
            out.append(
                say("储备库 {id}（{name}）没有车辆，物资无法从此处发出", id=p.id, name=p.name)
            )
        for code, ss in p.safety_stock.items():
            stock = p.inventory.get(code, 0)
            if stock < ss:
                out.append(
                    say(
                        "储备库 {id}（{name}）的 {material} 库存 {stock} 低于安全库存 {safety}",
                        id=p.id,
                        name=p.name,
                        material=mat(code),
                        stock=_fmt(stock),
                        safety=_fmt(ss),
                    )
                )
    for h in s.shelters:
        if h.capacity == 0:
            out.append(say("避难场所 {id}（{name}）容量为 0", id=h.id, name=h.name))
        elif h.occupancy > SHELTER_FULL_SHARE * h.capacity:
            share = 100.0 * h.occupancy / h.capacity
            out.append(
                say(
                    "避难场所 {id}（{name}）已安置 {occupancy}/{capacity} 人（{share}%），超过 90%",
                    id=h.id,
                    name=h.name,
                    occupancy=h.occupancy,
                    capacity=h.capacity,
                    share=f"{share:.0f}",
                )
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
                    say(
                        "事件 {id}（{name}）需要 {material} {quantity}，但没有任何储备库存有该物资",
                        id=inc.id,
                        name=inc.name,
                        material=mat(code),
                        quantity=_fmt(q),
                    )
                )
    for code, q in demand.items():
        have = total.get(code, 0)
        if 0 < have < q:
            out.append(
                say(
                    "所有未结束事件共需 {material} {quantity}，全县库存只有 {stock}",
                    material=mat(code),
                    quantity=_fmt(q),
                    stock=_fmt(have),
                )
            )
    standby_skills: set[str] = set()
    for t in s.teams:
        if t.status.value == "待命":
            standby_skills.update(t.skills)
    for inc in open_incidents:
        for skill in inc.required_skills:
            if skill not in standby_skills:
                out.append(
                    say(
                        "事件 {id}（{name}）需要技能「{skill}」，但没有待命队伍具备",
                        id=inc.id,
                        name=inc.name,
                        skill=skill,
                    )
                )
    towns = {t.code: t for t in s.townships}
    listed: dict[str, int] = {}
    for d in s.demand_points:
        if d.township_code and towns and d.township_code not in towns:
            out.append(
                say(
                    "需求点 {id}（{name}）所属乡镇代码 {code} 不在乡镇图层中",
                    id=d.id,
                    name=d.name,
                    code=d.township_code,
                )
            )
        listed[d.township_code] = listed.get(d.township_code, 0) + d.population
    for code, pop in listed.items():
        town = towns.get(code)
        if town is not None and town.population and pop > town.population:
            out.append(
                say(
                    "乡镇 {code}（{name}）的需求点人口合计 {population} 超过乡镇人口 {total}",
                    code=code,
                    name=town.name,
                    population=f"{pop:,}",
                    total=f"{town.population:,}",
                )
            )
    if s.boundary is not None:
        area = s.boundary
        shapely.prepare(area)
        kinds = (
            ("储备库 {id}（{name}）位于县界之外", s.stockpiles),
            ("避难场所 {id}（{name}）位于县界之外", s.shelters),
            ("救援队伍 {id}（{name}）位于县界之外", s.teams),
            ("事件 {id}（{name}）位于县界之外", s.incidents),
            ("需求点 {id}（{name}）位于县界之外", s.demand_points),
        )
        for template, items in kinds:
            for e in items:
                if not area.covers(shapely.Point(e.location.lon, e.location.lat)):
                    out.append(say(template, id=e.id, name=e.name))
        for town in s.townships:
            if not area.covers(shapely.Point(town.location.lon, town.location.lat)):
                out.append(
                    say("乡镇 {code}（{name}）驻地位于县界之外", code=town.code, name=town.name)
                )
        for hz in s.hazards:
            if not area.intersects(hz.geometry):
                out.append(say("危险源 {id}（{name}）位于县界之外", id=hz.id, name=hz.name))
    return out
