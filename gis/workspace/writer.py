"""Writing a workspace: Scenario → one frame per table (from :mod:`gis.workspace.schema`) → file.

The frames are built from the table specs alone: an entity table's columns are read off the
model objects through each column's ``attr`` (enums as their values, times as ISO 8601 text),
a related table's rows from the owner's mapping or tuple, owned rows (vehicles) from their
owners. All layers are then written with pyogrio/GDAL into a temporary file that replaces the
target atomically (:mod:`gis.workspace.atomic`). Text containing NUL cannot be stored
(GeoPackage text is C strings): :func:`write_workspace` refuses it, naming layer, row and column.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import WorkspaceError
from gis.map_style import LAYER_STYLES, style_qml, style_sld
from gis.model import Scenario
from gis.workspace.atomic import replace_atomically, resolve_target
from gis.workspace.checks import check_documents, check_road_frame
from gis.workspace.schema import (
    BOUNDARY,
    DOCUMENTS,
    META_TABLE,
    METADATA_PREFIX,
    ROAD_LAYERS,
    ROAD_REF_KEYS,
    SCHEMA_VERSION,
    TABLES,
    WGS84,
    EntityTable,
    RelatedTable,
    Table,
    entity_table,
)

Columns = dict[str, list[Any]]


def table_frame(table: Table, columns: Columns, path: str | None) -> pd.DataFrame:
    """One table's (Geo)DataFrame from its columns (and ``"geometry"``), dtypes from the spec."""
    data = {}
    for col in table.columns:
        values = columns[col.name]
        if col.kind == "text":
            for i, v in enumerate(values):
                if isinstance(v, str) and "\x00" in v:
                    raise WorkspaceError(
                        f"text {v!r} contains a NUL character, which GeoPackage text cannot hold",
                        path=path,
                        layer=table.layer,
                        row=i + 1,
                        column=col.name,
                    )
        data[col.name] = pd.Series(values, dtype=col.dtype)
    frame = pd.DataFrame(data)
    if table.geometry is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(columns["geometry"], crs=WGS84))


def _object_columns(table: EntityTable, objects: Sequence[Any]) -> Columns:
    """The columns (and geometry) of model objects: each column from its ``attr``."""
    out: Columns = {
        c.name: [c.encode(getattr(o, c.attr)) for o in objects] for c in table.columns if c.attr
    }
    geom = table.geometry
    if geom is not None and geom.attr is not None:
        out["geometry"] = [geom.encode(getattr(o, geom.attr)) for o in objects]
    return out


def _owned_columns(table: EntityTable, scenario: Scenario) -> Columns:
    """Rows owned by other entities (vehicles), owner layer by owner layer."""
    own = table.owned_by
    assert own is not None
    objects: list[Any] = []
    layers: list[str] = []
    for owner_layer in own.owners:
        owners = getattr(scenario, entity_table(owner_layer).scenario_attr or "")
        for owner in owners:
            for obj in getattr(owner, own.attr):
                objects.append(obj)
                layers.append(owner_layer)
    out = _object_columns(table, objects)
    out[own.layer_column] = layers
    return out


def _related_columns(table: RelatedTable, scenario: Scenario) -> Columns:
    """One row per (owner, item): items of the owner's mapping(s) or tuple, in their order."""
    owner_table = entity_table(table.owner)
    value_cols = table.value_columns
    keys: list[str] = []
    items: list[Any] = []
    values: Columns = {c.name: [] for c in value_cols}
    for owner in getattr(scenario, owner_table.scenario_attr or ""):
        key = getattr(owner, owner_table.key)
        if table.sequence_attr is not None:
            for item in getattr(owner, table.sequence_attr):
                keys.append(key)
                items.append(item)
            continue
        maps = [(c, getattr(owner, c.attr or "")) for c in value_cols]
        # items of the first mapping, then those only in later ones (nullable value columns)
        for item in dict.fromkeys(i for _, m in maps for i in m):
            keys.append(key)
            items.append(item)
            for c, m in maps:
                values[c.name].append(c.encode(m[item]) if item in m else c.missing_value())
    return {table.owner_column: keys, table.item_column: items, **values}


def _meta_columns(scenario: Scenario) -> Columns:
    rows = [
        ("schema_version", str(SCHEMA_VERSION)),
        ("scenario_name", scenario.name),
        *((key, getattr(scenario.road_network, attr)) for attr, key in ROAD_REF_KEYS.items()),
        ("saved_at", datetime.now(UTC).isoformat(timespec="seconds")),
        *((f"{METADATA_PREFIX}{k}", v) for k, v in scenario.metadata.items()),
    ]
    return {"key": [k for k, _ in rows], "value": [v for _, v in rows]}


def scenario_frames(
    scenario: Scenario, documents: Mapping[str, Mapping[str, str]], path: str | None = None
) -> dict[str, pd.DataFrame]:
    """Every table of the file except the road layers, as (Geo)DataFrames in write order."""
    out: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        if isinstance(table, RelatedTable):
            columns = _related_columns(table, scenario)
        elif isinstance(table, EntityTable) and table.owned_by is not None:
            columns = _owned_columns(table, scenario)
        elif isinstance(table, EntityTable):
            columns = _object_columns(table, getattr(scenario, table.scenario_attr or ""))
        elif table.layer == META_TABLE:
            columns = _meta_columns(scenario)
        elif table.layer == BOUNDARY:
            boundary = [] if scenario.boundary is None else [scenario.boundary]
            columns = {"name": [scenario.name for _ in boundary], "geometry": boundary}
        elif table.layer == DOCUMENTS:
            rows = [(k, i, text) for k, docs in documents.items() for i, text in docs.items()]
            columns = {
                name: [r[j] for r in rows] for j, name in enumerate(("kind", "doc_id", "json"))
            }
        else:  # pragma: no cover - a table added to the schema without a writer
            raise AssertionError(table.layer)
        out[table.layer] = table_frame(table, columns, path)
    return out


def write_layers(
    tmp: Path,
    frames: Mapping[str, pd.DataFrame],
    roads: Sequence[gpd.GeoDataFrame] | None,
) -> None:
    """Write the frames (and the road frames, in :data:`ROAD_LAYERS` order) into ``tmp``, then
    the QGIS layer styles (:func:`layer_styles_frame`).

    The file is GeoPackage :data:`GPKG_VERSION` (``PRAGMA user_version`` 10200): GDAL 3.6 /
    QGIS 3.28 open 1.4 files (GDAL ≥ 3.8's default) only with a "partially supported" warning.
    """
    first = {"dataset_options": {"VERSION": GPKG_VERSION}}  # creates the file
    for table in TABLES:
        frame = frames[table.layer]
        if table.geometry is not None:
            pyogrio.write_dataframe(
                frame,
                tmp,
                layer=table.layer,
                driver="GPKG",
                geometry_type=table.geometry.layer_type,
                promote_to_multi=False,
                **first,
            )
        else:
            pyogrio.write_dataframe(frame, tmp, layer=table.layer, driver="GPKG", **first)
        first = {}
    if roads is not None:
        for spec, frame in zip(ROAD_LAYERS, roads, strict=True):
            pyogrio.write_dataframe(
                frame, tmp, layer=spec.layer, driver="GPKG", geometry_type=spec.geometry_type
            )
    present = {t.layer for t in TABLES}
    if roads is not None:
        present |= {spec.layer for spec in ROAD_LAYERS}
    styles = layer_styles_frame(present)
    pyogrio.write_dataframe(styles, tmp, layer=LAYER_STYLES_TABLE, driver="GPKG")


#: GeoPackage version written (GDAL layer creation option ``VERSION``).
GPKG_VERSION = "1.2"
#: The OGC/QGIS style table: QGIS applies a layer's default style (``useAsDefault``) on opening.
LAYER_STYLES_TABLE = "layer_styles"


def layer_styles_frame(layers: set[str]) -> pd.DataFrame:
    """One ``layer_styles`` row per styled layer present (see :data:`gis.map_style.LAYER_STYLES`)."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    rows = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": st.layer,
            "f_geometry_column": st.geometry_column,
            "styleName": st.name,
            "styleQML": style_qml(st),
            "styleSLD": style_sld(st),
            "useAsDefault": True,
            "description": "ReliefDesk 默认样式（与应用地图一致）",
            "owner": "",
            "ui": "",
            "update_time": now,
        }
        for st in LAYER_STYLES
        if st.layer in layers
    ]
    return pd.DataFrame(rows)


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
        Target ``.gpkg`` file; replaced if it exists. Its directory must exist. Saving through
        a symlink replaces the file it points to.
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
    spath = str(Path(path))
    target = resolve_target(Path(path))
    if not isinstance(scenario, Scenario):
        raise WorkspaceError(f"expected a Scenario, got {type(scenario).__name__}", path=spath)
    if (road_nodes is None) != (road_edges is None):
        raise WorkspaceError("road_nodes and road_edges must be given together", path=spath)
    docs = check_documents(documents, spath)
    roads = None
    if road_nodes is not None:
        roads = [
            check_road_frame(frame, spec, spath)
            for spec, frame in zip(ROAD_LAYERS, (road_nodes, road_edges), strict=True)
        ]
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise WorkspaceError(f"directory {directory} does not exist", path=spath)
    if target.exists() and target.is_dir():
        raise WorkspaceError("is a directory", path=spath)
    frames = scenario_frames(scenario, docs, spath)
    replace_atomically(target, lambda tmp: write_layers(tmp, frames, roads), spath=spath)
