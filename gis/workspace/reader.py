"""Reading a workspace: GeoPackage rows → model objects, driven by :mod:`gis.workspace.schema`.

Every table is read through its spec: cells are converted by the column's kind, missing
optional columns take their defaults, keys are checked for duplicates, related rows (inventory,
needs, skills...) are attached to their owners and owned rows (vehicles) to their homes, then
each row becomes its model object; a model validation error is reported at that row.

* Errors are :class:`gis.errors.WorkspaceError`; ``row`` is the feature id (``fid``) that QGIS
  shows, ``column`` the field name (``"geometry"`` for the geometry).
* Cells are read as SQLite stores them (attributes through one ``sqlite3`` connection, also
  for spatial layers: GDAL converts by the declared column type and reads the text ``'1,200'``
  in an INTEGER column as 1). Numbers are parsed in one place,
  :func:`gis.fields.parse_number`: what a person means is accepted (``"300"``, ``"1,200"``,
  ``"1 200"``, full-width digits), anything else refused with layer, row, column and value
  (``"约850"``, ``2.5`` people, NaN, infinities, binary data); then the field's plausibility
  limit (:data:`gis.fields.FIELD_LIMITS` via :func:`~gis.workspace.schema.column_limit`).
  Road layers get the same treatment for cells whose storage class does not match.
* Text loses control characters (:data:`gis.fields.CONTROL_CHARACTERS`: ESC, NUL, C1, bidi
  overrides) with a warning naming layer, row and column, so a file from another tool still
  opens and no escape sequence reaches a terminal or an export. The model refuses them in text
  typed by hand.
* Lenient where QGIS editing makes it harmless: codes typed as numbers, levels as
  ``"II"``/``"Ⅲ"``/``"3级"``, single-part MultiPoints, missing optional columns (defaults),
  extra columns (ignored).
* GDAL's own warnings are collected into :attr:`Workspace.warnings` ("GDAL: …"), never printed.
* An invalid polygon (e.g. self-intersecting, as QGIS lets one draw) is repaired with
  :func:`shapely.make_valid` and reported in :attr:`Workspace.warnings`; a geometry that cannot
  be repaired into an allowed type, an empty geometry or a NaN coordinate is an error.
* A layer in another CRS (EPSG:3857, EPSG:4490 (CGCS2000)...) is reprojected to EPSG:4326 with a
  warning; a layer without a CRS is taken as EPSG:4326 with a warning.
* Geometries of entity layers are read with ``pyogrio.raw.read`` (no fields), every attribute
  through one read-only ``sqlite3`` connection (GDAL reopening the file per table costs ~15 ms
  each). Road coordinates must be WGS-84 lon/lat; a CRS that cannot be converted (srs_id -1)
  is an error naming the layer.
* :attr:`Workspace.warnings` = file warnings (reprojection, repairs, skipped documents) followed
  by :func:`~gis.workspace.checks.validate_scenario`: callers need not call it again.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.errors import ValidationError
from gis.fields import CONTROL_CHARACTERS, parse_number, short_repr, strip_controls
from gis.model import RoadNetworkRef, Scenario
from gis.workspace.checks import check_file, coerce_road_column, validate_scenario
from gis.workspace.layer_reader import LayerReader, one_line
from gis.workspace.schema import (
    BOUNDARY,
    BOUNDARY_TABLE,
    DOCUMENTS_TABLE,
    META,
    META_TABLE,
    METADATA_PREFIX,
    OWNED,
    RELATED,
    ROAD_LAYERS,
    ROAD_REF_KEYS,
    SCENARIO_ENTITIES,
    SCHEMA_VERSION,
    WGS84,
    EntityTable,
    RelatedTable,
    Workspace,
    entity_table,
)

Rows = dict[str, list[Any]]
#: what related and owned rows attach to their owners: owner layer → owner key → attr → value
Attached = dict[str, dict[str, dict[str, Any]]]


def _read_meta(reader: LayerReader) -> dict[str, str]:
    if META_TABLE not in reader.layers:
        raise reader.error(
            "not a ReliefDesk workspace: the metadata table is missing "
            "(a GeoPackage written by another program?)",
            layer=META_TABLE,
        )
    fids, cols = reader.table(META)
    meta: dict[str, str] = {}
    for fid, key, value in zip(fids, cols["key"], cols["value"]):
        if key in meta:
            raise reader.error(
                f"key {short_repr(key)} appears twice", layer=META_TABLE, row=fid, column="key"
            )
        meta[key] = value
    raw = meta.get("schema_version")
    if raw is None:
        raise reader.error("schema_version is missing", layer=META_TABLE, column="key")
    try:
        version = int(raw)
    except ValueError:
        raise reader.error(
            f"schema_version {short_repr(raw)} is not a whole number",
            layer=META_TABLE,
            column="value",
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


def _index_rows(
    reader: LayerReader, layer: str, fids: list[int], ids: list[str], col: str = "id"
) -> dict[str, int]:
    seen: dict[str, int] = {}
    for fid, i in zip(fids, ids):
        if i in seen:
            raise reader.error(
                f"duplicate id {short_repr(i)} (also in row {seen[i]})",
                layer=layer,
                row=fid,
                column=col,
            )
        seen[i] = fid
    return seen


def _make(reader: LayerReader, table: EntityTable, fid: int, kwargs: dict[str, Any]) -> Any:
    try:
        return table.model(**kwargs)
    except (ValueError, TypeError) as exc:  # ValidationError, and model slips (naive vs aware)
        raise reader.error(f"invalid value: {exc}", layer=table.layer, row=fid) from None


def _row_kwargs(
    table: EntityTable, cols: Rows, attached: Mapping[str, dict[str, Any]]
) -> Callable[[int], dict[str, Any]]:
    """Row i → constructor arguments: each attribute from its column, the geometry and what
    related tables attached to the row's key."""
    pairs = [(cols[c.name], c.attr) for c in table.columns if c.attr]
    geom = table.geometry
    geoms = cols["geometry"] if geom is not None and geom.attr is not None else None
    keys = cols[table.key]

    def kwargs(i: int) -> dict[str, Any]:
        out = {attr: values[i] for values, attr in pairs}
        if geoms is not None:
            out[geom.attr] = geom.decode(geoms[i])  # type: ignore[union-attr,index]
        extra = attached.get(keys[i])
        if extra:
            out.update({k: tuple(v) if isinstance(v, list) else v for k, v in extra.items()})
        return out

    return kwargs


def _build(
    reader: LayerReader,
    table: EntityTable,
    fids: list[int],
    cols: Rows,
    attached: Mapping[str, dict[str, Any]],
) -> list[Any]:
    """The model objects of a table's rows."""
    kwargs = _row_kwargs(table, cols, attached)
    return [_make(reader, table, fid, kwargs(i)) for i, fid in enumerate(fids)]


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _read_related(
    reader: LayerReader,
    table: RelatedTable,
    keys: Mapping[str, Mapping[str, int]],
    known: Mapping[str, set[str]],
    attached: Attached,
) -> None:
    """Attach a related table's rows to their owners (mapping item → value, or a sequence)."""
    layer, owner = table.layer, table.owner
    fids, cols = reader.table(table)
    owner_keys = cols[table.owner_column]
    for fid, key in zip(fids, owner_keys):
        if key not in keys[owner]:
            raise reader.error(
                f"refers to {owner[:-1]} {short_repr(key)}, which is not in layer {short_repr(owner)}",
                layer=layer,
                row=fid,
                column=table.owner_column,
            )
    refers = table.item_refers_to
    known_items = known[refers] if refers is not None else set()
    value_cols = [(c.attr or "", c.nullable, cols[c.name]) for c in table.value_columns]
    by_owner = attached.setdefault(owner, {})
    seen: set[tuple[str, Any]] = set()
    for pos, (fid, key, item) in enumerate(zip(fids, owner_keys, cols[table.item_column])):
        if known_items and item not in known_items:
            raise reader.error(
                f"unknown {table.item_column} {short_repr(item)} (not in layer {short_repr(refers)})",
                layer=layer,
                row=fid,
                column=table.item_column,
            )
        target = by_owner.setdefault(key, {})
        if table.sequence_attr is not None:
            target.setdefault(table.sequence_attr, []).append(item)
            continue
        if (key, item) in seen:
            raise reader.error(
                f"{table.item_column} {short_repr(item)} listed twice for {table.owner_noun}{short_repr(key)}",
                layer=layer,
                row=fid,
                column=table.item_column,
            )
        seen.add((key, item))
        for attr, nullable, values in value_cols:
            if nullable and _is_null(values[pos]):
                continue  # absent from this mapping
            target.setdefault(attr, {})[item] = values[pos]


def _read_owned(
    reader: LayerReader, table: EntityTable, keys: Mapping[str, Mapping[str, int]], attached: Attached
) -> None:
    """Build rows owned by entities of other layers (vehicles) and attach them to their homes."""
    own = table.owned_by
    assert own is not None
    layer = table.layer
    fids, cols = reader.table(table)
    _index_rows(reader, layer, fids, cols[table.key], table.key)
    noun = own.id_column.removesuffix("_id")  # "home"
    kwargs = _row_kwargs(table, cols, {})
    for i, (fid, home, home_layer) in enumerate(
        zip(fids, cols[own.id_column], cols[own.layer_column])
    ):
        if home_layer:
            if home_layer not in own.owners:
                raise reader.error(
                    f"{own.layer_column} must be {' or '.join(own.owners)}, got {short_repr(home_layer)}",
                    layer=layer,
                    row=fid,
                    column=own.layer_column,
                )
            if home not in keys[home_layer]:
                raise reader.error(
                    f"{noun} {short_repr(home)} is not in layer {short_repr(home_layer)}",
                    layer=layer,
                    row=fid,
                    column=own.id_column,
                )
        else:
            found = [lay for lay in own.owners if home in keys[lay]]
            if len(found) != 1:
                if found:
                    why = f"is in both {' and '.join(own.owners)}"
                else:
                    why = f"is no {' or '.join(o[:-1] for o in own.owners)}"
                raise reader.error(
                    f"{noun} {short_repr(home)} {why}", layer=layer, row=fid, column=own.id_column
                )
            home_layer = found[0]
        obj = _make(reader, table, fid, kwargs(i))
        attached.setdefault(home_layer, {}).setdefault(home, {}).setdefault(own.attr, []).append(
            obj
        )


def entity_from_rows(
    reader: LayerReader,
    table: EntityTable,
    fid: int,
    cols: Rows,
    related: Mapping[str, Rows],
    owned: Mapping[str, list[Any]],
) -> Any:
    """One entity from its own row (``cols``: one converted value per column, and
    ``"geometry"``), the converted rows of its related tables (layer → columns, in row order)
    and the objects it owns (attribute → objects, e.g. its vehicles): built like every row of
    a file, for one record (a shared database's change, :mod:`gis.workspace.postgis_live`)."""
    target: dict[str, Any] = {}
    for rt in RELATED:
        rows = related.get(rt.layer) if rt.owner == table.layer else None
        if not rows:
            continue
        items = rows[rt.item_column]
        if rt.sequence_attr is not None:
            target[rt.sequence_attr] = list(items)
            continue
        for c in rt.value_columns:
            for item, value in zip(items, rows[c.name]):
                if not (c.nullable and _is_null(value)):  # NULL: absent from that mapping
                    target.setdefault(c.attr or "", {})[item] = value
    target.update({attr: list(objs) for attr, objs in owned.items() if objs})
    return _build(reader, table, [fid], cols, {cols[table.key][0]: target})[0]


def _read_scenario(reader: LayerReader, meta: dict[str, str]) -> Scenario:
    built: dict[str, list[Any]] = {}
    keys: dict[str, dict[str, int]] = {}
    # attribute entity tables other tables refer to (materials): read and built first
    for table in SCENARIO_ENTITIES:
        if table.geometry is None:
            fids, cols = reader.table(table)
            keys[table.layer] = _index_rows(reader, table.layer, fids, cols[table.key], table.key)
            built[table.layer] = _build(reader, table, fids, cols, {})
    known = {
        layer: {getattr(o, entity_table(layer).key) for o in objs} for layer, objs in built.items()
    }

    # spatial layers: read (and their keys checked) first, built after the related tables
    spatial = [t for t in SCENARIO_ENTITIES if t.geometry is not None]
    boundary_rows = reader.table(BOUNDARY_TABLE)
    layers = {t.layer: reader.table(t) for t in spatial}
    for table in spatial:
        fids, cols = layers[table.layer]
        keys[table.layer] = _index_rows(reader, table.layer, fids, cols[table.key], table.key)

    attached: Attached = {}
    for related in RELATED:
        _read_related(reader, related, keys, known, attached)
    for owned in OWNED:
        _read_owned(reader, owned, keys, attached)
    for table in spatial:
        fids, cols = layers[table.layer]
        built[table.layer] = _build(reader, table, fids, cols, attached.get(table.layer, {}))

    bfids, bc = boundary_rows
    boundary: BaseGeometry | None = None
    if len(bfids) == 1:
        boundary = bc["geometry"][0]
    elif len(bfids) > 1:
        boundary = shapely.union_all(bc["geometry"])
        reader.warnings.append(
            f"layer {short_repr(BOUNDARY)} has {len(bfids)} rows; their union is used as the county outline"
        )
    try:
        ref = {attr: meta.get(key, "") for attr, key in ROAD_REF_KEYS.items()}
        ref["kind"] = ref["kind"] or "none"
        road = RoadNetworkRef(**ref)
    except ValidationError as exc:
        raise reader.error(f"invalid road network reference: {exc}", layer=META_TABLE) from None
    name = meta.get("scenario_name", "")
    metadata = {
        k[len(METADATA_PREFIX) :]: v for k, v in meta.items() if k.startswith(METADATA_PREFIX)
    }
    entities = {t.scenario_attr or "": tuple(built[t.layer]) for t in SCENARIO_ENTITIES}
    try:
        return Scenario(
            name=name or reader.path.stem,
            boundary=boundary,
            road_network=road,
            metadata=metadata,
            **entities,
        )
    except (ValueError, TypeError) as exc:
        raise reader.error(f"invalid scenario: {exc}") from None


def _read_documents(reader: LayerReader) -> dict[str, dict[str, str]]:
    fids, c = reader.table(DOCUMENTS_TABLE)
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


def _read_roads(reader: LayerReader) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    if not any(spec.layer in reader.layers for spec in ROAD_LAYERS):
        return None
    for spec in ROAD_LAYERS:
        reader.require_layer(spec.layer)
    out = []
    for spec in ROAD_LAYERS:
        layer, columns, gtype = spec.layer, spec.columns, spec.geometry_type
        gdf = reader.read(layer, spatial=True)
        missing = [c for c in columns if c not in gdf.columns]
        if missing:
            raise reader.error(
                f"column is missing (layer has: {', '.join(map(str, gdf.columns))})",
                layer=layer,
                column=missing[0],
            )
        fids = gdf.index.to_numpy()
        _fix_stored_types(reader, layer, gdf, columns)
        for col, dtype in columns.items():
            gdf[col] = coerce_road_column(gdf[col], dtype, layer, reader.spath, fids=fids)
            if dtype == "str":
                _strip_road_text(reader, layer, gdf, col)
        gdf = _road_crs(reader, layer, gdf)
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
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        lon, lat = coords[:, 0], coords[:, 1]
        bad_xy = ~(np.isfinite(lon) & np.isfinite(lat))
        bad_xy |= ~bad_xy & ((np.abs(lon) > 180.0) | (np.abs(lat) > 90.0))
        if bad_xy.any():
            k = int(np.flatnonzero(bad_xy)[0])
            pos = int(index[k])
            raise reader.error(
                f"coordinate ({float(lon[k]):g}, {float(lat[k]):g}) is not a WGS-84 lon/lat "
                "(NaN, infinite or out of range)",
                layer=layer,
                row=int(fids[pos]),
                column="geometry",
            )
        out.append(gdf)
    nodes, edges = out
    _check_road_values(reader, nodes, edges)
    for gdf in out:
        gdf.index.name = None
    return nodes.reset_index(drop=True), edges.reset_index(drop=True)


#: SQLite storage classes a road column's cells may have (anything else, e.g. text in an
#: INTEGER column, is what GDAL would silently misread: parsed strictly, or refused).
_STORED = {
    "int64": ("integer", "null"),
    "float64": ("integer", "real", "null"),
    "bool": ("integer", "null"),
}


def _fix_stored_types(
    reader: LayerReader, layer: str, gdf: gpd.GeoDataFrame, columns: Mapping[str, str]
) -> None:
    """Re-read the cells GDAL converted by the declared column type (``'1,200'`` → 1): parse
    them strictly from the stored value, or raise at the row."""
    con = reader.connection()
    quoted = '"' + layer.replace('"', '""') + '"'
    try:
        info = con.execute(f"PRAGMA table_info({quoted})").fetchall()
    except sqlite3.Error as exc:
        raise reader.error(f"cannot read layer: {exc}", layer=layer) from None
    pk = [r[1] for r in info if r[5]]
    if len(pk) != 1:
        return
    fid_col = '"' + pk[0].replace('"', '""') + '"'
    for col, dtype in columns.items():
        allowed = _STORED.get(dtype)
        if allowed is None or col not in gdf.columns:
            continue
        qcol = '"' + col.replace('"', '""') + '"'
        marks = ", ".join("?" for _ in allowed)
        try:
            rows = con.execute(
                f"SELECT {fid_col}, {qcol} FROM {quoted} WHERE typeof({qcol}) NOT IN ({marks})",
                allowed,
            ).fetchall()
        except sqlite3.Error as exc:
            raise reader.error(f"cannot read layer: {exc}", layer=layer, column=col) from None
        if not rows:
            continue
        values = gdf[col].astype(object)
        for fid, stored in rows:
            try:
                number = parse_number(stored, whole=dtype != "float64")
            except ValueError as exc:
                raise reader.error(str(exc), layer=layer, row=int(fid), column=col) from None
            if dtype == "bool" and number not in (0, 1):
                raise reader.error(
                    f"expected a boolean (0/1), got {short_repr(stored)}",
                    layer=layer,
                    row=int(fid),
                    column=col,
                )
            values.loc[int(fid)] = number
        gdf[col] = values


def _strip_road_text(reader: LayerReader, layer: str, gdf: gpd.GeoDataFrame, col: str) -> None:
    has = gdf[col].str.contains(CONTROL_CHARACTERS, regex=True)
    if not has.any():
        return
    fids = gdf.index[has.to_numpy()]
    reader.warnings.append(
        f"layer {short_repr(layer)} column {short_repr(col)}: removed control characters from {len(fids)} row(s) "
        f"(first: row {int(fids[0])})"
    )
    gdf[col] = gdf[col].map(strip_controls)


def _road_crs(reader: LayerReader, layer: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The road layer in EPSG:4326; a CRS that cannot be converted (the GeoPackage "undefined
    Cartesian" srs_id -1, an engineering CRS) is an error naming the layer, never a ProjError."""
    if gdf.crs is None:
        if len(gdf):
            reader.warnings.append(f"layer {short_repr(layer)} has no CRS; assumed EPSG:4326")
        return gdf.set_crs(WGS84)
    if gdf.crs.to_epsg() == 4326:
        return gdf
    epsg = gdf.crs.to_epsg()
    name = f"EPSG:{epsg}" if epsg else (gdf.crs.name or gdf.crs.to_string())
    try:
        out = gdf.to_crs(WGS84)
    except Exception as exc:
        raise reader.error(
            f"coordinate reference system {short_repr(name)} cannot be converted to EPSG:4326 "
            f"({one_line(exc)}); set the layer's CRS (e.g. ogr2ogr -a_srs EPSG:4326)",
            layer=layer,
            column="geometry",
        ) from None
    reader.warnings.append(f"reprojected layer {short_repr(layer)} from {name} to EPSG:4326")
    return out


def _check_road_values(reader: LayerReader, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> None:
    """Values the network builder would refuse without the row (fid) and file: unique node ids,
    edges between stored nodes, lengths ≥ 0 and speeds > 0 (finite)."""
    ids = nodes["node_id"].to_numpy()
    dup = pd.Series(ids).duplicated().to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise reader.error(
            f"node_id {int(ids[pos])} appears more than once",
            layer="road_nodes",
            row=int(nodes.index[pos]),
            column="node_id",
        )
    known = np.isin(edges[["u", "v"]].to_numpy(), ids)
    for k, col in enumerate(("u", "v")):
        bad = ~known[:, k]
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise reader.error(
                f"node {int(edges[col].iloc[pos])} is not in layer 'road_nodes'",
                layer="road_edges",
                row=int(edges.index[pos]),
                column=col,
            )
    for col, ok_nan, what in (
        ("length_m", False, "a length ≥ 0 m"),
        ("maxspeed_kmh", True, "a speed > 0 km/h (or empty)"),
    ):
        values = edges[col].to_numpy(dtype="float64")
        good = np.isfinite(values) & (values > 0 if col == "maxspeed_kmh" else values >= 0)
        if ok_nan:
            good |= np.isnan(values)
        if not good.all():
            pos = int(np.flatnonzero(~good)[0])
            raise reader.error(
                f"expected {what}, got {float(values[pos]):g}",
                layer="road_edges",
                row=int(edges.index[pos]),
                column=col,
            )


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
    check_file(p)
    with LayerReader(p) as reader:
        meta = _read_meta(reader)
        scenario = _read_scenario(reader, meta)
        documents = _read_documents(reader)
        roads = _read_roads(reader) if include_roads else None
    gdal = [f"GDAL: {w}" for w in reader.gdal_warnings]
    warnings = [*reader.warnings, *gdal, *validate_scenario(scenario)]
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
    check_file(p)
    with LayerReader(p) as reader:
        _read_meta(reader)
        return _read_roads(reader)
