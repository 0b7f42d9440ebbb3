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
  :func:`gis.model.parse_number`: what a person means is accepted (``"300"``, ``"1,200"``,
  ``"1 200"``, full-width digits), anything else refused with layer, row, column and value
  (``"约850"``, ``2.5`` people, NaN, infinities, binary data); then the field's plausibility
  limit (:data:`gis.model.FIELD_LIMITS` via :func:`~gis.workspace.schema.column_limit`).
  Road layers get the same treatment for cells whose storage class does not match.
* Text loses control characters (:data:`gis.model.CONTROL_CHARACTERS`: ESC, NUL, C1, bidi
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

import contextlib
import json
import math
import os
import sqlite3
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
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
    CONTROL_CHARACTERS,
    Limit,
    RoadNetworkRef,
    Scenario,
    parse_number,
    short_repr,
    strip_controls,
)
from gis.workspace.checks import check_file, coerce_road_column, repair_geometry, validate_scenario
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
    Column,
    EntityTable,
    RelatedTable,
    Table,
    Workspace,
    column_limit,
    entity_table,
)

Rows = dict[str, list[Any]]
#: what related and owned rows attach to their owners: owner layer → owner key → attr → value
Attached = dict[str, dict[str, dict[str, Any]]]


_KIND_NOUN = {
    "int": "a whole number",
    "float": "a number",
    "bool": "a boolean",
    "datetime": "a time",
    "text": "text",
}


def _one_line(exc: BaseException) -> str:
    """A library's message on one line (GEOS and GDAL messages may span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


@contextlib.contextmanager
def _gdal_warnings(sink: list[str]) -> Iterator[None]:
    """Collect the RuntimeWarnings pyogrio raises for GDAL warnings instead of printing them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        yield
    for w in caught:
        text = _one_line(Exception(str(w.message)))
        if text not in sink:
            sink.append(text)


class _Reader:
    """Reads layers of one file, collecting warnings and raising located WorkspaceErrors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spath = str(path)
        self.warnings: list[str] = []
        #: GDAL's own warnings (e.g. a table listed in gpkg_contents but dropped): collected,
        #: shown in :attr:`Workspace.warnings` when the read succeeds, never printed
        self.gdal_warnings: list[str] = []
        try:
            with _gdal_warnings(self.gdal_warnings):
                listed = pyogrio.list_layers(path)
        except Exception as exc:
            raise WorkspaceError(
                f"cannot open as a GeoPackage: {_one_line(exc)}", path=self.spath
            ) from None
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
            with _gdal_warnings(self.gdal_warnings):
                df = pyogrio.read_dataframe(
                    self.path, layer=layer, fid_as_index=True, read_geometry=spatial
                )
        except Exception as exc:
            raise self.error(f"cannot read layer: {_one_line(exc)}", layer=layer) from None
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
        """Raw features of a spatial layer: fids, field values, shapely geometries, CRS.

        The field values are the cells as SQLite stores them (read with the attribute tables'
        connection), not as GDAL converts them by the declared column type: GDAL reads the text
        ``'1,200'`` in an INTEGER column as 1. pyogrio reads only the geometries and the CRS.
        """
        self.require_layer(layer)
        try:
            with _gdal_warnings(self.gdal_warnings):
                meta, gfids, wkb, _ = pyogrio.raw.read(
                    self.path, layer=layer, return_fids=True, columns=[]
                )
        except Exception as exc:
            raise self.error(f"cannot read layer: {_one_line(exc)}", layer=layer) from None
        if wkb is None or meta.get("geometry_type") is None:
            raise self.error("layer has no geometry column", layer=layer, column="geometry")
        try:
            geoms = shapely.from_wkb(wkb)
        except Exception as exc:
            raise self.error(
                f"unreadable geometry: {_one_line(exc)}", layer=layer, column="geometry"
            ) from None
        fids, raw = self.attributes(layer)
        geom_col = self._geometry_column(layer)
        raw.pop(geom_col, None)
        if [int(f) for f in gfids] != fids:
            by_fid = {int(f): g for f, g in zip(gfids, geoms)}
            missing = [f for f in fids if f not in by_fid]
            if missing:
                raise self.error(
                    "row not readable by GDAL (is the layer's primary key intact?)",
                    layer=layer,
                    row=missing[0],
                )
            geoms = np.array([by_fid[f] for f in fids], dtype=object)
        return fids, raw, geoms, meta.get("crs")

    def _geometry_column(self, layer: str) -> str:
        try:
            row = (
                self._sqlite()
                .execute(
                    "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
                )
                .fetchone()
            )
        except sqlite3.Error as exc:
            raise self.error(f"cannot read layer: {exc}", layer=layer) from None
        return str(row[0]) if row else "geom"

    def table(self, table: Table) -> tuple[list[int], dict[str, list[Any]]]:
        """Read a table; return fids and its spec'd columns converted to Python values."""
        layer = table.layer
        geoms = crs = None
        if table.geometry is not None:
            fids, raw, geoms, crs = self.features(layer)
        else:
            fids, raw = self.attributes(layer)
        cols: dict[str, list[Any]] = {}
        for col in table.columns:
            if col.name not in raw:
                if col.required:
                    raise self.error(
                        f"column is missing (layer has: {', '.join(raw) or 'no columns'})",
                        layer=layer,
                        column=col.name,
                    )
                default = col.default
                if default is None and col.kind == "text":
                    default = ""
                cols[col.name] = [default] * len(fids)
                continue
            limit = column_limit(table, col)
            cols[col.name] = [
                self.cell(layer, fid, col, v, limit) for fid, v in zip(fids, raw[col.name])
            ]
        if table.geometry is not None and geoms is not None:
            cols["geometry"] = self.geometries(layer, table.geometry.allowed, geoms, crs, fids)
        return fids, cols

    def cell(
        self, layer: str, fid: int, col: Column, value: Any, limit: Limit | None = None
    ) -> Any:
        """One value of column ``col``, converted to its kind (see the module doc): numbers with
        :func:`~gis.model.parse_number` then ``limit``, text without control characters."""
        kind = col.kind
        name = col.name
        missing = (
            value is None
            or (isinstance(value, float) and math.isnan(value))
            or (value is pd.NA or value is pd.NaT)
        )
        if missing:
            if col.nullable:
                return col.missing_value()
            if kind == "text":
                return ""
            if col.default is not None and not col.required:
                return col.default
            raise self.error("value is empty (NULL)", layer=layer, row=fid, column=name)
        if isinstance(value, bytes | bytearray | memoryview) and kind != "text":
            raise self.error(
                f"expected {_KIND_NOUN[kind]}, got binary data ({len(bytes(value))} bytes)",
                layer=layer,
                row=fid,
                column=name,
            )
        if kind == "text":
            if isinstance(value, str):
                return self.text(layer, fid, name, value)
            if isinstance(value, bool | np.bool_):
                raise self.error(
                    f"expected text, got {short_repr(value)}", layer=layer, row=fid, column=name
                )
            if isinstance(value, int | np.integer):
                return str(int(value))
            if isinstance(value, float | np.floating) and float(value).is_integer():
                return str(int(value))  # a code typed as a number in QGIS
            raise self.error(
                f"expected text, got {short_repr(value)}", layer=layer, row=fid, column=name
            )
        if kind in ("int", "float"):
            if col.roman and isinstance(value, str):
                if CONTROL_CHARACTERS.search(value):
                    value = self.text(layer, fid, name, value)
                return value  # "II", "Ⅲ", "3级": parsed by the model
            try:
                number = parse_number(value, whole=kind == "int")
            except ValueError as exc:
                raise self.error(str(exc), layer=layer, row=fid, column=name) from None
            if col.non_negative and number < 0:
                raise self.error(
                    f"quantity must be ≥ 0, got {short_repr(value)}",
                    layer=layer,
                    row=fid,
                    column=name,
                )
            if limit is not None and (why := limit.problem(number)) is not None:
                raise self.error(why, layer=layer, row=fid, column=name)
            return number if kind == "int" else float(number)
        if kind == "bool":
            if isinstance(value, bool | np.bool_):
                return bool(value)
            if isinstance(value, int | np.integer | float | np.floating) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "0", "1"):
                return value.strip().lower() in ("true", "1")
            raise self.error(
                f"expected a boolean, got {short_repr(value)}", layer=layer, row=fid, column=name
            )
        if kind == "datetime":
            if isinstance(value, pd.Timestamp):
                return value.to_pydatetime()
            if isinstance(value, datetime):
                return value
            if isinstance(value, str):
                if not value.strip() and col.nullable:
                    return None
                try:
                    return datetime.fromisoformat(value.strip())
                except ValueError:
                    raise self.error(
                        f"expected an ISO 8601 time (e.g. 2024-07-01T08:30:00+08:00), got "
                        f"{short_repr(value)}",
                        layer=layer,
                        row=fid,
                        column=name,
                    ) from None
            raise self.error(
                f"expected a time, got {short_repr(value)}", layer=layer, row=fid, column=name
            )
        raise AssertionError(kind)  # pragma: no cover

    def text(self, layer: str, fid: int, column: str, value: str) -> str:
        """``value`` without control characters; what was stripped is warned about (a file from
        another tool still opens, and no escape sequence reaches a terminal or an export)."""
        bad = CONTROL_CHARACTERS.findall(value.replace("\r\n", "\n"))
        if not bad:
            return value.replace("\r\n", "\n")
        codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in bad}))
        self.warnings.append(
            f"layer {short_repr(layer)} row {fid} column {short_repr(column)}: removed {len(bad)} control "
            f"character(s) ({codes})"
        )
        return strip_controls(value)

    def geometries(
        self, layer: str, allowed: tuple[str, ...], geoms: np.ndarray, crs: Any, fids: list[int]
    ) -> list[BaseGeometry]:
        if crs is None:
            if len(geoms):
                self.warnings.append(
                    f"layer {short_repr(layer)} has no coordinate reference system; assumed EPSG:4326"
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
                    self.warnings.append(
                        f"reprojected layer {short_repr(layer)} from {name} to EPSG:4326"
                    )
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
                fixed = repair_geometry(g, allowed)
                if fixed is None:
                    raise self.error(
                        f"invalid geometry ({reason}) that cannot be repaired",
                        layer=layer,
                        row=fid,
                        column="geometry",
                    )
                self.warnings.append(
                    f"layer {short_repr(layer)} row {fid}: invalid geometry ({reason}) repaired with "
                    f"make_valid (now {fixed.geom_type})"
                )
                g = fixed
            out.append(g)
        return out


def _read_meta(reader: _Reader) -> dict[str, str]:
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
    reader: _Reader, layer: str, fids: list[int], ids: list[str], col: str = "id"
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


def _make(reader: _Reader, table: EntityTable, fid: int, kwargs: dict[str, Any]) -> Any:
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
    reader: _Reader,
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
    reader: _Reader,
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
    reader: _Reader, table: EntityTable, keys: Mapping[str, Mapping[str, int]], attached: Attached
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


def _read_scenario(reader: _Reader, meta: dict[str, str]) -> Scenario:
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


def _read_documents(reader: _Reader) -> dict[str, dict[str, str]]:
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


def _read_roads(reader: _Reader) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
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
    reader: _Reader, layer: str, gdf: gpd.GeoDataFrame, columns: Mapping[str, str]
) -> None:
    """Re-read the cells GDAL converted by the declared column type (``'1,200'`` → 1): parse
    them strictly from the stored value, or raise at the row."""
    con = reader._sqlite()
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


def _strip_road_text(reader: _Reader, layer: str, gdf: gpd.GeoDataFrame, col: str) -> None:
    has = gdf[col].str.contains(CONTROL_CHARACTERS, regex=True)
    if not has.any():
        return
    fids = gdf.index[has.to_numpy()]
    reader.warnings.append(
        f"layer {short_repr(layer)} column {short_repr(col)}: removed control characters from {len(fids)} row(s) "
        f"(first: row {int(fids[0])})"
    )
    gdf[col] = gdf[col].map(strip_controls)


def _road_crs(reader: _Reader, layer: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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
            f"({_one_line(exc)}); set the layer's CRS (e.g. ogr2ogr -a_srs EPSG:4326)",
            layer=layer,
            column="geometry",
        ) from None
    reader.warnings.append(f"reprojected layer {short_repr(layer)} from {name} to EPSG:4326")
    return out


def _check_road_values(reader: _Reader, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> None:
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
    with _Reader(p) as reader:
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
    with _Reader(p) as reader:
        _read_meta(reader)
        return _read_roads(reader)
