"""Another desk's change applied record by record (issue 16): two connections to the shared test
database — one desk saves, the other's live feed reads only the changed record and patches its
in-memory workspace (no reload: every other object keeps its identity)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from gis.workspace import read_workspace
from gis.workspace.postgis import PermissionRefused, PostgisStorage, SharedWorkspace
from gis.workspace.postgis_live import LiveBatch, LiveFeed, apply_updates, record_rows
from gis.workspace.postgis_sync import diff_rows, read_versions, send_rows
from tests.conftest import DEMO_WORKSPACE
from tests.postgis_db import SharedDb, test_db  # noqa: F401 - the fixture

pytest.importorskip("psycopg")

WAIT_S = 30.0


@pytest.fixture(scope="module")
def db(test_db: SharedDb) -> SharedDb:  # noqa: F811
    ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
    PostgisStorage(test_db.admin).write(ws.scenario, documents=ws.documents)
    return test_db


class Desk:
    """A receiving desk without a window: its in-memory workspace, patched by its live feed."""

    def __init__(self, url: str) -> None:
        ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
        self.scenario, self.documents = ws.scenario, {k: dict(v) for k, v in ws.documents.items()}
        self.batches: list[LiveBatch] = []
        self.applied = 0
        self.arrived = threading.Condition()
        self.feed = LiveFeed(url, self._on_batch)

    def _on_batch(self, batch: LiveBatch) -> None:
        with self.arrived:
            self.scenario, self.documents, done = apply_updates(
                self.scenario, self.documents, batch.updates
            )
            self.batches.append(batch)
            self.applied += len(done)
            self.arrived.notify_all()

    def wait(self, until) -> None:  # noqa: ANN001
        with self.arrived:
            assert self.arrived.wait_for(lambda: until(self), timeout=WAIT_S), self.batches


def test_an_edited_record_is_applied_on_the_other_desk_without_reload(db: SharedDb) -> None:
    desk = Desk(db.viewer)
    before = desk.scenario
    with desk.feed, SharedWorkspace(db.operator) as a:
        s = read_workspace(DEMO_WORKSPACE, include_roads=False).scenario
        inc = s.incidents[1]
        mat = s.materials[3].code
        edited = replace(inc, affected_people=inc.affected_people + 17, needs={mat: 42.0})
        new_inc = replace(
            s.incidents[0],
            id="INC-LIVE-1",
            name="实时新增事件",
            needs={mat: 5.0},
        )
        mine = replace(s, incidents=(s.incidents[0], edited, *s.incidents[2:], new_inc))
        res = send_rows(a, diff_rows(s, mine), read_versions(a))  # one desk edit, one commit
        assert res.saved and not res.conflicts and not res.refused
        desk.wait(lambda d: d.applied >= 2)
        got = {i.id: i for i in desk.scenario.incidents}
        assert got[inc.id] == edited and got["INC-LIVE-1"] == new_inc
        # only those records changed: every other object is the very one the desk had
        assert desk.scenario.stockpiles is before.stockpiles
        assert all(x is y for x, y in zip(desk.scenario.incidents[2:-1], before.incidents[2:]))
        assert desk.scenario.incidents[0] is before.incidents[0]
        assert not any(b.reload for b in desk.batches)
        # each update carries the versions of the rows it was read from
        up = next(u for b in desk.batches for u in b.updates if u.target[1] == (inc.id,))
        assert set(up.rows) == record_rows(up.target, edited)
        assert up.rows[("incidents", (inc.id,))] == a.get("incidents", (inc.id,)).version
        # deleted on one desk, gone on the other
        v = a.get("incidents", ("INC-LIVE-1",)).version
        with a.conn.transaction():
            a.conn.execute("DELETE FROM incident_needs WHERE incident_id = 'INC-LIVE-1'")
            a.delete("incidents", ("INC-LIVE-1",), v)
        desk.wait(lambda d: all(i.id != "INC-LIVE-1" for i in d.scenario.incidents))
        assert len(desk.scenario.incidents) == len(before.incidents)


def test_a_related_row_or_vehicle_updates_its_owner_record(db: SharedDb) -> None:
    desk = Desk(db.viewer)
    before = desk.scenario
    sp = desk.scenario.stockpiles[2]
    mat = next(iter(sp.inventory))
    vehicle = sp.vehicles[0] if sp.vehicles else None
    with desk.feed, SharedWorkspace(db.planner) as p:
        rec = p.get("inventory", (sp.id, mat))
        p.update("inventory", (sp.id, mat), {"quantity": 3.0}, rec.version)
        desk.wait(lambda d: d.scenario.stockpiles[2].inventory[mat] == 3.0)
        if vehicle is not None:
            rv = p.get("vehicles", (vehicle.id,))
            p.update("vehicles", (vehicle.id,), {"name": "实时车辆"}, rv.version)
            desk.wait(lambda d: d.scenario.stockpiles[2].vehicles[0].name == "实时车辆")
    assert desk.scenario.stockpiles[2].id == sp.id
    assert desk.scenario.shelters is before.shelters
    assert desk.scenario.stockpiles[1] is before.stockpiles[1]


def test_documents_of_another_desk_arrive_live_and_map_layers_are_the_planners(
    db: SharedDb,
) -> None:
    desk = Desk(db.viewer)
    plan = json.dumps({"number": "LIVE-1", "status": "已批准"}, ensure_ascii=False)
    entry = json.dumps({"plan": "LIVE-1", "to": "已批准"}, ensure_ascii=False)
    with desk.feed, SharedWorkspace(db.operator) as op, SharedWorkspace(db.planner) as pl:
        with op.conn.transaction():
            op.insert("documents", {"kind": "plans", "doc_id": "LIVE-1", "json": plan})
            op.insert("documents", {"kind": "event_log", "doc_id": "live-e1", "json": entry})
        desk.wait(lambda d: "live-e1" in d.documents.get("event_log", {}))
        assert desk.documents["plans"]["LIVE-1"] == plan
        # the drill scripts and map layers are the planner's (row-level security), like templates
        script = json.dumps({"name": "演练", "start": "2024-07-01T08:00:00+08:00", "injects": []})
        pl.insert("documents", {"kind": "drill_scripts", "doc_id": "d-live", "json": script})
        rivers = desk.documents["map_layers"]["rivers"]
        rv = pl.get("documents", ("map_layers", "rivers"))
        empty = '{"type": "FeatureCollection", "features": []}'
        pl.update("documents", ("map_layers", "rivers"), {"json": empty}, rv.version)
        desk.wait(lambda d: d.documents["map_layers"]["rivers"] != rivers)
        assert desk.documents["drill_scripts"]["d-live"] == script
        with pytest.raises(PermissionRefused):
            op.insert("documents", {"kind": "drill_scripts", "doc_id": "d-op", "json": script})
        with pytest.raises(PermissionRefused):
            pl.insert("documents", {"kind": "plans", "doc_id": "P-pl", "json": plan})
