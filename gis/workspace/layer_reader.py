"""The open GeoPackage as the reader sees it: layers, rows and cells, each converted and checked
in one place (:class:`LayerReader`).

Cells are read as SQLite stores them through one read-only ``sqlite3`` connection (GDAL converts
by the declared column type and would read the text ``'1,200'`` in an INTEGER column as 1);
geometries through ``pyogrio.raw.read``. A cell is converted by its column's kind with
:func:`gis.fields.parse_number` and checked against the field's plausibility limit; text loses
control characters with a warning. Every error is a :class:`gis.errors.WorkspaceError` naming
file, layer, row (the ``fid`` QGIS shows) and column. GDAL's own warnings are collected, never
printed. :mod:`gis.workspace.reader` assembles the scenario from what this module returns.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import warnings
from collections.abc import Iterator
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

from gis.errors import WorkspaceError
from gis.fields import CONTROL_CHARACTERS, Limit, parse_number, short_repr, strip_controls
from gis.workspace.checks import repair_geometry
from gis.workspace.schema import (
    WGS84,
    Column,
    Table,
    column_limit,
)

Rows = dict[str, list[Any]]

_KIND_NOUN = {
    "int": "a whole number",
    "float": "a number",
    "bool": "a boolean",
    "datetime": "a time",
    "text": "text",
}


def one_line(exc: BaseException) -> str:
    """A library's message on one line (GEOS and GDAL messages may span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


@contextlib.contextmanager
def _gdal_warnings(sink: list[str]) -> Iterator[None]:
    """Collect the RuntimeWarnings pyogrio raises for GDAL warnings instead of printing them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        yield
    for w in caught:
        text = one_line(Exception(str(w.message)))
        if text not in sink:
            sink.append(text)


class LayerReader:
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
                f"cannot open as a GeoPackage: {one_line(exc)}", path=self.spath
            ) from None
        self.layers = {str(name): gtype for name, gtype in listed}
        self._con: sqlite3.Connection | None = None

    @classmethod
    def detached(cls, where: str) -> LayerReader:
        """A reader of rows that come from elsewhere (a shared database's records): the same
        cell conversion, checks and located errors, with ``where`` as the place they name."""
        self = cls.__new__(cls)
        self.path = Path(".")
        self.spath = where
        self.warnings = []
        self.gdal_warnings = []
        self.layers = {}
        self._con = None
        return self

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

    def __enter__(self) -> LayerReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def connection(self) -> sqlite3.Connection:
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
            raise self.error(f"cannot read layer: {one_line(exc)}", layer=layer) from None
        if spatial and not isinstance(df, gpd.GeoDataFrame):
            raise self.error("layer has no geometry column", layer=layer, column="geometry")
        return df

    def attributes(self, layer: str) -> tuple[list[int], dict[str, list[Any]]]:
        """Raw rows of a GeoPackage attribute table, in fid order (one SQLite connection for all:
        ~1 ms per table where opening the file through GDAL again costs ~15 ms)."""
        self.require_layer(layer)
        con = self.connection()
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
            raise self.error(f"cannot read layer: {one_line(exc)}", layer=layer) from None
        if wkb is None or meta.get("geometry_type") is None:
            raise self.error("layer has no geometry column", layer=layer, column="geometry")
        try:
            geoms = shapely.from_wkb(wkb)
        except Exception as exc:
            raise self.error(
                f"unreadable geometry: {one_line(exc)}", layer=layer, column="geometry"
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
                self.connection()
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
        if table.optional and layer not in self.layers:  # added after files were written
            empty: dict[str, list[Any]] = {c.name: [] for c in table.columns}
            if table.geometry is not None:
                empty["geometry"] = []
            return [], empty
        if table.geometry is not None:
            fids, raw, geoms, crs = self.features(layer)
        else:
            fids, raw = self.attributes(layer)
        cols = self.convert(table, fids, raw)
        if table.geometry is not None and geoms is not None:
            cols["geometry"] = self.geometries(layer, table.geometry.allowed, geoms, crs, fids)
        return fids, cols

    def convert(
        self, table: Table, fids: list[int], raw: dict[str, list[Any]]
    ) -> dict[str, list[Any]]:
        """The spec'd columns of rows read as stored (``raw``), each cell converted and checked
        by :meth:`cell`; a missing optional column takes its default."""
        layer = table.layer
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
        return cols

    def cell(
        self, layer: str, fid: int, col: Column, value: Any, limit: Limit | None = None
    ) -> Any:
        """One value of column ``col``, converted to its kind (see the module doc): numbers with
        :func:`~gis.fields.parse_number` then ``limit``, text without control characters."""
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
