"""A workspace layer or table → XLSX, CSV, GeoJSON, Shapefile or KML.

The rows come from the workspace writer's own frames (:func:`gis.workspace.writer.scenario_frames`,
the one definition of what a layer's columns hold). Spreadsheets get the Chinese headers of
:data:`gis.imports.mapping.FIELD_WORDS` (so an exported file imports back exactly: export → edit
→ ``import --update`` updates in place) and point layers a 经度/纬度 pair, other geometry as WKT.
Text that a spreadsheet would run as a formula is written as text (XLSX: a string cell; CSV:
:func:`gis.fields.defuse_formula`). CSV is UTF-8 with BOM (Excel reads the Chinese); a Shapefile
is UTF-8 or GBK (``encoding``) with its ``.cpg``, and keeps the schema's English field names
(a ``.dbf`` field name holds 10 bytes, too few for most Chinese headers).
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gis.errors import DataImportError
from gis.fields import defuse_formula
from gis.imports.mapping import label
from gis.workspace.schema import BY_LAYER, DOCUMENTS, META_TABLE

FORMATS = ("xlsx", "csv", "geojson", "shp", "kml")
#: Tables that are not a layer a person exports.
_NOT_LAYERS = {META_TABLE, DOCUMENTS}


def exportable_layers() -> tuple[str, ...]:
    return tuple(name for name in BY_LAYER if name not in _NOT_LAYERS)


def layer_frame(scenario: Any, layer: str) -> pd.DataFrame:
    """The rows of ``layer`` as the workspace stores them (GeoDataFrame for a spatial layer)."""
    from gis.workspace.writer import scenario_frames

    if layer not in exportable_layers():
        raise DataImportError(f"no layer {layer!r} (layers: {', '.join(exportable_layers())})")
    frame = scenario_frames(scenario, {})[layer]
    if layer == "inventory":  # names beside the codes, for people reading the ledger
        names = {s.id: s.name for s in scenario.stockpiles}
        units = {m.code: m.unit for m in scenario.materials}
        frame.insert(1, "stockpile_name", [names.get(i, "") for i in frame["stockpile_id"]])
        frame["unit"] = [units.get(c, "") for c in frame["material"]]
    if layer == "teams":  # the team_skills rows of each team, as a ledger lists them
        skills = {t.id: "、".join(t.skills) for t in scenario.teams}
        frame.insert(len(frame.columns) - 1, "skills", [skills.get(i, "") for i in frame["id"]])
    return frame


def _table_rows(frame: pd.DataFrame) -> tuple[list[str], list[list[Any]]]:
    """Chinese headers and plain rows: point geometry as 经度/纬度, other geometry as WKT."""
    cols = [c for c in frame.columns if c != "geometry"]
    data = [frame[c].tolist() for c in cols]
    headers = [label(c) for c in cols]
    if isinstance(frame, gpd.GeoDataFrame) and "geometry" in frame:
        geoms = list(frame.geometry.values)
        if all(g is not None and g.geom_type == "Point" for g in geoms):
            headers += [label("lon"), label("lat")]
            data += [[round(g.x, 7) for g in geoms], [round(g.y, 7) for g in geoms]]
        else:
            headers.append(label("wkt"))
            data.append([g.wkt if g is not None else "" for g in geoms])
    if len(set(headers)) != len(headers):  # two fields with one Chinese word: keep the names
        headers = [*cols, *headers[len(cols) :]]
    rows = [[_plain(v) for v in row] for row in zip(*data)] if data else []
    return headers, rows


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)  # 758, not 758.0
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def _write_xlsx(path: Path, layer: str, headers: list[str], rows: list[list[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(layer[:31])
    bold = Font(bold=True)
    head = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        head.append(c)
    ws.append(head)
    for row in rows:
        out = []
        for v in row:
            if isinstance(v, str):
                c = WriteOnlyCell(ws, value=v)
                c.data_type = "s"  # text, never a formula (names from data)
                out.append(c)
            else:
                out.append(v)
        ws.append(out)
    wb.save(path)


def _write_csv(path: Path, headers: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow([defuse_formula(h) for h in headers])
        for row in rows:
            w.writerow([defuse_formula(v) for v in row])


def _vector_frame(frame: pd.DataFrame, layer: str, chinese: bool) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise DataImportError(f"layer {layer!r} has no geometry: export it as xlsx or csv")
    out = frame.copy()
    for c in out.columns:
        if c != "geometry" and out[c].dtype == object:
            out[c] = out[c].map(lambda v: "" if v is None else str(v))
    if chinese:
        renamed = {c: label(c) for c in out.columns if c != "geometry"}
        if len(set(renamed.values())) == len(renamed):
            out = out.rename(columns=renamed)
    return out


def export_layer(
    workspace: Path, layer: str, fmt: str, out: Path, *, encoding: str = "utf-8"
) -> dict[str, Any]:
    """Write ``layer`` of ``workspace`` to ``out`` in ``fmt``; a summary for the CLI."""
    from gis.workspace import read_workspace

    if not Path(workspace).is_file():
        raise DataImportError(f"workspace {workspace} does not exist")
    scenario = read_workspace(workspace, include_roads=False).scenario
    return write_layer(scenario, layer, fmt, out, encoding=encoding)


def write_layer(
    scenario: Any, layer: str, fmt: str, out: Path, *, encoding: str = "utf-8"
) -> dict[str, Any]:
    """Write ``layer`` of ``scenario`` to ``out`` (the body of :func:`export_layer`)."""
    import pyogrio

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise DataImportError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    enc = encoding.lower().replace("_", "-")
    if enc not in ("utf-8", "gbk", "gb18030"):
        raise DataImportError(f"--encoding {encoding!r}: expected utf-8 or gbk")
    out = Path(out)
    if not out.parent.is_dir():
        raise DataImportError(f"{out}: directory {out.parent} does not exist")
    frame = layer_frame(scenario, layer)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmpdir:
        tmp = Path(tmpdir) / out.name
        if fmt in ("xlsx", "csv"):
            headers, rows = _table_rows(frame)
            if fmt == "xlsx":
                _write_xlsx(tmp, layer, headers, rows)
            else:
                _write_csv(tmp, headers, rows)
        else:
            gdf = _vector_frame(frame, layer, chinese=fmt != "shp")
            try:
                if fmt == "geojson":
                    pyogrio.write_dataframe(gdf, tmp, driver="GeoJSON")
                elif fmt == "kml":
                    name_field = label("name") if label("name") in gdf.columns else "name"
                    pyogrio.write_dataframe(
                        gdf, tmp, driver="KML", dataset_options={"NameField": name_field}
                    )
                else:
                    if gdf.geometry.geom_type.nunique() > 1:
                        raise DataImportError(
                            f"layer {layer!r} mixes geometry types, which a Shapefile cannot hold: "
                            "export it as geojson, kml or gpkg"
                        )
                    pyogrio.write_dataframe(
                        gdf,
                        tmp,
                        driver="ESRI Shapefile",
                        encoding="GBK" if enc != "utf-8" else "UTF-8",
                    )
            except DataImportError:
                raise
            except Exception as exc:  # noqa: BLE001 - GDAL refuses a value: one clear line
                raise DataImportError(
                    f"{out}: cannot write {fmt} ({' '.join(str(exc).split())[:160]})"
                ) from None
        for f in Path(tmpdir).iterdir():
            target = out.with_suffix(f.suffix) if fmt == "shp" else out
            shutil.move(str(f), target)
    return {"layer": layer, "format": fmt, "out": str(out), "rows": int(len(frame))}


__all__ = ["FORMATS", "export_layer", "exportable_layers", "layer_frame", "write_layer"]
