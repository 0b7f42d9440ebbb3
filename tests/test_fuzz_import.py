"""Fuzzing the importers: a malformed file is imported or refused, never a traceback, and a
refused import leaves the workspace byte-identical.

Each case builds a valid file for one importer (XLSX, CSV, Shapefile, GeoJSON, KML, GeoPackage)
from the demo county's stockpiles (new names, a few existing ids), applies one mutation from the
catalogue below — content (formulas, NaN, huge values, duplicate ids, missing columns, swapped or
projected coordinates, control characters, 10,000-character text) or bytes (truncated,
bit-flipped, re-encoded, garbage) — and imports it (every :data:`FULL_EVERY`-th case through :func:`gis.imports.run_import`, commit
allowed; the others as a preview).
The outcome must be a result or a :class:`gis.errors.ReliefDeskError` with a one-line message;
after a refusal or any rejected row the workspace's bytes are unchanged.

CI runs ``RELIEFDESK_FUZZ_IMPORT_CASES`` (default 50) cases per importer with seed
``RELIEFDESK_FUZZ_IMPORT_SEED`` (default 7); the long run is
``RELIEFDESK_FUZZ_IMPORT_CASES=1000 pytest tests/test_fuzz_import.py -s`` (it prints the counts).
A failing case prints importer, case number and mutation for replay.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import shutil
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely

from gis.errors import ReliefDeskError
from gis.imports import ImportRequest, plan_import, run_import
from gis.workspace import read_workspace, write_workspace
from tests.conftest import DEMO_WORKSPACE
from tests.gpkg_tamper import sha256

CASES = int(os.environ.get("RELIEFDESK_FUZZ_IMPORT_CASES", "50"))
SEED = int(os.environ.get("RELIEFDESK_FUZZ_IMPORT_SEED", "7"))
#: Every this many cases go through :func:`run_import` (workspace read, hash checked, commit);
#: the others through :func:`plan_import` on the scenario read once (the same parsing, checks
#: and row decisions, without the 0.4 s workspace read).
FULL_EVERY = int(os.environ.get("RELIEFDESK_FUZZ_IMPORT_FULL_EVERY", "25"))
IMPORTERS = ("xlsx", "csv", "shp", "geojson", "kml", "gpkg")
HEADERS = ["编号", "名称", "级别", "经度", "纬度", "联系电话"]

#: Hostile cell values (label, value).
VALUES: tuple[tuple[str, Any], ...] = (
    ("formula =", "=1+1"),
    ("formula +", "+cmd|' /C calc'!A0"),
    ("formula @", "@SUM(A1:A9)"),
    ("formula -", "-2+3"),
    ("nan", math.nan),
    ("'NaN'", "NaN"),
    ("inf", math.inf),
    ("1e308", 1e308),
    ("-1e20", -1e20),
    ("400 digits", "9" * 400),
    ("empty", ""),
    ("spaces", "   "),
    ("ESC", "名\x1b[31m称"),
    ("NUL", "a\x00b"),
    ("bidi", "\u202eevil"),
    ("10k chars", "长" * 10_000),
    ("DMS bad", "东经105°75′99″"),
    ("thousands", "1,200"),
    ("date text", "2024年13月45日"),
    ("level V", "Ⅴ"),
    ("zero", 0),
    ("negative", -1),
)


def _base_rows(demo: Any, rng: random.Random) -> list[list[Any]]:
    rows = []
    for k, sp in enumerate(demo.stockpiles[:5]):
        ident = sp.id if k == 0 else f"FZ-{k:03d}"  # one existing id: exercises the match
        rows.append(
            [ident, f"{sp.name}{k}", str(sp.level), sp.location.lon, sp.location.lat, "0830-1"]
        )
    rng.shuffle(rows)
    return rows


def _content_mutation(rng: random.Random, rows: list[list[Any]], headers: list[str]) -> str:
    """Mutate rows/headers in place; return the label."""
    kind = rng.choice(("value", "value", "value", "duplicate", "missing column", "crs", "empty"))
    if kind == "value":
        label, value = rng.choice(VALUES)
        r, c = rng.randrange(len(rows)), rng.randrange(len(headers))
        rows[r][c] = value
        return f"value {label} at row {r} col {headers[c]}"
    if kind == "duplicate":
        rows.append(list(rows[rng.randrange(len(rows))]))
        return "duplicate id"
    if kind == "missing column":
        c = rng.randrange(len(headers))
        name = headers.pop(c)
        for row in rows:
            row.pop(c)
        return f"missing column {name}"
    if kind == "crs":
        how = rng.choice(("swap", "projected", "zero", "far"))
        for row in rows:
            if how == "swap":
                row[3], row[4] = row[4], row[3]
            elif how == "projected":
                row[3], row[4] = row[3] * 1e5 + 35_000_000, row[4] * 1e5
            elif how == "zero":
                row[3], row[4] = 0.0, 0.0
            else:
                row[3] = row[3] + 40
        return f"wrong crs {how}"
    rows.clear()
    return "no data rows"


def _byte_mutation(rng: random.Random, path: Path) -> str:
    data = bytearray(path.read_bytes())
    how = rng.choice(("truncate", "bitflip", "garbage", "reencode"))
    if how == "truncate" and data:
        cut = rng.randrange(len(data))
        path.write_bytes(bytes(data[:cut]))
        return f"truncated at {cut}/{len(data)}"
    if how == "bitflip" and data:
        n = rng.randint(1, 20)
        for _ in range(n):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
        return f"{n} bits flipped"
    if how == "reencode":
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            text = bytes(data).decode("latin-1")
        enc = rng.choice(("utf-16", "gb18030", "latin-1", "shift_jis", "big5"))
        path.write_bytes(text.encode(enc, errors="replace"))
        return f"re-encoded as {enc}"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(1, 4000))))
    return "garbage bytes"


def _frame(rows: list[list[Any]], headers: list[str], crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    lon_i = headers.index("经度") if "经度" in headers else None
    lat_i = headers.index("纬度") if "纬度" in headers else None
    geoms = []
    for row in rows:
        try:
            x = float(row[lon_i]) if lon_i is not None else 0.0
            y = float(row[lat_i]) if lat_i is not None else 0.0
            ok = math.isfinite(x) and math.isfinite(y) and max(abs(x), abs(y)) < 1e8
            geoms.append(shapely.Point(x, y) if ok else None)
        except (TypeError, ValueError):
            geoms.append(None)
    data = {
        h: [_text(row[i]) for row in rows]
        for i, h in enumerate(headers)
        if h not in ("经度", "纬度")
    }
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)


def _text(v: Any) -> Any:
    if isinstance(v, str):
        return v.replace("\x00", "")
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return str(v)


def _write(importer: str, path: Path, rows: list[list[Any]], headers: list[str]) -> Path:
    if importer == "xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["合江县应急物资储备库台账"])
        ws.append(headers)
        for row in rows:
            clean = []
            for v in row:
                if isinstance(v, str):
                    v = "".join(ch for ch in v if ch >= " " or ch in "\t\n")
                clean.append(v)
            ws.append(clean)
        ws.append(["合计"])
        out = path.with_suffix(".xlsx")
        wb.save(out)
        return out
    if importer == "csv":
        out = path.with_suffix(".csv")
        with open(out, "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows(rows)
        return out
    gdf = _frame(rows, headers)
    if importer == "geojson":
        out = path.with_suffix(".geojson")
        out.write_text(gdf.to_json(), encoding="utf-8")
        return out
    if importer == "kml":
        out = path.with_suffix(".kml")
        gdf = gdf.rename(columns={"名称": "Name"}) if "名称" in gdf else gdf
        pyogrio.write_dataframe(gdf, out, driver="KML")
        return out
    if importer == "gpkg":
        out = path.with_suffix(".gpkg")
        pyogrio.write_dataframe(gdf, out, layer="储备库")
        return out
    out = path.with_suffix(".shp")
    gk = gdf.to_crs("EPSG:4545")
    finite = [
        g is not None and bool(np.isfinite(shapely.get_coordinates(g)).all()) for g in gk.geometry
    ]
    gk.loc[[not f for f in finite], "geometry"] = None  # a lon of 1e300 projects to inf
    pyogrio.write_dataframe(gk, out, encoding="GBK")
    if out.with_suffix(".cpg").exists():
        out.with_suffix(".cpg").unlink()
    return out


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    demo = read_workspace(DEMO_WORKSPACE, include_roads=False).scenario
    out = tmp_path_factory.mktemp("fz") / "ws.gpkg"
    write_workspace(out, demo.replace(incidents=(), hazards=(), closures=(), teams=()))
    return out, demo


def _one_line(text: str) -> bool:
    return bool(text) and "\n" not in text and "Traceback" not in text


@pytest.mark.parametrize("importer", IMPORTERS)
def test_malformed_files_are_imported_or_refused_cleanly(
    importer: str, small_ws: tuple[Path, Any], tmp_path: Path
) -> None:
    base, demo = small_ws
    ws = tmp_path / "ws.gpkg"
    shutil.copyfile(base, ws)
    clean = sha256(ws)
    scenario = read_workspace(ws, include_roads=False).scenario
    rng = random.Random(f"{SEED}-{importer}")
    outcomes: Counter[str] = Counter()
    for case in range(CASES):
        case_dir = tmp_path / f"c{case}"
        case_dir.mkdir()
        headers = list(HEADERS)
        rows = _base_rows(demo, rng)
        label = _content_mutation(rng, rows, headers) if rng.random() < 0.6 else "valid"
        path = _write(importer, case_dir / "in", rows, headers)
        if rng.random() < 0.4:
            target = path
            if importer == "shp":
                target = path.with_suffix(rng.choice((".shp", ".dbf", ".shx", ".prj")))
            label += "; " + _byte_mutation(rng, target)
        crs = rng.choice(("auto",) * 6 + ("gcj02", "bd09", "EPSG:4545", "wgs84"))
        request = ImportRequest(
            workspace=ws, file=path, kind="stockpiles", crs=crs, update=rng.random() < 0.5
        )
        where = f"importer {importer} case {case} (seed {SEED}): {label}, --crs {crs}"
        full = case % FULL_EVERY == 0  # read + commit through the workspace (slow: ~0.5–1.5 s)
        try:
            result = run_import(request) if full else plan_import(request, scenario)
        except ReliefDeskError as exc:
            assert _one_line(str(exc)), f"{where}: message not one line: {exc!r}"
            assert sha256(ws) == clean, f"{where}: workspace changed after a refused import"
            outcomes["refused"] += 1
        except Exception:  # noqa: BLE001 - the harness reports any other exception
            pytest.fail(f"{where}: traceback\n{traceback.format_exc()}")
        else:
            json.dumps(result.to_json(), ensure_ascii=False)
            for r in result.rejected:
                assert _one_line(r.reason), f"{where}: reason not one line: {r.reason!r}"
            if result.committed:
                outcomes["committed"] += 1
                shutil.copyfile(base, ws)
            else:
                assert sha256(ws) == clean, f"{where}: workspace changed without a commit"
                if result.rejected:
                    outcomes["rows rejected" + (" (file committed nothing)" if full else "")] += 1
                elif result.added or result.updated:
                    outcomes["would commit (preview)"] += 1
                else:
                    outcomes["nothing to do"] += 1
        shutil.rmtree(case_dir)
    print(f"\n{importer}: {CASES} cases: {dict(outcomes)}")
    assert sum(outcomes.values()) == CASES


def test_harness_builds_valid_files_that_import(small_ws: tuple[Path, Any], tmp_path: Path) -> None:
    """The unmutated files of every importer import (so the fuzz starts from real files)."""
    base, demo = small_ws
    builders: dict[str, Callable[[], Path]] = {}
    for importer in IMPORTERS:
        d = tmp_path / importer
        d.mkdir()
        rows = [r for r in _base_rows(demo, random.Random(1)) if r[0] != demo.stockpiles[0].id]
        builders[importer] = lambda importer=importer, d=d, rows=rows: _write(
            importer, d / "in", rows, list(HEADERS)
        )
    scenario = read_workspace(base, include_roads=False).scenario
    for importer, build in builders.items():
        request = ImportRequest(workspace=base, file=build(), kind="stockpiles")
        result = plan_import(request, scenario)
        assert not result.rejected and len(result.added) == 4, (importer, result.rejected)
