"""Fuzzing the workspace reader: a hostile edit of the demo county either reads or is refused.

Each case copies the demo workspace, applies one mutation with sqlite3 (tests/gpkg_tamper.py)
— a random table, row and column set to a value from a hostile catalogue (numbers as text,
huge/negative/NaN/inf, control characters, 10,000-character strings, wrong or broken geometry,
NULL), or a dropped column, table or row — then runs what ``app.py info`` runs
(:func:`gis.loading.open_workspace` + :func:`gis.loading.workspace_info`). The outcome must be
a summary or a :class:`gis.errors.ReliefDeskError` whose message is one line naming the file
(and, for a workspace error, the layer); never another exception; the file's bytes unchanged.

CI runs a bounded, deterministic sample (60 cases, seed 11, ~30 s). The long mode runs more:
``RELIEFDESK_FUZZ_CASES=1000 pytest tests/test_fuzz_workspace.py`` (``RELIEFDESK_FUZZ_SEED``
picks another sequence). A failing case prints its seed, number and mutation for replay.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sqlite3
import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely

from gis.errors import ReliefDeskError, WorkspaceError
from gis.workspace import schema
from tests.conftest import DEMO_WORKSPACE
from tests.gpkg_tamper import connect, gpkg_point, sha256

CASES = int(os.environ.get("RELIEFDESK_FUZZ_CASES", "60"))
SEED = int(os.environ.get("RELIEFDESK_FUZZ_SEED", "11"))

#: The tables a person or another tool edits (not GeoPackage system tables).
TABLES = tuple(t.layer for t in (*schema.TABLES, *schema.ROAD_LAYERS))


def _gpkg_blob(geom: shapely.Geometry, srs_id: int = 4326) -> bytes:
    return b"GP\x00\x01" + struct.pack("<i", srs_id) + shapely.to_wkb(geom, byte_order=1)


def _empty_point_blob() -> bytes:
    # flags: little-endian, no envelope, empty geometry bit set
    return b"GP\x00\x11" + struct.pack("<i", 4326) + shapely.to_wkb(shapely.Point(), byte_order=1)


#: Hostile values: (label, value). NaN is stored by SQLite as NULL.
VALUES: tuple[tuple[str, Any], ...] = (
    ("thousands '1,200'", "1,200"),
    ("spaced '1 200'", "1 200"),
    ("'约850'", "约850"),
    ("'3,00'", "3,00"),
    ("empty text", ""),
    ("blank text", "   "),
    ("'II'", "II"),
    ("'Ⅴ'", "Ⅴ"),
    ("bad time", "2026-13-45T99:00"),
    ("1e308", 1e308),
    ("-1e308", -1e308),
    ("inf", math.inf),
    ("-inf", -math.inf),
    ("nan", math.nan),
    ("int64 max", 9223372036854775807),
    ("int64 min", -9223372036854775808),
    ("-1", -1),
    ("0", 0),
    ("2.5", 2.5),
    ("1e10", 1e10),
    ("NULL", None),
    ("ESC", "名\x1b[31m称\x1b[0m"),
    ("NUL", "a\x00b"),
    ("bidi override", "\u202eevil"),
    ("10k chars", "长" * 10_000),
    ("binary", b"\x00\xffgarbage"),
    ("point blob", gpkg_point(105.8, 28.8)),
    ("point at 999,999", gpkg_point(999.0, 999.0)),
    ("point NaN", _gpkg_blob(shapely.Point(math.nan, math.nan))),
    ("empty point", _empty_point_blob()),
    ("line blob", _gpkg_blob(shapely.LineString([(105.8, 28.8), (105.9, 28.9)]))),
    (
        "bow-tie polygon",
        _gpkg_blob(shapely.Polygon([(105.8, 28.8), (105.9, 28.9), (105.9, 28.8), (105.8, 28.9)])),
    ),
    ("point in EPSG:3857 srs", gpkg_point(11_780_000.0, 3_350_000.0, srs_id=3857)),
    ("truncated blob", gpkg_point(105.8, 28.8)[:12]),
    ("JSON text", '{"a": [1, 2'),
)


class Schema:
    """Columns and fids of the demo's tables, read once."""

    def __init__(self, path: Path) -> None:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            self.columns: dict[str, list[str]] = {}
            self.fids: dict[str, list[int]] = {}
            present = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            for t in TABLES:
                if t not in present:  # an optional layer the demo does not have (no case)
                    self.columns[t], self.fids[t] = [], []
                    continue
                info = con.execute(f'PRAGMA table_info("{t}")').fetchall()
                self.columns[t] = [r[1] for r in info if not r[5]]
                self.fids[t] = [r[0] for r in con.execute(f'SELECT fid FROM "{t}" ORDER BY fid')]
        finally:
            con.close()


Mutation = tuple[str, Callable[[sqlite3.Connection], None]]


def mutation(rng: random.Random, layout: Schema) -> Mutation:
    """One random edit: (description, apply)."""
    table = rng.choice(TABLES)
    kind = rng.choices(
        ["set", "drop_column", "drop_table", "delete_row", "srs"], weights=[80, 6, 4, 6, 4]
    )[0]
    fids = layout.fids[table]
    if kind == "set" and fids:
        column = rng.choice(layout.columns[table])
        fid = rng.choice(fids)
        label, value = rng.choice(VALUES)

        def apply(con: sqlite3.Connection) -> None:
            con.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE fid = ?', (value, fid))

        return f"{table} row {fid} column {column} = {label}", apply
    if kind == "drop_column" and layout.columns[table]:
        column = rng.choice(layout.columns[table])

        def apply(con: sqlite3.Connection) -> None:
            con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')

        return f"drop column {table}.{column}", apply
    if kind == "delete_row" and fids:
        fid = rng.choice(fids)

        def apply(con: sqlite3.Connection) -> None:
            con.execute(f'DELETE FROM "{table}" WHERE fid = ?', (fid,))

        return f"delete {table} row {fid}", apply
    if kind == "srs":
        srs = rng.choice([-1, 0, 3857, 999999])

        def apply(con: sqlite3.Connection) -> None:
            con.execute(
                "UPDATE gpkg_geometry_columns SET srs_id = ? WHERE table_name = ?", (srs, table)
            )

        return f"srs_id of {table} = {srs}", apply

    def apply(con: sqlite3.Connection) -> None:
        con.execute(f'DROP TABLE "{table}"')

    return f"drop table {table}", apply


def run_case(path: Path) -> str:
    """What ``app.py info`` runs; returns 'ok' or the error message (ReliefDeskError only)."""
    from gis.loading import open_workspace, workspace_info

    try:
        ws = open_workspace(path)
        workspace_info(ws)
    except ReliefDeskError as exc:
        return str(exc)
    return "ok"


def check_case(path: Path, description: str) -> str:
    before = sha256(path)
    try:
        outcome = run_case(path)
    except Exception as exc:  # noqa: BLE001 - the point of the test
        raise AssertionError(
            f"{description}: {type(exc).__name__} escaped (not a ReliefDeskError): {exc}"
        ) from exc
    assert sha256(path) == before, f"{description}: reading changed the file"
    if outcome != "ok":
        assert "\n" not in outcome and "\r" not in outcome, (description, outcome)
        assert str(path) in outcome, (description, "message names no file", outcome)
        assert len(outcome) < 1500, (description, "message too long", outcome[:300])
        assert "np.float64" not in outcome and "Traceback" not in outcome, (description, outcome)
    return outcome


@pytest.fixture(scope="module")
def demo_schema() -> Schema:
    return Schema(DEMO_WORKSPACE)


@pytest.mark.timeout(max(600, 3 * CASES))  # ~0.5 s a case; the long mode needs more than 600 s
def test_fuzz_workspace_reads_or_refuses_cleanly(
    demo_schema: Schema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELIEFDESK_CACHE_DIR", str(tmp_path / "cache"))
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    for n in range(CASES):
        description, apply = mutation(rng, demo_schema)
        description = f"seed {SEED} case {n}: {description}"
        path = tmp_path / f"case{n % 2}.gpkg"
        shutil.copyfile(DEMO_WORKSPACE, path)
        con = connect(path)
        try:
            apply(con)
            con.commit()
        except sqlite3.Error:  # e.g. a column a trigger or index needs: not a case
            outcomes["not applicable"] += 1
            continue
        finally:
            con.close()
        try:
            outcome = check_case(path, description)
        except AssertionError as exc:  # keep going: the long mode reports every failing case
            failures.append(" ".join(str(exc).split())[:600])
            continue
        outcomes["read" if outcome == "ok" else "refused"] += 1
    print(f"fuzz seed {SEED}: {CASES} cases, {dict(outcomes)}, {len(failures)} failed")
    assert not failures, "\n".join(failures[:20])
    assert outcomes["read"] and outcomes["refused"], outcomes


def test_refusals_name_the_layer(tmp_path: Path) -> None:
    # a few fixed hostile edits whose refusal must name the layer (WorkspaceError.layer)
    for table, column, value in (
        ("incidents", "affected_people", "约850"),
        ("incidents", "level", "长" * 10_000),
        ("shelters", "geom", b"\x00\xffgarbage"),
        ("vehicles", "capacity_kg", 1e308),
        ("road_edges", "geom", gpkg_point(105.8, 28.8)),
    ):
        path = tmp_path / "ws.gpkg"
        shutil.copyfile(DEMO_WORKSPACE, path)
        con = connect(path)
        con.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE fid = 1', (value,))
        con.commit()
        con.close()
        from gis.loading import open_workspace, workspace_info

        with pytest.raises(WorkspaceError) as info:
            workspace_info(open_workspace(path))
        assert info.value.layer == table, str(info.value)[:300]
        assert info.value.row == 1 and len(str(info.value)) < 500, str(info.value)[:300]
