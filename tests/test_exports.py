"""Exports of a real plan of the demo county (PDF, XLSX, GeoJSON, CSV, offline HTML map), and of a
hand-built plan whose names are hostile (``<script>``...), which must come out as text."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from PIL import Image
from shapely.geometry import shape

from dispatch.export.common import ROW_FIELDS, order_rows
from dispatch.export.csv import CSV_HEADER, export_csv
from dispatch.export.geojson import export_geojson
from dispatch.export.html_map import export_html, render_html
from dispatch.export.pdf import export_pdf
from dispatch.export.xlsx import (
    INDEX_HEADERS,
    ORDER_HEADERS,
    PROBLEM_HEADERS,
    PROBLEMS_SHEET,
    SAFETY_HEADERS,
    SAFETY_SHEET,
    SUMMARY_SHEET,
    export_xlsx,
)
from dispatch.plan import Plan
from dispatch.records import OrderKind
from dispatch.timeliness import problem_lines
from tests.test_orders import HOSTILE, build_scenario, make_plan

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils (pdftotext, pdffonts, pdftoppm) not installed",
)


@pytest.fixture(scope="module")
def plan(demo_plan: Plan) -> Plan:
    p = demo_plan
    # approved and issued, so the headers show a status and an issue time
    return p.approve("县应急局 张局长", p.created_at + timedelta(minutes=3)).issue(
        "值班员 李四", p.created_at + timedelta(minutes=4)
    )


@pytest.fixture(scope="module")
def hostile_plan() -> Plan:
    return make_plan(build_scenario())


@pytest.fixture(scope="module")
def pdf(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_pdf(plan, tmp_path_factory.mktemp("pdf") / "orders.pdf")


def _pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


# ---- PDF -------------------------------------------------------------------------------------


@needs_poppler
def test_pdf_orders_one_per_page_with_embedded_font(plan: Plan, pdf: Path) -> None:
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    wqy = [ln for ln in fonts.splitlines() if "WenQuanYi" in ln]
    assert wqy and all(ln.split()[-5] == "yes" for ln in wqy)  # the "emb" column
    assert "STSong" not in fonts
    pages = _pdf_pages(pdf)
    assert len(pages) >= 1 + len(plan.orders)
    assert "应急调度方案" in pages[0] and plan.number in pages[0]
    for o in plan.orders:
        if o.kind == OrderKind.TRANSFER:
            for it in o.items:
                assert any(it.name in p for p in pages)
    # each order starts a page: its title and number at the top of that page
    starts = [p for p in pages[1:] if re.search(r"应急物资调拨单|救援队伍派遣令", p)]
    assert len(starts) == len(plan.orders)
    for o, page in zip(plan.orders, starts):
        assert f"指令编号 {o.number}" in page and o.title in page
        assert "已下达" in page and f"{plan.issued_at:%Y-%m-%d %H:%M}" in page
        assert o.unit_name in page
    assert "签发人" in pages[-1] and "接收人" in pages[-1]
    # every footer names its page and the total, so a missing printed page is noticed
    for n, page in enumerate(pages, start=1):
        assert f"第 {n} 页 / 共 {len(pages)} 页" in page
    # levels as operators write them (Roman), never raw objective numbers in the summary
    assert re.search(r"\b(I|II|III|IV) 级", pages[0])
    assert not re.search(r"\d\.\d+e[+-]\d+", pages[0])


@needs_poppler
def test_pdf_route_map_is_drawn(pdf: Path, tmp_path: Path) -> None:
    import numpy as np

    pages = _pdf_pages(pdf)
    first = next(i for i, p in enumerate(pages) if "应急物资调拨单" in p) + 1

    def red_pixels(page: int) -> int:
        stem = tmp_path / f"p{page}"
        args = ["pdftoppm", "-png", "-r", "72", "-f", str(page), "-l", str(page)]
        subprocess.run([*args, str(pdf), str(stem)], check=True)
        png = next(tmp_path.glob(f"p{page}*.png"))
        img = np.asarray(Image.open(png).convert("RGB")).astype(int)
        # route polyline and stop markers are drawn in #c0392b: count pixels of that colour
        # (the cover's unmet and late rows are red and orange text, of other colours)
        return int((np.abs(img - np.array([192, 57, 43])).max(axis=2) <= 12).sum())

    assert red_pixels(1) < 5  # the summary page has no map
    assert red_pixels(first) > 100


@needs_poppler
def test_pdf_prints_hostile_names_as_text(hostile_plan: Plan, tmp_path: Path) -> None:
    pdf = export_pdf(hostile_plan, tmp_path / "h.pdf")
    text = "".join(_pdf_pages(pdf))
    assert '<script>alert("x")</script>' in text.replace("\n", "")


# ---- XLSX ------------------------------------------------------------------------------------


def test_xlsx_summary_and_one_sheet_per_order(plan: Plan, tmp_path: Path) -> None:
    wb = load_workbook(export_xlsx(plan, tmp_path / "orders.xlsx"))
    assert wb.sheetnames == [
        SUMMARY_SHEET,
        PROBLEMS_SHEET,
        SAFETY_SHEET,
        *(o.number for o in plan.orders),
    ]
    ws = wb[SUMMARY_SHEET]
    assert tuple(c.value for c in ws[1][: len(INDEX_HEADERS)]) == INDEX_HEADERS
    assert ws.freeze_panes == "A2"
    assert [ws.cell(row=i + 2, column=1).value for i in range(len(plan.orders))] == [
        o.number for o in plan.orders
    ]
    assert ws.column_dimensions["A"].width >= len(plan.orders[0].number)
    for o in plan.orders:
        sheet = wb[o.number]
        assert sheet.freeze_panes == "A2"
        assert tuple(c.value for c in sheet[1][: len(ORDER_HEADERS)]) == ORDER_HEADERS
        col = {h: i for i, h in enumerate(ORDER_HEADERS)}
        unloaded: dict[str, float] = defaultdict(float)
        for row in sheet.iter_rows(min_row=2, max_col=len(ORDER_HEADERS), values_only=True):
            if row[col["动作"]] == "卸货":
                unloaded[row[col["物资编码"]]] += row[col["数量"]]
        assert dict(unloaded) == {i.material: i.quantity for i in o.items}


# ---- GeoJSON / CSV ---------------------------------------------------------------------------


def test_geojson_routes_follow_roads(plan: Plan, tmp_path: Path) -> None:
    import geopandas as gpd

    path = export_geojson(plan, tmp_path / "plan.geojson")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    routes = [f for f in data["features"] if f["properties"]["role"] == "route"]
    stops = [f for f in data["features"] if f["properties"]["role"] == "stop"]
    assert len(routes) == sum(len(o.legs) for o in plan.orders)
    numbers = {o.number for o in plan.orders}
    for f in routes:
        geom = shape(f["geometry"])
        assert geom.geom_type == "LineString" and geom.is_valid
        assert len(f["geometry"]["coordinates"]) > 2
        assert f["properties"]["order_no"] in numbers and f["properties"]["eta"]
        assert geom.bounds[0] > 105.4 and geom.bounds[2] < 106.5  # inside 合江县
    vehicles = {f["properties"]["vehicle"] for f in routes if f["properties"]["kind"] == "调拨单"}
    assert vehicles == {o.unit_name for o in plan.transfer_orders}
    assert all(f["geometry"]["type"] == "Point" for f in stops)
    assert len(stops) == sum(len(o.stops) for o in plan.orders)
    gdf = gpd.read_file(path)  # GDAL reads it as a valid GeoJSON
    assert len(gdf) == len(data["features"]) and gdf.crs.to_epsg() == 4326


def test_csv_rows_match_the_orders(plan: Plan, tmp_path: Path) -> None:
    path = export_csv(plan, tmp_path / "plan.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Chinese correctly
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_HEADER
    by_order: dict[str, float] = defaultdict(float)
    for r in rows[1:]:
        rec = dict(zip(CSV_HEADER, r))
        if rec["动作"] == "装货":
            by_order[rec["指令编号"]] += float(rec["数量"])
    for o in plan.transfer_orders:
        assert by_order[o.number] == pytest.approx(sum(i.quantity for i in o.items))
    assert {r[0] for r in rows[1:]} == {o.number for o in plan.orders}


# ---- HTML ------------------------------------------------------------------------------------


def test_html_map_is_offline_and_complete(plan: Plan, tmp_path: Path) -> None:
    html = export_html(plan, tmp_path / "plan.html").read_text(encoding="utf-8")
    assert "https://" not in html
    assert "default-src 'none'" in html  # CSP: the page may load nothing from anywhere
    assert re.search(r"<script[^>]+src=|<link[^>]+href=", html) is None  # nothing external
    assert "Leaflet" in html and "1.9.4" in html  # the vendored library is inlined
    assert "data:image/png;base64," in html  # its CSS images too
    block = re.search(r'<script type="application/json" id="plan-data">(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    assert [o["no"] for o in data["orders"]] == [o.number for o in plan.orders]
    assert sum(len(leg["latlngs"]) for o in data["orders"] for leg in o["legs"]) > 100


def test_html_map_escapes_hostile_names(hostile_plan: Plan) -> None:
    html = render_html(hostile_plan)
    assert HOSTILE not in html and "<script>alert" not in html
    assert html.count("<script") == 3  # data block, Leaflet, page code — nothing from data
    block = re.search(r'<script type="application/json" id="plan-data">(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    assert any(p["name"] == HOSTILE for p in data["places"])  # shown as text by the page
    page_code = html.rsplit("<script>", 1)[1]
    assert "textContent" in page_code and "innerHTML" not in page_code


@pytest.mark.gui
def test_html_map_draws_offline_and_shows_hostile_names_as_text(
    hostile_plan: Plan, tmp_path: Path, qtbot
) -> None:
    """The page in a real browser engine (QtWebEngine, offscreen): Leaflet runs from the inlined
    copy, the routes are drawn, and a ``<script>`` name is text, never an element."""
    qt = pytest.importorskip("PyQt6.QtWebEngineWidgets")
    from PyQt6.QtCore import QUrl

    path = export_html(hostile_plan, tmp_path / "plan.html")
    view = qt.QWebEngineView()
    qtbot.addWidget(view)
    view.resize(1000, 700)  # Leaflet needs a sized map to fit the routes
    view.show()
    with qtbot.waitSignal(view.loadFinished, timeout=30_000):
        view.load(QUrl.fromLocalFile(str(path)))
    result: list = []
    probe = """(function () {
        var m = window.reliefdeskPlanMap, n = 0;
        if (m) { m.map.eachLayer(function (l) { if (l instanceof L.Polyline) { n++; } }); }
        return [typeof L, document.querySelectorAll("script").length, n,
                document.getElementById("orders").textContent];
    })()"""
    qtbot.waitUntil(lambda: view.page() is not None, timeout=5_000)

    def ask() -> bool:
        if not result:
            view.page().runJavaScript(probe, result.append)
        return bool(result) and result[0] is not None and result[0][0] == "object"

    try:
        qtbot.waitUntil(ask, timeout=30_000)
        kind, scripts, polylines, orders_text = result[0]
        assert kind == "object" and scripts == 3  # nothing from the data became a <script>
        legs = sum(len(o.legs) for o in hostile_plan.orders)
        assert polylines >= legs  # every leg drawn (circle markers are not polylines)
        assert HOSTILE in orders_text  # shown literally, as text
    finally:
        view.page().deleteLater()


# ---- formula injection ------------------------------------------------------------------------

FORMULAS = ('=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1)")


@pytest.fixture(scope="module")
def formula_plan(hostile_plan: Plan) -> Plan:
    """The hostile plan with the depot, team and second incident named like formulas."""
    import dataclasses

    from dispatch.orders import build_orders
    from tests.test_orders import ASSIGNMENT, ROUTES, build_scenario, fake_paths

    names = dict(zip(("SP-001", "TM-001", "INC-002"), FORMULAS))
    places = tuple(
        dataclasses.replace(p, name=names.get(p.id, p.name)) for p in hostile_plan.places
    )
    orders = build_orders(
        hostile_plan.number,
        scenario=build_scenario(),
        places=places,
        routes=ROUTES,
        assignment=ASSIGNMENT,
        paths=fake_paths,
    )
    return dataclasses.replace(hostile_plan, places=places, orders=orders)


def test_xlsx_writes_formula_like_names_as_text(formula_plan: Plan, tmp_path: Path) -> None:
    wb = load_workbook(export_xlsx(formula_plan, tmp_path / "f.xlsx"))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {str(c.value) for c in cells if c.value is not None}
    assert FORMULAS[0] in texts  # kept verbatim, as text
    assert any(FORMULAS[0] in t for t in texts)


def test_csv_defuses_formula_like_names(formula_plan: Plan, tmp_path: Path) -> None:
    path = export_csv(formula_plan, tmp_path / "f.csv")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    assert "'" + FORMULAS[0] in cells
    numbers = [c for c in cells if re.fullmatch(r"-?\d+(\.\d+)?", c)]
    assert numbers  # quantities and times stay numbers


# ---- XLSX layout, cell by cell -----------------------------------------------------------------
# The references below were taken from the cell-by-cell writer that preceded the write-only one
# (same values, types, number formats, widths, frozen panes, filters and styles): any change to
# what the workbook holds shows here. ``digest`` covers every non-empty cell's coordinate, value,
# type and number format.

#: (font size, fill colour, horizontal alignment) of the bold cells -> their role
_STYLES = {(None, "00E4EBF3", "center"): "head", (None, "", None): "key", (12.0, "", None): "title"}


def _xlsx_layout(path: Path) -> dict[str, Any]:
    """Per sheet: column widths, frozen pane, auto-filter, size, the styled cells and a digest
    of every value with its type and number format."""
    wb = load_workbook(path)
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        cells = []
        styled: dict[str, list[str]] = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    cells.append((c.coordinate, repr(c.value), c.data_type, c.number_format))
                if c.font.b:
                    fill = c.fill.fgColor.rgb if c.fill.fill_type else ""
                    style = _STYLES[(c.font.sz, fill, c.alignment.horizontal)]
                    styled.setdefault(style, []).append(c.coordinate)
        out[ws.title] = {
            "widths": " ".join(
                f"{k}{d.width:g}" for k, d in sorted(ws.column_dimensions.items()) if d.width
            ),
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "size": (ws.max_row, ws.max_column, len(cells)),
            **{k: " ".join(v) for k, v in styled.items()},
            "digest": hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()[
                :16
            ],
        }
    return out


#: The sheets 未满足或迟到 and 动用安全库存 (added with the on-time states; the summary's
#: unserved section moved there). Taken from the first writer of these sheets; the order sheets
#: below kept their references unchanged.
_XLSX_NEW_SHEETS: dict[str, Any] = {
    "未满足或迟到": {
        "widths": "A8 B10 C39 D10 E6 F6 G6 H6 I12 J12 K31",
        "freeze": "A2",
        "filter": "A1:K2",
        "size": (2, 11, 19),
        "head": "A1 B1 C1 D1 E1 F1 G1 H1 I1 J1 K1",
        "digest": "1705475cd694eac1",
    },
    "动用安全库存": {
        "widths": "A12 B8 C10 D6 E10 F6 G14 H10 I6 J10",
        "freeze": "A2",
        "filter": "A1:J2",
        "size": (1, 10, 10),
        "head": "A1 B1 C1 D1 E1 F1 G1 H1 I1 J1",
        "digest": "b3cc42db7e70f7b4",
    },
}

_XLSX_HOSTILE: dict[str, Any] = {
    "方案汇总": {
        "widths": "A20 B48 C10 D16 E20 F48 G19 H12 I16 J29 K10 L48",
        "freeze": "A2",
        "filter": "A1:L3",
        "size": (31, 12, 94),
        "head": "A1 B1 C1 D1 E1 F1 G1 H1 I1 J1 K1 L1 A22 B22 C22 D22 E22 F22 G22 H22 I22 J22 "
        "A25 B25 C25 D25 E25 F25 A28 B28 C28 D28 A31 B31 C31 D31 E31",
        "title": "A5 A21 A24 A27 A30",
        "key": "A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16 A17 A18 A19",
        "digest": "fa7219536b289486",
    },
    **_XLSX_NEW_SHEETS,
    "HJ-20261122-001-01": {
        "widths": "A6 B6 C6 D10 E39 F16 G10 H10 I10 J6 K7 L10 M6 O48 P48 Q12",
        "freeze": "A2",
        "filter": "A1:M8",
        "size": (32, 17, 165),
        "head": "A1 B1 C1 D1 E1 F1 G1 H1 I1 J1 K1 L1 M1 O1 P1 O17 P17 Q17",
        "key": "O2 O3 O4 O5 O6 O7 O8 O9 O10 O11 O12 O13 O14 O15 O18 O21 O24 O27 O30",
        "digest": "10d546067bb153e3",
    },
    "HJ-20261122-001-02": {
        "widths": "A6 B6 C6 D10 E39 F16 G10 H10 I6 J6 K6 L10 M6 O48 P48 Q12",
        "freeze": "A2",
        "filter": "A1:M3",
        "size": (20, 17, 71),
        "head": "A1 B1 C1 D1 E1 F1 G1 H1 I1 J1 K1 L1 M1 O1 P1 O17 P17 Q17",
        "key": "O2 O3 O4 O5 O6 O7 O8 O9 O10 O11 O12 O13 O14 O15 O18",
        "digest": "3735a265405f99aa",
    },
}

_XLSX_FORMULA: dict[str, Any] = {
    "方案汇总": {
        "widths": "A20 B48 C10 D16 E42 F45 G19 H12 I16 J29 K10 L48",
        "freeze": "A2",
        "filter": "A1:L3",
        "size": (31, 12, 94),
        "head": "A1 B1 C1 D1 E1 F1 G1 H1 I1 J1 K1 L1 A22 B22 C22 D22 E22 F22 G22 H22 I22 J22 "
        "A25 B25 C25 D25 E25 F25 A28 B28 C28 D28 A31 B31 C31 D31 E31",
        "title": "A5 A21 A24 A27 A30",
        "key": "A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16 A17 A18 A19",
        "digest": "52bcd0339929591a",
    },
    **_XLSX_NEW_SHEETS,
    "HJ-20261122-001-01": {
        "widths": "A6 B6 C6 D10 E42 F16 G10 H10 I10 J6 K7 L10 M6 O48 P48 Q12",
        "freeze": "A2",
        "filter": "A1:M8",
        "size": (32, 17, 165),
        "head": "A1 B1 C1 D1 E1 F1 G1 H1 I1 J1 K1 L1 M1 O1 P1 O17 P17 Q17",
        "key": "O2 O3 O4 O5 O6 O7 O8 O9 O10 O11 O12 O13 O14 O15 O18 O21 O24 O27 O30",
        "digest": "dc54323389a94555",
    },
    "HJ-20261122-001-02": {
        "widths": "A6 B6 C6 D10 E39 F16 G10 H10 I6 J6 K6 L10 M6 O47 P48 Q12",
        "freeze": "A2",
        "filter": "A1:M3",
        "size": (20, 17, 71),
        "head": "A1 B1 C1 D1 E1 F1 G1 H1 I1 J1 K1 L1 M1 O1 P1 O17 P17 Q17",
        "key": "O2 O3 O4 O5 O6 O7 O8 O9 O10 O11 O12 O13 O14 O15 O18",
        "digest": "c1281eaa033e08f0",
    },
}


@pytest.mark.parametrize("which", ["hostile", "formula"])
def test_xlsx_layout_matches_the_reference(
    which: str, hostile_plan: Plan, formula_plan: Plan, tmp_path: Path
) -> None:
    plan, expected = {
        "hostile": (hostile_plan, _XLSX_HOSTILE),
        "formula": (formula_plan, _XLSX_FORMULA),
    }[which]
    got = _xlsx_layout(export_xlsx(plan, tmp_path / "r.xlsx"))
    assert list(got) == list(expected)
    for name, sheet in expected.items():
        assert got[name] == sheet, name


def _fitted(values: list[object]) -> int:
    return max(
        6, min(48, max(sum(2 if ord(c) > 0x2E80 else 1 for c in str(v)) for v in values) + 2)
    )


def test_xlsx_demo_layout(plan: Plan, tmp_path: Path) -> None:
    """The demo plan (solver output varies by run): the writer's rules, sheet by sheet."""
    wb = load_workbook(export_xlsx(plan, tmp_path / "d.xlsx"))
    n_cols = {
        SUMMARY_SHEET: len(INDEX_HEADERS),
        PROBLEMS_SHEET: len(PROBLEM_HEADERS),
        SAFETY_SHEET: len(SAFETY_HEADERS),
    }
    n_rows = {
        SUMMARY_SHEET: len(plan.orders),
        PROBLEMS_SHEET: len(problem_lines(plan)),
        SAFETY_SHEET: len(plan.safety_releases),
    }
    for o in plan.orders:
        n_cols[o.number] = len(ORDER_HEADERS)
        n_rows[o.number] = sum(max(1, len(s.items)) for s in o.stops)
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        last = get_column_letter(n_cols[ws.title])
        assert ws.auto_filter.ref == f"A1:{last}{max(2, n_rows[ws.title] + 1)}"
        by_col: dict[str, list[object]] = defaultdict(list)
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f"
                assert c.number_format == "General"
                if c.value is not None:
                    by_col[c.column_letter].append(c.value)
        for letter, values in by_col.items():
            # a float like 263.0 is read back as the int 263
            as_written = [float(v) if type(v) is int else v for v in values]
            assert ws.column_dimensions[letter].width in (_fitted(values), _fitted(as_written)), (
                ws.title,
                letter,
            )
        for c in ws[1][: n_cols[ws.title]]:
            assert c.font.b and c.fill.fgColor.rgb == "00E4EBF3"
            assert c.alignment.horizontal == "center"
    for o in plan.orders:
        ws = wb[o.number]
        table = list(ws.iter_rows(min_row=2, max_col=len(ORDER_HEADERS), values_only=True))
        keys = [k for k, _ in ROW_FIELDS[4:]]
        want = [tuple(r[k] if r[k] != "" else None for k in keys) for r in order_rows(plan, o)]
        assert table[: len(want)] == want
        assert all(v is None for r in table[len(want) :] for v in r)
