"""文件 → 连接共享数据库… (issue 16): the controller without a window, then the main window on
the shared test database — the role greys out actions, a change from another desk arrives and
is shown, the connection-loss banner."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from dispatch.records import PlanStatus  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gis.workspace.postgis import PostgisStorage, SharedWorkspace  # noqa: E402
from tests.conftest import DEMO_WORKSPACE  # noqa: E402
from tests.gui_fixtures import close_window  # noqa: E402
from tests.postgis_db import SharedDb, test_db  # noqa: E402,F401 - the fixture

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def db(test_db: SharedDb) -> SharedDb:  # noqa: F811
    ws = read_workspace(DEMO_WORKSPACE, include_roads=False)  # roads: tests/test_postgis.py
    PostgisStorage(test_db.admin).write(ws.scenario, documents=ws.documents)
    return test_db


def _messages(w) -> list[str]:
    return [w.messages.topLevelItem(i).text(2) for i in range(w.messages.topLevelItemCount())]


def _people(db: SharedDb, incident_id: str) -> int:
    with SharedWorkspace(db.viewer) as v:
        return int(v.get("incidents", (incident_id,)).values["affected_people"])


def _audit(db: SharedDb, kind: str, doc_id: str | None) -> list[tuple]:
    """(op, who, at, before, after) of the audited changes of ``documents`` rows of ``kind``."""
    with SharedWorkspace(db.viewer) as v:
        return v.conn.execute(
            "SELECT op, who, at, before, after FROM audit_log WHERE tbl = 'documents' "
            "AND after->>'kind' = %s AND (%s::text IS NULL OR after->>'doc_id' = %s) ORDER BY id",
            (kind, doc_id, doc_id),
        ).fetchall()


def _touch_incident(url: str) -> tuple[str, int]:
    with SharedWorkspace(url) as op:
        (key,) = op.conn.execute("SELECT id FROM incidents ORDER BY fid LIMIT 1").fetchone()
        rec = op.get("incidents", (key,))
        new = op.update(
            "incidents", (key,), {"affected_people": rec.values["affected_people"] + 1}, rec.version
        )
    return key, new.version


def test_controller_pulls_a_snapshot_and_relays_changes(
    qtbot, db: SharedDb, tmp_path: Path
) -> None:
    from gui.controllers.shared_db import SharedDbController
    from gui.workers import JobRunner

    runner = JobRunner()
    c = SharedDbController(runner, tmp_path)
    with qtbot.waitSignal(c.sig_snapshot, timeout=TIMEOUT_MS) as snap_sig:
        c.open(db.viewer)
    snap = snap_sig.args[0]
    assert snap.role == "rd_viewer" and snap.writable == frozenset()
    assert read_workspace(snap.path).scenario.counts()["stockpiles"] == 10
    with qtbot.waitSignal(c.sig_change, timeout=TIMEOUT_MS) as change_sig:
        key, version = _touch_incident(db.operator)
    change = change_sig.args[0]
    assert (change.table, change.id, change.version, change.who) == (
        "incidents",
        key,
        version,
        "rd_operator",
    )
    c.close()
    runner.wait(10000)


def test_window_role_live_change_and_connection_banner(
    qtbot, qapp, db: SharedDb, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("RELIEFDESK_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("RELIEFDESK_LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setenv("RELIEFDESK_CACHE_DIR", str(tmp_path / "cache"))
    from gui.main_window import MainWindow

    w = MainWindow(interactive=False)
    try:
        w.show()
        view = w.shared_db
        assert view.action in w.file_menu.actions()
        with qtbot.waitSignal(w.sig_loaded, timeout=60000):
            view.open(db.operator)
        qtbot.waitUntil(lambda: view.loading is None, timeout=TIMEOUT_MS)
        assert "rd_operator" in view.banner.text() and "127.0.0.1" in view.banner.toolTip()
        assert "127.0.0.1" in w.windowTitle()
        assert (
            w.add_actions["incidents"].isEnabled() and not w.add_actions["stockpiles"].isEnabled()
        )
        assert w.draw_actions["point"].isEnabled()  # closures: the operator's
        # another desk changes an incident: the message log says so and that record alone is
        # read again and applied (no fresh copy pulled, no reopen)
        snapshot = view.controller.snapshot
        opened: list[str] = []
        w.sig_loaded.connect(opened.append)
        others = w.session.scenario.stockpiles
        key, version = _touch_incident(db.operator)
        qtbot.waitUntil(
            lambda: any(key in m and f"版本 {version}" in m for m in _messages(w)),
            timeout=TIMEOUT_MS,
        )
        qtbot.waitUntil(lambda: view.live_updates >= 1, timeout=TIMEOUT_MS)
        assert w.session.scenario.find(key).affected_people == _people(db, key)
        assert opened == [] and not w.session.dirty and view.controller.snapshot is snapshot
        assert w.session.scenario.stockpiles is others
        assert view.controller.versions[("incidents", (key,))] == version
        # this desk edits an incident: the row goes to the database over the snapshot's version
        inc = w.session.scenario.incidents[0]
        w.session.update_incident(replace(inc, affected_people=inc.affected_people + 100))
        qtbot.waitUntil(
            lambda: _people(db, inc.id) == inc.affected_people + 100, timeout=TIMEOUT_MS
        )
        qtbot.waitUntil(lambda: not w.session.dirty, timeout=TIMEOUT_MS)
        # another desk saves the same incident first: a conflict carrying both; keep mine
        qtbot.waitUntil(
            lambda: view.loading is None and not view.controller.sending, timeout=TIMEOUT_MS
        )
        _touch_incident(db.operator)
        theirs = _people(db, inc.id)
        inc = w.session.scenario.find(inc.id)
        w.session.update_incident(replace(inc, affected_people=7))
        qtbot.waitUntil(lambda: bool(view.last_conflicts), timeout=TIMEOUT_MS)
        (c,) = view.last_conflicts
        assert (
            c.mine.values == {"affected_people": 7} and c.theirs.values["affected_people"] == theirs
        )
        assert "affected_people" in view.conflict_text(view.last_conflicts)
        assert _people(db, inc.id) == theirs  # nothing overwritten behind anyone's back
        view.resolve(view.last_conflicts, keep_mine=True)
        qtbot.waitUntil(lambda: _people(db, inc.id) == 7, timeout=TIMEOUT_MS)
        # once more, taking the database's version: that record is read again and applied
        qtbot.waitUntil(
            lambda: view.loading is None and not view.controller.sending, timeout=TIMEOUT_MS
        )
        qtbot.waitUntil(lambda: w.session.scenario.find(inc.id).affected_people == 7)
        _touch_incident(db.operator)
        theirs = _people(db, inc.id)
        view.last_conflicts = []
        w.session.update_incident(replace(w.session.scenario.find(inc.id), affected_people=9))
        qtbot.waitUntil(lambda: bool(view.last_conflicts), timeout=TIMEOUT_MS)
        view.resolve(view.last_conflicts, keep_mine=False)
        qtbot.waitUntil(
            lambda: w.session.scenario.find(inc.id).affected_people == theirs, timeout=TIMEOUT_MS
        )
        assert _people(db, inc.id) == theirs and not w.session.dirty
        # a plan made and approved at this desk, through the desk's own dispatch controller: its
        # document and each step go to the database when they happen, so the trigger-written
        # audit trail has the approval (who, when, before and after) and its event-log entry
        ctl = w.dispatch_panel.controller
        with qtbot.waitSignal(ctl.sig_run_finished, timeout=60000) as run:
            assert ctl.run(ctl.options(1, None)) is not None
        number = run.args[0].plan.number
        qtbot.waitUntil(lambda: bool(_audit(db, "plans", number)), timeout=TIMEOUT_MS)
        assert ctl.approve("王指挥", "同意", allow_partial=True) is not None
        qtbot.waitUntil(lambda: len(_audit(db, "plans", number)) == 2, timeout=TIMEOUT_MS)
        stored, approved = _audit(db, "plans", number)
        assert stored[:2] == ("INSERT", "rd_operator") and stored[3] is None
        op, who, at, before, after = approved
        assert (op, who) == ("UPDATE", "rd_operator") and at is not None
        assert json.loads(before["json"])["status"] == PlanStatus.DRAFT.value
        assert json.loads(after["json"])["status"] == PlanStatus.APPROVED.value
        with SharedWorkspace(db.viewer) as v:
            steps = v.conn.execute(
                "SELECT who, status_before, status_after FROM plan_events WHERE plan = %s",
                (number,),
            ).fetchall()
        assert steps[-1] == ("rd_operator", PlanStatus.DRAFT.value, PlanStatus.APPROVED.value)
        qtbot.waitUntil(
            lambda: any(
                number in r[4]["json"] and "王指挥" in r[4]["json"]
                for r in _audit(db, "event_log", None)
            ),
            timeout=TIMEOUT_MS,
        )
        # documents live: another desk issues this plan and logs it; this desk's plan list,
        # shown plan and event log follow, and its undo history stays as it was
        undo = w.session.undo_stack.count()
        with SharedWorkspace(db.operator) as other:
            rec = other.get("documents", ("plans", number))
            doc = json.loads(rec.values["json"])
            doc["status"] = PlanStatus.ISSUED.value
            issued = json.dumps(doc, ensure_ascii=False)
            entry = {"time": "2099-01-01T00:00:00", "from": "已批准", "to": "已下达"}
            with other.conn.transaction():
                other.update("documents", ("plans", number), {"json": issued}, rec.version)
                other.insert(
                    "documents",
                    {
                        "kind": "event_log",
                        "doc_id": "zz-remote-1",
                        "json": json.dumps({**entry, "text": "另一席位下达"}, ensure_ascii=False),
                    },
                )
        qtbot.waitUntil(
            lambda: w.session.documents["plans"].get(number) == issued, timeout=TIMEOUT_MS
        )
        qtbot.waitUntil(
            lambda: "zz-remote-1" in w.session.documents.get("event_log", {}), timeout=TIMEOUT_MS
        )
        assert w.session.event_log()[-1]["text"] == "另一席位下达"
        assert w.event_log.topLevelItemCount() == len(w.session.event_log())
        assert w.event_log.topLevelItem(0).text(3) == "另一席位下达"  # newest first
        qtbot.waitUntil(lambda: ctl.plan.status == PlanStatus.ISSUED, timeout=TIMEOUT_MS)
        assert w.session.undo_stack.count() == undo and opened == []
        assert view.synced_docs["plans"][number] == issued  # not sent back as this desk's edit
        # a record open in an edit form is held back (its save would go over the version the
        # form started from: the conflict path); closing the form applies the other desk's
        key0 = w.session.scenario.incidents[0].id
        mine_before = w.session.scenario.find(key0)
        dlg = w.edit_entity(key0)
        _k, held_version = _touch_incident(db.operator)
        qtbot.waitUntil(
            lambda: ("incidents", (key0,)) in view.controller.deferred, timeout=TIMEOUT_MS
        )
        assert w.session.scenario.find(key0) is mine_before
        dlg.reject()
        qtbot.waitUntil(
            lambda: view.controller.versions.get(("incidents", (key0,))) == held_version,
            timeout=TIMEOUT_MS,
        )
        assert w.session.scenario.find(key0).affected_people == _people(db, key0)
        # a plan solved while another desk changed data says so (the run's start and end)
        view.on_dispatch_busy(True)
        heard = len(view.controller.change_log)
        key, version = _touch_incident(db.operator)
        qtbot.waitUntil(lambda: len(view.controller.change_log) > heard, timeout=TIMEOUT_MS)
        view.on_run_finished(None)
        assert any("计算期间其他席位修改了 1 处" in m and key in m for m in _messages(w)), [m for m in _messages(w) if "计算" in m]
        # a whole push (RELOAD) is read whole: the scenario and the document kinds desks send
        pushed = read_workspace(DEMO_WORKSPACE, include_roads=False)
        docs = {k: dict(v) for k, v in pushed.documents.items()}
        entry = {"time": "2099-01-02T00:00:00", "text": "整体推送"}
        docs.setdefault("event_log", {})["zz-push"] = json.dumps(entry, ensure_ascii=False)
        PostgisStorage(db.admin).write(pushed.scenario, documents=docs)
        qtbot.waitUntil(
            lambda: "zz-push" in w.session.documents.get("event_log", {}), timeout=TIMEOUT_MS
        )
        assert "zz-remote-1" not in w.session.documents["event_log"]  # the push replaced it
        assert w.session.scenario.find(key0).affected_people == _people(db, key0)
        # the server goes away: red banner, nothing editable; back: the role's actions return
        view.controller.sig_connection.emit(False, "server closed the connection")
        assert "断开" in view.banner.text() and not w.add_actions["incidents"].isEnabled()
        view.controller.sig_connection.emit(True, "")
        assert w.add_actions["incidents"].isEnabled() and "rd_operator" in view.banner.text()
        # a monitor reading entered at this (operator's) desk goes to the database as a document
        # row with its event-log entry, like a plan; another desk's warning arrives live
        from gis.hazard_warnings import HazardWarning, read_warnings
        from gis.monitoring import Monitor
        from gui.services.warning_jobs import monitor_record

        hazard = w.session.scenario.hazards[0].id
        t0 = datetime(2024, 7, 1, 8, 0)
        gauge = Monitor(hazard, "rainfall", {"yellow": 50.0}).with_reading(t0, 60.0)
        kind, mkey, text, log = monitor_record(gauge)
        w.session.record(kind, mkey, text, log=log)
        qtbot.waitUntil(lambda: bool(_audit(db, "monitoring", mkey)), timeout=TIMEOUT_MS)
        assert _audit(db, "monitoring", mkey)[0][:2] == ("INSERT", "rd_operator")
        qtbot.waitUntil(lambda: not w.session.dirty, timeout=TIMEOUT_MS)
        warning = HazardWarning("YJ-GUI-1", "yellow", t0, t0 + timedelta(hours=6), (hazard,))
        with SharedWorkspace(db.operator) as other:
            wtext = json.dumps(warning.to_json(), ensure_ascii=False)
            other.insert("documents", {"kind": "warnings", "doc_id": warning.id, "json": wtext})
        qtbot.waitUntil(lambda: warning in read_warnings(w.session.documents), timeout=TIMEOUT_MS)
        # a real loss: the server drops the desk's sessions and it cannot reconnect; another
        # desk edits meanwhile and this desk's own edit cannot be sent (kept as unsent). Back,
        # it catches up record by record (no fresh copy pulled) and resends its edit
        qtbot.waitUntil(
            lambda: view.loading is None and not view.controller.sending, timeout=TIMEOUT_MS
        )
        ctrl, snapshot = view.controller, view.controller.snapshot
        ctrl.feed.listener.retry_s = 0.2
        dead = "postgresql://rd_operator@127.0.0.1:1/nowhere"  # nothing listens on port 1
        ctrl.feed.listener.url, ctrl.url = dead, dead
        with SharedWorkspace(db.operator) as v:
            v.conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = "
                "'rd_operator' AND datname = current_database() AND pid <> pg_backend_pid()"
            )
        qtbot.waitUntil(lambda: "断开" in view.banner.text(), timeout=TIMEOUT_MS)
        key, version = _touch_incident(db.operator)  # the other desk, while this one is away
        mine = w.session.scenario.incidents[1]
        w.session.update_incident(replace(mine, affected_people=4321))
        qtbot.waitUntil(lambda: bool(ctrl.unsent), timeout=TIMEOUT_MS)
        ctrl.feed.listener.url, ctrl.url = db.operator, db.operator
        qtbot.waitUntil(
            lambda: any("其他席位的 1 处记录" in m for m in _messages(w)),
            timeout=TIMEOUT_MS,
        )
        qtbot.waitUntil(lambda: ctrl.versions.get(("incidents", (key,))) == version)
        assert w.session.scenario.find(key).affected_people == _people(db, key)
        qtbot.waitUntil(lambda: _people(db, mine.id) == 4321, timeout=TIMEOUT_MS)  # resent
        assert w.session.scenario.find(mine.id).affected_people == 4321
        assert ctrl.snapshot is snapshot and not any(b.reload for b in ctrl.catch_ups)
    finally:
        w.shared_db.controller.close()
        close_window(w)
