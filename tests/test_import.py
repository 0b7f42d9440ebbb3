"""Importing a county's own files (issue 10): ledgers, shapefiles, KML, Chinese coordinates.

Every file is generated here the way a county office makes it (an XLSX 台账 with a title row, a
merged two-level header and a 合计 row; a GB18030 CSV exported by Excel; a GBK shapefile without
``.cpg`` in CGCS2000 Gauss-Krüger EPSG:4545; KML; GCJ-02 coordinates picked on AMap) from the
real demo county's stockpiles and shelters, then imported into a copy of the demo workspace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely
from pyproj import Geod

from gis.coords import wgs84_to_gcj02
from gis.errors import DataImportError
from gis.imports import ImportRequest, plan_import, run_import
from gis.imports import crs as crsmod
from gis.imports.mapping import importable_kinds, suggest
from gis.imports.values import bool_value, coordinate_value, datetime_value, number_value
from gis.workspace import read_workspace, write_workspace
from tests.conftest import DEMO_WORKSPACE, ROOT

GEOD = Geod(ellps="WGS84")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo county without its road network (small and quick to rewrite)."""
    ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
    out = tmp_path_factory.mktemp("ws") / "county.gpkg"
    write_workspace(out, ws.scenario, documents=ws.documents)
    return out


@pytest.fixture
def ws(base_ws: Path, tmp_path: Path) -> Path:
    out = tmp_path / "ws.gpkg"
    out.write_bytes(base_ws.read_bytes())
    return out


@pytest.fixture(scope="module")
def demo():
    return read_workspace(DEMO_WORKSPACE, include_roads=False).scenario


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``app.py ARGS`` in this process (the subprocess start-up costs seconds a call)."""
    import app

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = app.main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


# ---- values ------------------------------------------------------------------------------------


def test_values_as_ledgers_write_them() -> None:
    assert number_value("1,200顶") == (1200, "顶")
    assert number_value("３００ 床") == (300, "床")
    assert number_value(" 45 箱") == (45, "箱")
    with pytest.raises(ValueError):
        number_value("约850件")
    assert bool_value("是") is True and bool_value("否") is False
    assert datetime_value("2024年5月1日").date() == date(2024, 5, 1)
    assert datetime_value("2024.5.1").date() == date(2024, 5, 1)
    assert datetime_value("2024/05/01 8:30").hour == 8
    assert datetime_value(45413).date() == date(2024, 5, 1)  # an Excel serial day
    assert coordinate_value("东经105°50′12″") == pytest.approx(105 + 50 / 60 + 12 / 3600)
    assert coordinate_value("28度48分30秒") == pytest.approx(28.808333, abs=1e-6)
    assert coordinate_value("北纬28.8") == pytest.approx(28.8)
    assert coordinate_value("105°50'12\"W") < 0
    with pytest.raises(ValueError):
        coordinate_value("105°75′")


def test_mapping_suggested_from_chinese_and_english_headers() -> None:
    m = suggest("shelters", ["序号", "场所名称", "可容纳人数", "东经", "北纬", "室内/室外", "备注"])
    assert m == {
        "场所名称": "name",
        "可容纳人数": "capacity",
        "东经": "lon",
        "北纬": "lat",
        "室内/室外": "setting",
    }
    m = suggest(
        "inventory", ["储备点名称", "物资名称", "库存数量", "计量单位", "生产日期", "到期日"]
    )
    assert m["储备点名称"] == "stockpile_name" and m["库存数量"] == "quantity"
    assert m["计量单位"] == "unit" and m["到期日"] == "expiry_date"
    assert suggest("stockpiles", ["name", "X坐标", "Y坐标"]) == {
        "name": "name",
        "X坐标": "lon",
        "Y坐标": "lat",
    }


# ---- XLSX 台账 ------------------------------------------------------------------------------------


def _ledger(path: Path, demo, *, gcj: bool = False) -> None:
    """A stockpile 台账: title row, a two-level merged header (坐标 over 经度/纬度), 合计 row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "储备库"
    ws.append(["合江县应急物资储备库台账（2024年）"])
    ws.merge_cells("A1:F1")
    lon_head = "经度(高德)" if gcj else "经度"
    ws.append(["序号", "储备库名称", "级别", "坐标", None, "联系电话"])
    ws.append([None, None, None, lon_head, "纬度", None])
    for col in "ABCF":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("D2:E2")
    for n, sp in enumerate(demo.stockpiles[:4], start=1):
        lon, lat = sp.location.lon, sp.location.lat
        if gcj:
            lon, lat = wgs84_to_gcj02(lon, lat)
        ws.append(
            [
                n,
                sp.name + "（新）" if not gcj else sp.name,
                f"{sp.level}储备库",
                lon,
                lat,
                "0830-1234567",
            ]
        )
    ws.append(["合 计", None, None, None, None, None])
    ws2 = wb.create_sheet("说明")
    ws2.append(["本表由县应急管理局填报"])
    wb.save(path)


def test_xlsx_ledger_with_title_row_merged_header_and_total_row(
    ws: Path, tmp_path: Path, demo
) -> None:
    f = tmp_path / "储备库台账.xlsx"
    _ledger(f, demo)
    result = run_import(ImportRequest(workspace=ws, file=f, kind="stockpiles"))
    assert result.committed and not result.rejected
    assert [r.row for r in result.added] == [4, 5, 6, 7]  # rows of the sheet, after 3 header rows
    assert result.skipped_rows == (8,)  # 合 计
    assert {"name", "level", "lon", "lat", "contact"} <= set(result.mapping.values())
    after = read_workspace(ws, include_roads=False).scenario
    assert len(after.stockpiles) == len(demo.stockpiles) + 4
    added = {s.name: s for s in after.stockpiles}[demo.stockpiles[1].name + "（新）"]
    assert added.level == demo.stockpiles[1].level  # "乡镇储备库" → 乡镇
    assert added.contact == "0830-1234567"
    assert metres(added.location.xy, demo.stockpiles[1].location.xy) < 0.01


def test_gcj02_coordinates_of_demo_stockpiles_recovered_within_1_m(
    ws: Path, tmp_path: Path, demo
) -> None:
    f = tmp_path / "高德坐标.xlsx"
    _ledger(f, demo, gcj=True)
    result = run_import(ImportRequest(workspace=ws, file=f, kind="stockpiles", update=True))
    assert result.crs == "GCJ-02" and result.committed
    assert len(result.updated) == 4 and not result.added  # matched by name
    after = {s.id: s for s in read_workspace(ws, include_roads=False).scenario.stockpiles}
    for sp in demo.stockpiles[:4]:
        assert metres(after[sp.id].location.xy, sp.location.xy) < 1.0
        assert after[sp.id].contact == "0830-1234567"
    # read as WGS-84 the same file is off by hundreds of metres
    wrong = plan_import(
        ImportRequest(workspace=ws, file=f, kind="stockpiles", crs="wgs84", update=True), demo
    )
    moved = {s.id: s for s in wrong.scenario.stockpiles}
    assert all(metres(moved[s.id].location.xy, s.location.xy) > 100 for s in demo.stockpiles[:4])


def test_inventory_ledger_matches_materials_by_synonym_and_reports_unknown(
    ws: Path, tmp_path: Path, demo
) -> None:
    sp = demo.stockpiles[0]
    f = tmp_path / "库存台账.xlsx"
    wb = openpyxl.Workbook()
    sh = wb.active
    sh.append(["物资库存台账"])
    sh.append(["储备点名称", "物资名称", "库存数量", "计量单位", "生产日期", "到期日"])
    sh.append([sp.name, "瓶装饮用水", "1,200箱", None, "2024年5月1日", "2025.4.30"])
    sh.append([None, "救灾帐篷（12平方米）", 300, "顶", None, None])
    sh.append([None, "无人机", 2, "架", None, None])
    sh.merge_cells("A3:A5")  # one stockpile name over its lines
    sh.append(["合计", None, 1502, None, None, None])
    wb.save(f)
    dry = run_import(
        ImportRequest(workspace=ws, file=f, kind="inventory", update=True, dry_run=True)
    )
    assert [r.row for r in dry.updated] == [3, 4] and [r.row for r in dry.rejected] == [5]
    assert "无人机" in dry.rejected[0].reason and dry.unknown_materials == ("无人机",)
    before = sha(ws)
    failed = run_import(ImportRequest(workspace=ws, file=f, kind="inventory", update=True))
    assert not failed.committed and sha(ws) == before  # all or nothing: byte-identical
    sh.cell(5, 2).value, sh.cell(5, 4).value = "折叠床", "张"  # the user fixes the line
    wb.save(f)
    ok = run_import(ImportRequest(workspace=ws, file=f, kind="inventory", update=True))
    assert ok.committed, (ok.rejected, ok.skipped_rows)
    s = read_workspace(ws, include_roads=False).scenario.stockpiles[0]
    assert (
        s.inventory["WATER"] == 1200 and s.inventory["TENT"] == 300 and s.inventory["FOLDBED"] == 2
    )
    assert s.production_dates["WATER"] == date(2024, 5, 1)
    assert s.expiry_dates["WATER"] == date(2025, 4, 30)


# ---- CSV, shapefile, KML, GeoPackage ---------------------------------------------------------------


def test_gb18030_csv_of_shelters(ws: Path, tmp_path: Path, demo) -> None:
    rows = ["场所名称,室内/室外,场所类别,可容纳人数,东经,北纬"]
    for sh in demo.shelters[:3]:
        rows.append(
            f'{sh.name}二号,{sh.setting},{sh.shelter_class},"1,200",{sh.location.lon},{sh.location.lat}'
        )
    f = tmp_path / "避难场所.csv"
    f.write_bytes("\r\n".join(rows).encode("gb18030"))
    result = run_import(ImportRequest(workspace=ws, file=f, kind="shelters"))
    assert result.encoding == "gb18030" and len(result.added) == 3 and result.committed
    after = {s.name: s for s in read_workspace(ws, include_roads=False).scenario.shelters}
    assert after[demo.shelters[0].name + "二号"].capacity == 1200


def test_gbk_shapefile_without_cpg_in_gauss_kruger_4545(ws: Path, tmp_path: Path, demo) -> None:
    pts = [s.location.xy for s in demo.shelters[:5]]
    gdf = gpd.GeoDataFrame(
        {
            "名称": [f"{s.name}（规划）" for s in demo.shelters[:5]],
            "容纳人数": [s.capacity for s in demo.shelters[:5]],
            "类型": [str(s.setting) for s in demo.shelters[:5]],
            "类别": [str(s.shelter_class) for s in demo.shelters[:5]],
        },
        geometry=[shapely.Point(p) for p in pts],
        crs="EPSG:4326",
    ).to_crs("EPSG:4545")
    shp = tmp_path / "避难场所规划.shp"
    pyogrio.write_dataframe(gdf, shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    assert "名称".encode("gbk") in shp.with_suffix(".dbf").read_bytes()
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps({"kind": "shelters", "columns": {"类型": "setting", "类别": "shelter_class"}})
    )
    result = run_import(ImportRequest(workspace=ws, file=shp, kind="shelters", mapping=mapping))
    assert not result.rejected, result.rejected
    assert result.encoding == "GB18030" and result.crs == "EPSG:4545"
    after = {s.name: s for s in read_workspace(ws, include_roads=False).scenario.shelters}
    for s, p in zip(demo.shelters[:5], pts, strict=True):
        got = after[f"{s.name}（规划）"]
        assert metres(got.location.xy, p) < 0.01 and got.capacity == s.capacity


def test_kml_export_and_import(ws: Path, tmp_path: Path, demo) -> None:
    kml = tmp_path / "teams.kml"
    r = run_cli("export", str(ws), "--layer", "shelters", "--format", "kml", "--out", str(kml))
    assert r.returncode == 0, r.stderr
    assert demo.shelters[0].name in kml.read_text(encoding="utf-8")
    empty = tmp_path / "empty.gpkg"
    write_workspace(empty, dataclasses.replace(demo, shelters=()))
    result = run_import(ImportRequest(workspace=empty, file=kml, kind="shelters"))
    assert len(result.added) == len(demo.shelters) and result.committed, result.rejected[:2]
    back = read_workspace(empty, include_roads=False).scenario.shelters
    assert {s.name for s in back} == {s.name for s in demo.shelters}
    assert {s.id for s in back} == {s.id for s in demo.shelters}  # 编号 exported and read back


def test_geopackage_layer_chosen_with_sheet(ws: Path, tmp_path: Path, demo) -> None:
    g = tmp_path / "other.gpkg"
    pts = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    pyogrio.write_dataframe(pts, g, layer="roads_misc")
    hz = demo.hazards[0]
    poly = gpd.GeoDataFrame(
        {"名称": ["新滑坡隐患"], "类别": ["地质灾害隐患点"], "风险等级": ["Ⅱ级"]},
        geometry=[hz.geometry.buffer(0.002) if hz.geometry.geom_type == "Point" else hz.geometry],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(poly, g, layer="隐患点")
    result = run_import(ImportRequest(workspace=ws, file=g, kind="hazards", sheet="隐患点"))
    assert result.committed and len(result.added) == 1
    new = [
        h
        for h in read_workspace(ws, include_roads=False).scenario.hazards
        if h.name == "新滑坡隐患"
    ][0]
    assert new.risk_level == 2 and new.geometry.geom_type == "Polygon"


def test_gauss_kruger_table_with_surveyors_x_north(ws: Path, tmp_path: Path, demo) -> None:
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", "EPSG:4523", always_xy=True)  # zone 35 (CM 105E)
    f = tmp_path / "gk.csv"
    lines = ["名称,级别,X坐标,Y坐标"]
    for sp in demo.stockpiles[:3]:
        e, n = t.transform(sp.location.lon, sp.location.lat)
        lines.append(f"{sp.name}乙,{sp.level},{n:.3f},{e:.3f}")  # X = northing, as surveyed
    f.write_text("\n".join(lines), encoding="utf-8")
    result = run_import(ImportRequest(workspace=ws, file=f, kind="stockpiles"))
    assert result.crs == "EPSG:4523" and "swapped" in result.crs_note
    after = {s.name: s for s in read_workspace(ws, include_roads=False).scenario.stockpiles}
    for sp in demo.stockpiles[:3]:
        assert metres(after[sp.name + "乙"].location.xy, sp.location.xy) < 0.01
    named = plan_import(
        ImportRequest(workspace=ws, file=f, kind="stockpiles", crs="EPSG:4523"), demo
    )
    assert named.crs == "EPSG:4523" and len(named.added) == 3
    with pytest.raises(DataImportError, match="metres"):
        plan_import(ImportRequest(workspace=ws, file=f, kind="stockpiles", crs="gcj02"), demo)


def test_outline_suggests_gcj02_for_a_point_that_crosses_the_border(demo) -> None:
    boundary = demo.boundary
    c = boundary.centroid
    for v in shapely.get_coordinates(
        boundary.exterior if boundary.geom_type == "Polygon" else boundary.geoms[0].exterior
    )[::5]:
        for f in np.linspace(0.0005, 0.02, 40):
            p = (v[0] + (c.x - v[0]) * f, v[1] + (c.y - v[1]) * f)
            gx, gy = wgs84_to_gcj02(*p)
            if boundary.contains(shapely.Point(p)) and not boundary.contains(shapely.Point(gx, gy)):
                conv = crsmod.detect(np.array([gx]), np.array([gy]), option="auto")
                better, flagged = crsmod.outline_check(
                    boundary, np.array([gx]), np.array([gy]), conv
                )
                assert conv.system == "WGS84" and better == "GCJ02" and flagged.tolist() == [True]
                return
    pytest.fail("no border point found")


# ---- commands, round trip, failure ---------------------------------------------------------------


def test_xlsx_round_trip_updates_in_place_and_formulas_stay_text(
    ws: Path, tmp_path: Path, demo
) -> None:
    out = tmp_path / "stockpiles.xlsx"
    r = run_cli("export", str(ws), "--layer", "stockpiles", "--format", "xlsx", "--out", str(out))
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    sh = wb.active
    assert [c.value for c in sh[1]][:3] == ["编号", "名称", "级别"]
    sh.cell(2, 2).value = '=HYPERLINK("http://x")仓'
    sh.cell(2, 2).data_type = "s"
    sh.cell(3, [c.value for c in sh[1]].index("联系方式") + 1).value = "+86 830 5550000"
    wb.save(out)
    r = run_cli("import", str(ws), str(out), "--kind", "stockpiles", "--update")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert len(summary["updated"]) == len(demo.stockpiles) and summary["added"] == []
    after = read_workspace(ws, include_roads=False).scenario.stockpiles
    assert [s.id for s in after] == [s.id for s in demo.stockpiles]
    assert after[0].name == '=HYPERLINK("http://x")仓' and after[1].contact == "+86 830 5550000"
    out2 = tmp_path / "again.xlsx"
    assert (
        run_cli(
            "export", str(ws), "--layer", "stockpiles", "--format", "xlsx", "--out", str(out2)
        ).returncode
        == 0
    )
    cell = openpyxl.load_workbook(out2).active.cell(2, 2)
    assert cell.data_type == "s" and cell.value.startswith("=")
    csv_out = tmp_path / "s.csv"
    assert (
        run_cli(
            "export", str(ws), "--layer", "stockpiles", "--format", "csv", "--out", str(csv_out)
        ).returncode
        == 0
    )
    text = csv_out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and b"'=HYPERLINK" in text and b"'+86" in text


def test_shapefile_export_gbk_with_cpg(ws: Path, tmp_path: Path, demo) -> None:
    out = tmp_path / "shelters.shp"
    r = run_cli(
        "export",
        str(ws),
        "--layer",
        "shelters",
        "--format",
        "shp",
        "--out",
        str(out),
        "--encoding",
        "gbk",
    )
    assert r.returncode == 0, r.stderr
    assert out.with_suffix(".cpg").read_text().strip().upper() in ("GBK", "CP936", "936")
    assert demo.shelters[0].name.encode("gbk") in out.with_suffix(".dbf").read_bytes()
    back = pyogrio.read_dataframe(out)
    assert set(back["name"]) == {s.name for s in demo.shelters}


def test_bad_input_exit_2_one_line_workspace_untouched(ws: Path, tmp_path: Path) -> None:
    before = sha(ws)
    junk = tmp_path / "x.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    old_xls = tmp_path / "x.xls"
    old_xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)  # a broken OLE2 file
    for args in (
        ("import", str(ws), str(junk), "--kind", "stockpiles"),
        ("import", str(ws), str(tmp_path / "missing.csv"), "--kind", "stockpiles"),
        ("import", str(ws), str(old_xls), "--kind", "inventory"),
        ("import", str(ws), str(junk), "--kind", "demand_points"),
        ("import", str(ws), str(junk), "--kind", "stockpiles", "--crs", "EPSG:999999"),
        ("export", str(ws), "--layer", "nope", "--format", "csv", "--out", str(tmp_path / "o.csv")),
        (
            "export",
            str(ws),
            "--layer",
            "inventory",
            "--format",
            "shp",
            "--out",
            str(tmp_path / "o.shp"),
        ),
    ):
        r = run_cli(*args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert sha(ws) == before


def test_rejected_row_fails_whole_import_with_json_summary(ws: Path, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        "名称,级别,经度,纬度\n新库甲,县级,105.83,28.81\n新库乙,县级,abc,28.8\n", encoding="utf-8"
    )
    before = sha(ws)
    r = run_process("import", str(ws), str(f), "--kind", "stockpiles")
    assert r.returncode == 2 and sha(ws) == before and len(r.stderr.strip().splitlines()) == 1
    summary = json.loads(r.stdout)
    assert summary["rejected"][0]["row"] == 3 and "abc" in summary["rejected"][0]["reason"]
    r = run_cli("import", str(ws), str(f), "--kind", "stockpiles", "--dry-run")
    assert r.returncode == 0 and len(json.loads(r.stdout)["added"]) == 1 and sha(ws) == before


def test_every_layer_round_trips_through_xlsx(ws: Path, tmp_path: Path, demo) -> None:
    """export → import --update changes nothing, for every importable kind (spec-driven)."""
    from gis.imports.export import export_layer

    for kind in (
        "stockpiles",
        "shelters",
        "teams",
        "hazards",
        "incidents",
        "materials",
        "inventory",
    ):
        out = tmp_path / f"{kind}.xlsx"
        export_layer(ws, kind, "xlsx", out)
        r = plan_import(ImportRequest(workspace=ws, file=out, kind=kind, update=True), demo)
        assert not r.rejected and not r.added and r.updated, (kind, r.rejected[:2])
        assert r.scenario == demo, kind
    no_teams = dataclasses.replace(demo, teams=())
    r = plan_import(
        ImportRequest(workspace=ws, file=tmp_path / "teams.xlsx", kind="teams"), no_teams
    )
    assert [t.skills for t in r.scenario.teams] == [t.skills for t in demo.teams]


def test_unknown_kind_in_schema_is_refused(ws: Path, demo) -> None:
    with pytest.raises(DataImportError):
        plan_import(ImportRequest(workspace=ws, file=ws, kind="closures"), demo)


@pytest.mark.skipif(
    "demand_points" not in importable_kinds(), reason="demand_points spec not merged yet (issue 9)"
)
def test_demand_points_from_a_village_table(ws: Path, tmp_path: Path, demo) -> None:
    f = tmp_path / "村.csv"
    t = demo.townships[0]
    f.write_text(
        f"村名,常住人口,经度,纬度\n新村,1200,{t.location.lon},{t.location.lat}\n", encoding="utf-8"
    )
    result = run_import(ImportRequest(workspace=ws, file=f, kind="demand_points"))
    assert result.committed and len(result.added) == 1


def test_teams_with_vehicles_one_row_per_vehicle_kind_or_columns_on_the_team_row(
    ws: Path, tmp_path: Path, demo
) -> None:
    """A team ledger with vehicle lines (type, count, capacity): the vehicles are built per
    team with workspace-unique ids, repeated team rows add vehicle kinds, tonnes become kg."""
    a, b, c = demo.teams[:3]
    f = tmp_path / "救援队伍台账.xlsx"
    wb = openpyxl.Workbook()
    sh = wb.active
    sh.append(["合江县救援队伍及装备台账"])
    sh.append(["队伍名称", "队伍类型", "队员人数", "专业技能", "经度", "纬度",
               "车辆类型", "车辆数", "载重(吨)", "容积(m³)"])  # fmt: skip
    rows = [
        (a, "新甲队", "水罐消防车", 2, 1.5, 4),
        (a, "新甲队", "皮卡", 1, "0.8吨", None),  # the same team, a second vehicle kind
        (b, "新乙队", "冲锋舟运输车", 3, 2, 10),
        (c, "新丙队", None, None, None, None),  # no vehicles
    ]
    for t, name, kind, n, kg, m3 in rows:
        sh.append([name, t.force_type.value, t.headcount, "、".join(t.skills),
                   t.location.lon, t.location.lat, kind, n, kg, m3])  # fmt: skip
    sh.append(["合计", None, None, None, None, None, None, 6, None, None])
    wb.save(f)
    result = run_import(ImportRequest(workspace=ws, file=f, kind="teams"))
    assert result.committed and not result.rejected, result.rejected
    assert {"vehicle_kind", "vehicle_count", "vehicle_capacity_kg", "vehicle_capacity_m3"} <= set(
        result.mapping.values()
    )
    assert [r.row for r in result.added] == [3, 4, 5, 6]
    after = read_workspace(ws, include_roads=False).scenario
    teams = {t.name: t for t in after.teams}
    jia, yi, bing = teams["新甲队"], teams["新乙队"], teams["新丙队"]
    assert [(v.kind, v.capacity_kg, v.capacity_m3) for v in jia.vehicles] == [
        ("水罐消防车", 1500.0, 4.0),
        ("水罐消防车", 1500.0, 4.0),
        ("皮卡", 800.0, 0.0),
    ]
    assert [v.kind for v in yi.vehicles] == ["冲锋舟运输车"] * 3 and bing.vehicles == ()
    assert {v.home_id for v in jia.vehicles} == {jia.id}
    old_ids = [v.id for o in (*demo.stockpiles, *demo.teams) for v in o.vehicles]
    all_ids = [v.id for o in (*after.stockpiles, *after.teams) for v in o.vehicles]
    assert len(all_ids) == len(set(all_ids)) == len(old_ids) + 6
    assert after.teams[: len(demo.teams)] == demo.teams  # existing teams untouched

    # --update by id: the ledger's vehicles replace the team's; a bad count rejects the row
    g = tmp_path / "更新.xlsx"
    wb = openpyxl.Workbook()
    sh = wb.active
    sh.append(["编号", "队伍名称", "车型", "台数", "核定载重"])
    sh.append([a.id, a.name, "救护车", 2, 600])
    wb.save(g)
    r = plan_import(ImportRequest(workspace=ws, file=g, kind="teams", update=True), after)
    assert not r.rejected and [u.key for u in r.updated] == [a.id]
    upd = {t.id: t for t in r.scenario.teams}[a.id]
    assert [(v.kind, v.capacity_kg) for v in upd.vehicles] == [("救护车", 600.0)] * 2
    assert upd.skills == a.skills and upd.headcount == a.headcount
    sh.append([b.id, b.name, "救护车", "两辆", 600])
    wb.save(g)
    r = plan_import(ImportRequest(workspace=ws, file=g, kind="teams", update=True), after)
    assert [x.row for x in r.rejected] == [3] and "台数" in r.rejected[0].reason


XLS_FIXTURE = ROOT / "tests" / "data" / "储备库台账_biff8.xls"


def test_real_biff8_xls_ledger_with_title_merged_header_and_total_row(
    ws: Path, tmp_path: Path, demo
) -> None:
    """A genuine Excel 97-2003 file (BIFF8 in an OLE2 compound file, written once by
    tools/make_xls_fixture.py: no installed library writes .xls) through the CLI."""
    data = XLS_FIXTURE.read_bytes()
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")  # OLE2, not XLSX renamed
    f = tmp_path / "储备库台账.xls"
    f.write_bytes(data)
    r = run_cli("import", str(ws), str(f), "--kind", "stockpiles")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["committed"] and not summary["rejected"]
    assert summary["sheet"] == "储备库" and summary["skipped_rows"] == [8]  # 合 计
    assert [a["row"] for a in summary["added"]] == [4, 5, 6, 7]
    assert {"name", "level", "lon", "lat", "contact"} <= set(summary["mapping"].values())
    after = read_workspace(ws, include_roads=False).scenario
    added = {s.name: s for s in after.stockpiles}
    for sp in demo.stockpiles[:4]:
        new = added[sp.name + "（XLS）"]
        assert new.level == sp.level and new.contact == "0830-1234567"
        assert metres(new.location.xy, sp.location.xy) < 0.01
    # the other sheet is chosen by name, and says what it is
    r = run_cli("import", str(ws), str(f), "--kind", "stockpiles", "--sheet", "说明", "--dry-run")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_new_ids_of_imported_rows_follow_the_workspace_pattern(
    ws: Path, tmp_path: Path, demo
) -> None:
    """Rows without an id get ids as the desk makes them (gis.vocabulary.new_entity_id):
    INC-004 after the demo's INC-001..003, not IN-004 or INC-0004."""
    import csv

    from gis.imports.export import export_layer
    from gis.vocabulary import new_entity_id

    out = tmp_path / "incidents.csv"
    export_layer(ws, "incidents", "csv", out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    i_id, i_name = head.index("编号"), head.index("名称")
    f = tmp_path / "新事件.csv"
    with open(f, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([h for k, h in enumerate(head) if k != i_id])
        for r in rows[1:]:
            r[i_name] += "（续报）"
            w.writerow([v for k, v in enumerate(r) if k != i_id])
    r = plan_import(ImportRequest(workspace=ws, file=f, kind="incidents"), demo)
    assert not r.rejected, r.rejected
    taken = {i.id for i in demo.incidents}
    expected = []
    for _ in demo.incidents:
        expected.append(new_entity_id("INC", taken))
        taken.add(expected[-1])
    assert [a.key for a in r.added] == expected
    assert expected[0] == "INC-004"  # the demo's three-digit pattern
    assert new_entity_id("INC", {"INC-0007"}) == "INC-0001"
    assert new_entity_id("VH", set()) == "VH-001"
