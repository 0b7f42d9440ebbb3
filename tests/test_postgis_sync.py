"""A desk's edit sent to the shared database row by row over its snapshot's versions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gis.model import Location
from gis.workspace import read_workspace
from gis.workspace.postgis import PostgisStorage, SharedWorkspace
from gis.workspace.postgis_sync import diff_rows, read_versions, send_rows
from tests.conftest import DEMO_WORKSPACE
from tests.postgis_db import SharedDb, test_db  # noqa: F401 - the fixture

pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def db(test_db: SharedDb) -> SharedDb:  # noqa: F811
    ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
    PostgisStorage(test_db.admin).write(ws.scenario, documents=ws.documents)
    return test_db


def test_diff_rows_names_exactly_the_changed_rows_and_columns() -> None:
    s = read_workspace(DEMO_WORKSPACE, include_roads=False).scenario
    assert diff_rows(s, s) == []
    inc = s.incidents[0]
    mat = s.materials[0].code
    new_inc = replace(inc, affected_people=inc.affected_people + 5, needs={**inc.needs, mat: 3.0})
    sp = s.stockpiles[0]
    moved = replace(sp, location=Location(sp.location.lon + 0.01, sp.location.lat))
    s2 = replace(
        s,
        incidents=(new_inc, *s.incidents[1:]),
        stockpiles=(moved, *s.stockpiles[1:]),
        shelters=s.shelters[1:],
    )
    changes = {(c.table, c.key, c.op): c for c in diff_rows(s, s2)}
    upd = changes[("incidents", (inc.id,), "update")]
    assert upd.values == {"affected_people": inc.affected_people + 5} and upd.geometry is None
    need_op = "update" if mat in inc.needs else "insert"
    assert ("incident_needs", (inc.id, mat), need_op) in changes
    mv = changes[("stockpiles", (sp.id,), "update")]
    assert mv.values == {} and mv.geometry.x == pytest.approx(sp.location.lon + 0.01)
    assert ("shelters", (s.shelters[0].id,), "delete") in changes
    assert len([c for c in changes if c[0] == "shelter_stock"]) == len(s.shelters[0].stock)


def test_send_rows_saves_over_versions_reports_conflicts_and_keeps_unsent(db: SharedDb) -> None:
    s = read_workspace(DEMO_WORKSPACE, include_roads=False).scenario
    inc = s.incidents[1]
    mine = replace(
        s, incidents=(s.incidents[0], replace(inc, affected_people=11), *s.incidents[2:])
    )
    theirs = replace(
        s, incidents=(s.incidents[0], replace(inc, affected_people=22), *s.incidents[2:])
    )
    with SharedWorkspace(db.operator) as a, SharedWorkspace(db.operator) as b:
        va = read_versions(a)  # both desks opened the same snapshot
        vb = dict(va)
        first = send_rows(b, diff_rows(s, theirs), vb)
        assert [r.values["affected_people"] for r in first.saved] == [22] and not first.conflicts
        second = send_rows(a, diff_rows(s, mine), va)
        assert not second.saved and len(second.conflicts) == 1
        c = second.conflicts[0]
        assert c.mine.values == {"affected_people": 11} and c.theirs.values["affected_people"] == 22
        # the planner may not change incidents: refused by the database, nothing saved
    with SharedWorkspace(db.planner) as p:
        refused = send_rows(p, diff_rows(s, mine), read_versions(p))
        assert refused.refused and not refused.saved
    offline = send_rows(None, diff_rows(s, mine), va)
    assert len(offline.unsent) == 1 and not offline.saved
