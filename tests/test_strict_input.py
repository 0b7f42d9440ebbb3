"""Issue 11, reading/entry half: "never a quietly wrong plan".

Each reproduction of the issue is a test here, run where the issue saw it: ``app.py info`` /
``dispatch`` in-process (``app.main``, as tests/test_cli.py does), on a copy of the demo
workspace edited with sqlite3 behind GDAL's back (tests/gpkg_tamper.py). A refused read prints
one line naming file, layer, row, column and value, exits 2 and leaves the file's bytes as
they were.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import app
from gis.errors import ValidationError
from gis.fields import FIELD_LIMITS, parse_number, strip_controls
from gis.model import Incident, Location, Shelter, Team, Vehicle
from gis.workspace import read_workspace
from tests.gpkg_tamper import sha256, tampered_copy

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    """``app.main(argv)`` → exit code, stdout, non-empty stderr lines."""
    code = app.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, [ln for ln in err.splitlines() if ln.strip()]


def assert_refused(
    capsys: pytest.CaptureFixture[str], path: Path, *needles: str, command: str = "info"
) -> str:
    """The command exits 2 with one line holding every needle, and the file is unchanged."""
    before = sha256(path)
    extra = ("--out", str(path.parent / "plan"), "--seconds", "1") if command == "dispatch" else ()
    code, _, err = run(capsys, command, str(path), *extra)
    assert code == 2, err
    assert len(err) == 1, err
    line = err[0]
    for needle in (f"file {path}", *needles):
        assert needle in line, (needle, line)
    assert "np.float64" not in line and "Traceback" not in line
    assert sha256(path) == before, "a refused read modified the file"
    return line


# --------------------------------------------------------------------------------------------
# item 1: text in numeric columns
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "stored", "attr", "read_as"),
    [
        ("incidents", "affected_people", "1,200", "affected_people", 1200),  # was read as 1
        ("incidents", "affected_people", "1 200", "affected_people", 1200),
        ("incidents", "affected_people", "１２００", "affected_people", 1200),  # full-width
        ("shelters", "capacity", "3,000", "capacity", 3000),  # was read as 3
        ("incidents", "deadline_min", " 45.5 ", "deadline_min", 45.5),
    ],
)
def test_numbers_as_people_type_them_are_read_as_meant(
    tmp_path: Path, table: str, column: str, stored: str, attr: str, read_as: float
) -> None:
    path = tampered_copy(
        tmp_path / "ws.gpkg", (f'UPDATE "{table}" SET "{column}" = ? WHERE fid = 1', (stored,))
    )
    scenario = read_workspace(path, include_roads=False).scenario
    entity = getattr(scenario, table)[0]
    assert getattr(entity, attr) == read_as


@pytest.mark.parametrize(
    ("table", "column", "stored", "expected"),
    [
        ("incidents", "affected_people", "约850", "expected a number, got '约850'"),  # was 0
        ("incidents", "affected_people", 2.5, "expected a whole number, got 2.5"),  # was 2
        ("shelters", "capacity", "3,00", "expected a number, got '3,00'"),
        ("teams", "headcount", "1,200 300", "expected a number"),
        ("incident_needs", "quantity", "many", "expected a number, got 'many'"),
        ("vehicles", "capacity_kg", "NaN", "expected a number, got 'NaN'"),
        ("vehicles", "capacity_m3", math.inf, "expected a finite number, got inf"),
        ("inventory", "quantity", b"\x00\x01", "binary data (2 bytes)"),
    ],
)
def test_text_that_is_not_a_number_is_refused_with_its_place(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: str,
    column: str,
    stored: object,
    expected: str,
) -> None:
    path = tampered_copy(
        tmp_path / "ws.gpkg", (f'UPDATE "{table}" SET "{column}" = ? WHERE fid = 1', (stored,))
    )
    assert_refused(capsys, path, f"layer '{table}'", "row 1", f"column '{column}'", expected)


def test_dispatch_refuses_a_misread_number_before_planning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the issue: '1,200' was read as 1 and the plan said 全部需求均已安排; now '1,200' is 1200
    # (above) and what is not a number stops dispatch with the place, before any plan exists
    path = tampered_copy(
        tmp_path / "ws.gpkg", "UPDATE incidents SET affected_people = '约850' WHERE fid = 1"
    )
    assert_refused(capsys, path, "'incidents'", "'affected_people'", "'约850'", command="dispatch")
    assert not (tmp_path / "plan").exists()


# --------------------------------------------------------------------------------------------
# item 2: plausibility limits
# --------------------------------------------------------------------------------------------

_ABSURD = [
    # table, column, value, what the message says (the field's limit and unit)
    ("incidents", "deadline_min", 1e308, "≤ 43,200 min"),  # was OverflowError in dispatch
    ("shelters", "capacity", 9223372036854775807, "≤ 10,000,000 people"),  # OverflowError
    ("teams", "headcount", 1e308, "≤ 100,000 people"),  # 500-character OR-Tools TypeError
    ("incident_needs", "quantity", 1e308, "≤ 1,000,000,000 units"),  # 0 tents, FEASIBLE
    ("vehicles", "capacity_kg", 1e7, "≤ 100,000 kg"),
    ("vehicles", "capacity_m3", 5000, "≤ 200 m³"),
    ("incidents", "affected_people", -3, "≥ 0 people"),
]


@pytest.mark.parametrize(("table", "column", "value", "limit"), _ABSURD)
@pytest.mark.parametrize("command", ["info", "dispatch"])
def test_absurd_values_are_refused_on_read_naming_the_limit(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: str,
    column: str,
    value: float,
    limit: str,
    command: str,
) -> None:
    path = tampered_copy(
        tmp_path / "ws.gpkg", (f'UPDATE "{table}" SET "{column}" = ? WHERE fid = 1', (value,))
    )
    line = assert_refused(
        capsys, path, f"layer '{table}'", "row 1", f"column '{column}'", limit, command=command
    )
    assert len(line) < 300


def test_limits_are_checked_when_typed_by_hand() -> None:
    # the GUI forms build these objects: the message names the field, its limit and unit
    here = Location(105.8, 28.8)
    with pytest.raises(ValidationError, match=r"'affected_people' must be ≤ 10,000,000 people"):
        Incident("I", "n", "自然灾害", "山洪", 2, here, "2026-07-12T05:40:00", 10_000_001)
    with pytest.raises(ValidationError, match=r"'deadline_min' must be ≤ 43,200 min"):
        Incident("I", "n", "自然灾害", "山洪", 2, here, "2026-07-12T05:40:00", deadline_min=1e308)
    with pytest.raises(ValidationError, match=r"'needs\[TENT\]' must be ≤ 1,000,000,000 units"):
        Incident(
            "I", "n", "自然灾害", "山洪", 2, here, "2026-07-12T05:40:00", needs={"TENT": 1e308}
        )
    with pytest.raises(ValidationError, match=r"'capacity' must be ≤ 10,000,000 people"):
        Shelter("S", "n", "室内", "短期", here, 9223372036854775807)
    with pytest.raises(ValidationError, match=r"'headcount' must be ≤ 100,000 people"):
        Team("T", "n", "医疗", here, 10**6)
    with pytest.raises(ValidationError, match=r"'capacity_kg' must be ≤ 100,000 kg"):
        Vehicle("V", "车", 1e9, 10, "SP")
    # the limits themselves: every one has a unit, a reason and a maximum a county reaches
    for (model, field), lim in FIELD_LIMITS.items():
        assert lim.unit and lim.reason and 0 < lim.maximum < 1e12, (model, field)


@pytest.mark.parametrize(
    ("text", "whole", "value"),
    [
        ("1,200", True, 1200),
        ("1 200", True, 1200),
        ("12,345.5", False, 12345.5),
        ("１２００", True, 1200),
        ("+7", True, 7),
        ("1e3", True, 1000),
        (" 3.0 ", True, 3),
        (9223372036854775807, True, 9223372036854775807),
    ],
)
def test_parse_number_accepts(text: object, whole: bool, value: float) -> None:
    got = parse_number(text, whole=whole)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    "text",
    ["约850", "1,20", "1,200,00", "1.200,5", "1,200 300", "", "nan", "inf", "-inf", "二", "0x10"],
)
def test_parse_number_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="expected a"):
        parse_number(text)


def test_parse_number_refuses_fractions_of_whole_things_and_non_numbers() -> None:
    for value in (2.5, "2.5", "1,200.5"):
        with pytest.raises(ValueError, match="whole number"):
            parse_number(value, whole=True)
    for value in (True, math.nan, math.inf, None, [1]):
        with pytest.raises(ValueError, match="expected a"):
            parse_number(value)


# --------------------------------------------------------------------------------------------
# control characters (item 4's entry half)
# --------------------------------------------------------------------------------------------


def test_control_characters_from_a_file_are_stripped_with_a_located_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tampered_copy(
        tmp_path / "ws.gpkg",
        ("UPDATE shelters SET name = ? WHERE fid = 2", ("合江\x1b[2J\x1b]0;pwned\x07中学",)),
        ("UPDATE incidents SET description = ? WHERE fid = 1", ("行一\r\n行二\u202e",)),
        ("UPDATE reliefdesk_meta SET value = ? WHERE key = 'scenario_name'", ("合江\x9b31m县",)),
    )
    before = sha256(path)
    code, out, err = run(capsys, "info", str(path))
    assert code == 0 and err == []
    info = json.loads(out)
    assert not any(c in out for c in ("\x1b", "\x07", "\x9b", "\u202e", "\\u001b"))
    assert info["name"] == "合江31m县"
    warnings = info["warnings"]
    assert any(
        "layer 'shelters' row 2 column 'name': removed 3 control character(s)" in w
        for w in warnings
    ), warnings
    assert any("layer 'incidents' row 1 column 'description'" in w for w in warnings)
    scenario = read_workspace(path, include_roads=False).scenario
    assert scenario.shelters[1].name == "合江[2J]0;pwned中学"
    assert scenario.incidents[0].description == "行一\n行二"
    assert sha256(path) == before  # reading never writes


def test_control_characters_typed_by_hand_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"Shelter 'S'.*'name'.*U\+001B at position 2"):
        Shelter("S", "合江\x1b[31m", "室内", "短期", (105.8, 28.8), 10)
    with pytest.raises(ValidationError, match=r"'description'.*U\+202E"):
        Incident(
            "I", "n", "自然灾害", "山洪", 2, (105.8, 28.8), "2026-07-12T05:40", description="\u202e"
        )
    # tab and newline are text
    Incident(
        "I", "n", "自然灾害", "山洪", 2, (105.8, 28.8), "2026-07-12T05:40", description="a\tb\nc"
    )
    assert strip_controls("a\x00b\x1bc\r\nd\te") == "abc\nd\te"


# --------------------------------------------------------------------------------------------
# item 7: the road layers' CRS is part of the road-cache key
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cache", ["warm", "fresh"])
def test_road_crs_change_is_never_served_from_the_cache(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    cache: str,
) -> None:
    monkeypatch.setenv("RELIEFDESK_CACHE_DIR", str(tmp_path / "cache"))
    path = tampered_copy(tmp_path / "ws.gpkg")
    if cache == "warm":  # the cache holds this very file's roads, built under EPSG:4326
        assert run(capsys, "info", str(path))[0] == 0
    tampered_copy(
        path, "UPDATE gpkg_geometry_columns SET srs_id = -1 WHERE table_name = 'road_edges'"
    )
    line = assert_refused(capsys, path, "layer 'road_edges'", "column 'geometry'")
    assert "Undefined Cartesian SRS" in line and "ProjError" not in line


# --------------------------------------------------------------------------------------------
# item 8: one line naming file, layer, row
# --------------------------------------------------------------------------------------------


def test_a_dropped_table_is_one_line_without_gdal_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tampered_copy(tmp_path / "ws.gpkg", "DROP TABLE inventory")
    assert_refused(capsys, path, "layer 'inventory'", "layer is missing")


def test_road_frame_errors_name_the_fid_and_print_plain_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tampered_copy(
        tmp_path / "ws.gpkg", "UPDATE road_edges SET length_m = 9e999 WHERE fid = 5"
    )
    assert_refused(capsys, path, "layer 'road_edges'", "row 5", "column 'length_m'", "got inf")
    path = tampered_copy(tmp_path / "ws2.gpkg", "UPDATE road_edges SET u = '12x' WHERE fid = 7")
    assert_refused(capsys, path, "layer 'road_edges'", "row 7", "column 'u'", "'12x'")


def test_road_node_id_typed_as_text_is_read_exactly(tmp_path: Path) -> None:
    path = tampered_copy(
        tmp_path / "ws.gpkg", "UPDATE road_edges SET u = CAST(u AS TEXT) WHERE fid = 7"
    )
    from gis.workspace import read_road_frames

    frames = read_road_frames(path)
    original = read_road_frames(tampered_copy(tmp_path / "orig.gpkg"))
    assert frames is not None and original is not None
    assert frames[1]["u"].dtype == "int64"
    assert (frames[1]["u"] == original[1]["u"]).all()


def test_a_csv_field_over_the_csv_module_limit_is_one_line(
    demo_workspace_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "s.csv"
    csv_path.write_text("lon,lat,id\n105.8,28.8," + "x" * 140_000 + "\n", encoding="utf-8")
    code, _, err = run(
        capsys,
        "matrix",
        str(demo_workspace_path),
        "--sources",
        str(csv_path),
        "--out",
        str(tmp_path / "m.csv"),
    )
    assert code == 2 and len(err) == 1, err
    assert f"file {csv_path}, row 2" in err[0] and "Error: Error" not in err[0]


def test_a_boundary_with_nan_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gis.errors import WorkspaceError
    from gis.loading import read_boundary

    boundary = tmp_path / "b.geojson"
    boundary.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Polygon", "coordinates": '
        "[[[105.5, 28.5], [106.5, 28.5], [NaN, 29.0], [105.5, 28.5]]]}}]}",
        encoding="utf-8",
    )
    with pytest.raises(WorkspaceError) as info:
        read_boundary(boundary)
    text = str(info.value)
    assert f"file {boundary}, row 1, column 'geometry'" in text and "\n" not in text
    assert capsys.readouterr().err == ""  # no GEOS/GDAL RuntimeWarning lines


# --------------------------------------------------------------------------------------------
# item 6: OSM import
# --------------------------------------------------------------------------------------------


def _osm(
    path: Path,
    *,
    sign: int = 1,
    oneway: bool = False,
    lat_of_5: str | None = None,
    name: str | None = None,
) -> Path:
    """A 3×3 grid of residential ways (two-way unless ``oneway``)."""
    nodes, ways = [], []

    def nid(r: int, c: int) -> int:
        return sign * (1 + 3 * r + c)

    for r in range(3):
        for c in range(3):
            lat = f"{42.50 + 0.002 * r:.3f}"
            if lat_of_5 is not None and nid(r, c) == 5 * sign:
                lat = lat_of_5
            nodes.append(
                f'<node id="{nid(r, c)}" version="1" lat="{lat}" lon="{1.5 + 0.002 * c}"/>'
            )
    lines = [[(r, c) for c in range(3)] for r in range(3)] + [
        [(r, c) for r in range(3)] for c in range(3)
    ]
    for w, line in enumerate(lines, start=1):
        tags = '<tag k="highway" v="residential"/>'
        if oneway:
            tags += '<tag k="oneway" v="yes"/>'
        if name is not None and w == 2:
            tags += f'<tag k="name" v="{name}"/>'
        refs = "".join(f'<nd ref="{nid(r, c)}"/>' for r, c in line)
        ways.append(f'<way id="{sign * w}" version="1">{refs}{tags}</way>')
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n",
        encoding="utf-8",
    )
    return path


def test_osm_with_negative_josm_ids_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osm = _osm(tmp_path / "josm.osm", sign=-1)
    code, out, err = run(capsys, "import-osm", str(osm), "--out", str(tmp_path / "w.gpkg"))
    assert code == 0, err
    assert json.loads(out)["edges"] > 0


@pytest.mark.parametrize(
    ("kwargs", "needles"),
    [
        ({"lat_of_5": "999"}, ("node 5", "line", "'999'")),
        ({"name": "x" * 1_000_000}, ("way 2", "too long")),
        ({"oneway": True}, ("no usable road", "one-way")),
    ],
)
def test_bad_osm_files_are_one_line_naming_file_and_element(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kwargs: dict[str, object],
    needles: tuple[str, ...],
) -> None:
    osm = _osm(tmp_path / "bad.osm", **kwargs)  # type: ignore[arg-type]
    out = tmp_path / "w.gpkg"
    code, _, err = run(capsys, "import-osm", str(osm), "--out", str(out))
    assert code == 2 and len(err) == 1, err
    assert str(osm) in err[0]
    for n in needles:
        assert n in err[0], (n, err[0])
    assert "TypeError" not in err[0] and "InvalidLocationError" not in err[0]
    assert not out.exists()  # nothing written on a refused import


def test_road_node_outside_wgs84_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by the fuzz test (seed 11 case 443): was "ValueError: data must be finite"
    from tests.gpkg_tamper import gpkg_point

    path = tampered_copy(
        tmp_path / "ws.gpkg",
        ("UPDATE road_nodes SET geom = ? WHERE fid = 4588", (gpkg_point(999.0, 999.0),)),
    )
    assert_refused(
        capsys, path, "layer 'road_nodes'", "row 4588", "column 'geometry'", "(999, 999)"
    )


def test_null_road_node_reference_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by the long fuzz run (seed 11 case 462): the message showed np.float64(nan)
    path = tampered_copy(tmp_path / "ws.gpkg", "UPDATE road_edges SET u = NULL WHERE fid = 3713")
    assert_refused(
        capsys, path, "layer 'road_edges'", "row 3713", "column 'u'", "empty value (NULL)"
    )
