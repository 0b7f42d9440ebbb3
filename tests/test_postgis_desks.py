"""Several desks on one shared PostGIS workspace: versions and conflicts, refusals by the
database for each role, the audit trail written by triggers, and change notifications.

Each refusal is shown twice: through :class:`SharedWorkspace` (the typed error the desk shows)
and with plain SQL on a raw connection of that role (the database itself says no, not the app).
"""

from __future__ import annotations

import csv
import json
import threading
import time
from pathlib import Path

import pytest
import shapely

from gis.workspace.postgis import (
    PermissionRefused,
    PostgisStorage,
    SharedWorkspace,
    VersionConflict,
    read_audit,
)
from gis.workspace.postgis_notify import Change, ChangeListener
from tests.conftest import DEMO_WORKSPACE
from tests.postgis_db import SharedDb, test_db  # noqa: F401 - the fixture

psycopg = pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def db(test_db: SharedDb) -> SharedDb:  # noqa: F811
    from gis.workspace import read_workspace

    ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
    PostgisStorage(test_db.admin).write(ws.scenario, documents=ws.documents)
    return test_db


def _first(desk: SharedWorkspace, table: str) -> tuple[str, ...]:
    (key,) = desk.conn.execute(f'SELECT id FROM "{table}" ORDER BY fid LIMIT 1').fetchone()
    return (key,)


def test_stale_save_is_a_conflict_carrying_both_records(db: SharedDb) -> None:
    with SharedWorkspace(db.operator) as a, SharedWorkspace(db.operator) as b:
        key = _first(a, "incidents")
        seen = a.get("incidents", key)
        assert seen is not None and seen.version >= 1
        saved = b.update("incidents", key, {"affected_people": 77}, seen.version)
        assert saved.version == seen.version + 1 and saved.values["affected_people"] == 77
        with pytest.raises(VersionConflict) as info:
            a.update("incidents", key, {"affected_people": 5, "status": "处置中"}, seen.version)
        c = info.value
        assert c.mine.version == seen.version and c.mine.values["affected_people"] == 5
        assert c.theirs is not None and c.theirs.version == saved.version
        assert c.theirs.values["affected_people"] == 77  # B's save is kept, not overwritten
        # the desk chooses: save its own values over the version it has now seen
        again = a.update("incidents", key, {"affected_people": 5}, c.theirs.version)
        assert again.version == saved.version + 1
        # a moved point keeps its version rule too
        moved = a.update("incidents", key, {}, again.version, geometry=shapely.Point(105.8, 28.8))
        assert moved.geometry is not None and moved.geometry.equals(shapely.Point(105.8, 28.8))
        # a deleted row: the conflict says so (theirs is None)
        new = a.insert(
            "closures",
            {"id": "C-T1", "reason": "塌方", "radius_m": 40.0, "speed_factor": 0.0},
            shapely.Point(105.83, 28.81),
        )
        b.delete("closures", new.key, new.version)
        with pytest.raises(VersionConflict) as gone:
            a.update("closures", new.key, {"reason": "塌方（已清理）"}, new.version)
        assert gone.value.theirs is None


def test_version_is_set_by_the_database_not_by_clients(db: SharedDb) -> None:
    with psycopg.connect(db.admin, autocommit=True) as conn:
        (v0,) = conn.execute("SELECT version FROM stockpiles ORDER BY fid LIMIT 1").fetchone()
        conn.execute(
            "UPDATE stockpiles SET version = 1, contact = 'x' "
            "WHERE fid = (SELECT min(fid) FROM stockpiles)"
        )
        (v1,) = conn.execute("SELECT version FROM stockpiles ORDER BY fid LIMIT 1").fetchone()
    assert v1 == v0 + 1


@pytest.mark.parametrize(
    ("role", "table", "allowed"),
    [
        ("viewer", "incidents", False),
        ("viewer", "stockpiles", False),
        ("operator", "incidents", True),
        ("operator", "stockpiles", False),
        ("operator", "inventory", False),
        ("planner", "stockpiles", True),
        ("planner", "incidents", False),
        ("planner", "hazards", True),
        ("viewer", "teams", False),
    ],
)
def test_roles_are_enforced_by_the_database(
    db: SharedDb, role: str, table: str, allowed: bool
) -> None:
    url = getattr(db, role)
    with SharedWorkspace(url) as desk:
        key = _first(desk, table) if table != "inventory" else None
        if table == "inventory":
            with pytest.raises(PermissionRefused) as info:
                desk.insert("inventory", {"stockpile_id": "x", "material": "y", "quantity": 1.0})
            assert info.value.sqlstate == "42501"
            return
        rec = desk.get(table, key)
        assert rec is not None  # every role reads everything
        if allowed:
            assert desk.update(table, key, {"name": rec.values["name"] + "·"}, rec.version)
        else:
            with pytest.raises(PermissionRefused) as info:
                desk.update(table, key, {"name": "改名"}, rec.version)
            assert info.value.sqlstate == "42501" and f"rd_{role}" in str(info.value)
    if not allowed:  # the same refusal from plain SQL: the database says no
        with (
            psycopg.connect(url, autocommit=True) as raw,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            raw.execute(f"UPDATE \"{table}\" SET name = 'x'")


def test_documents_split_by_row_level_security(db: SharedDb) -> None:
    with SharedWorkspace(db.operator) as op, SharedWorkspace(db.planner) as pl:
        plan = op.insert(
            "documents", {"kind": "plans", "doc_id": "P-T1", "json": '{"status": "草稿"}'}
        )
        with pytest.raises(PermissionRefused) as info:  # WITH CHECK of the operator's policy
            op.insert("documents", {"kind": "plan_templates", "doc_id": "x", "json": "{}"})
        assert info.value.sqlstate == "42501"
        tpl = pl.get("documents", ("plan_templates", "default"))
        assert tpl is not None
        with pytest.raises(PermissionRefused):  # USING hides the row from the operator's UPDATE
            op.update("documents", tpl.key, {"json": "{}"}, tpl.version)
        with pytest.raises(PermissionRefused):
            pl.update("documents", plan.key, {"json": '{"status": "作废"}'}, plan.version)
        approved = op.update("documents", plan.key, {"json": '{"status": "已批准"}'}, plan.version)
        op.update("documents", plan.key, {"json": '{"status": "已下达"}'}, approved.version)
    with psycopg.connect(db.operator, autocommit=True) as raw:
        cur = raw.execute("UPDATE documents SET json = '{}' WHERE kind = 'plan_templates'")
        assert cur.rowcount == 0  # the database filtered the row out, not the app
        rows = raw.execute(
            "SELECT who, status_before, status_after FROM plan_events WHERE plan = 'P-T1' ORDER BY id"
        ).fetchall()
    assert rows == [
        ("rd_operator", None, "草稿"),
        ("rd_operator", "草稿", "已批准"),
        ("rd_operator", "已批准", "已下达"),
    ]


def test_audit_trail_is_written_by_triggers_and_exported(db: SharedDb, tmp_path: Path) -> None:
    with SharedWorkspace(db.planner) as pl:
        since = pl.data_version()
        key = _first(pl, "shelters")
        rec = pl.get("shelters", key)
        new = pl.update("shelters", key, {"occupancy": 12}, rec.version)
        assert pl.data_version() > since
        (entry,) = read_audit(pl.conn, table="shelters", since_id=since)
    assert entry.who == "rd_planner" and entry.op == "UPDATE" and entry.key == key[0]
    assert entry.version == new.version
    assert entry.before["occupancy"] == rec.values["occupancy"] and entry.after["occupancy"] == 12
    with psycopg.connect(db.operator, autocommit=True) as raw:  # nobody writes it by hand
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            raw.execute("INSERT INTO audit_log (who, tbl, row_key, op) VALUES ('x','y','z','w')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            raw.execute("DELETE FROM audit_log")
    import app

    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"audit.{suffix}"
        assert app.main(["db-audit", db.viewer, str(out), "--table", "shelters"]) == 0
        assert out.is_file()
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "audit.xlsx").active
    assert [c.value for c in sheet[1]] == [
        "序号",
        "时间",
        "用户",
        "表",
        "记录",
        "操作",
        "版本",
        "修改前",
        "修改后",
    ]
    with open(tmp_path / "audit.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    last = rows[-1]
    assert last["用户"] == "rd_planner" and last["操作"] == "UPDATE" and last["记录"] == key[0]
    assert json.loads(last["修改后"])["occupancy"] == 12


def test_committed_edits_are_notified_rolled_back_ones_are_not(db: SharedDb) -> None:
    got: list[Change] = []
    states: list[bool] = []
    arrived = threading.Event()

    def on_change(c: Change) -> None:
        got.append(c)
        arrived.set()

    with ChangeListener(db.viewer, on_change, lambda ok, _msg: states.append(ok)):
        with psycopg.connect(db.operator) as raw:  # a transaction that is rolled back
            raw.execute("UPDATE incidents SET description = 'draft'")
            raw.rollback()
        with SharedWorkspace(db.operator) as op:
            key = _first(op, "incidents")
            rec = op.get("incidents", key)
            new = op.update("incidents", key, {"description": "道路中断"}, rec.version)
        assert arrived.wait(10)
        time.sleep(0.3)
    assert states[0] is True
    assert [(c.table, c.id, c.version, c.op, c.who) for c in got] == [
        ("incidents", key[0], new.version, "UPDATE", "rd_operator")
    ]
    assert got[0].latency_s < 10


def test_listener_reports_connection_loss_and_resumes(db: SharedDb) -> None:
    states: list[bool] = []
    changes: list[Change] = []
    back = threading.Event()

    def on_state(ok: bool, _msg: str) -> None:
        states.append(ok)
        if ok and len(states) > 1:
            back.set()

    with ChangeListener(db.viewer, changes.append, on_state, retry_s=0.2):
        with psycopg.connect(db.viewer, autocommit=True) as raw:  # the server drops the session
            raw.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = 'rd_viewer' AND query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
            )
        assert back.wait(15)
        with SharedWorkspace(db.planner) as pl:
            key = _first(pl, "teams")
            rec = pl.get("teams", key)
            pl.update("teams", key, {"leader": "王五"}, rec.version)
        deadline = time.time() + 10
        while not changes and time.time() < deadline:
            time.sleep(0.05)
    assert states[:3] == [True, False, True]
    assert changes and changes[0].table == "teams"
