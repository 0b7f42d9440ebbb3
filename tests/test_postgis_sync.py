"""A desk's edit sent to the shared database row by row over its snapshot's versions."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gis.model import Location
from gis.workspace import read_workspace
from gis.workspace.postgis import PostgisStorage, SharedWorkspace, read_audit
from gis.workspace.postgis_sync import diff_documents, diff_rows, read_versions, send_rows
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


def test_one_desk_edit_is_one_transaction_all_rows_or_none(db: SharedDb) -> None:
    s = read_workspace(DEMO_WORKSPACE, include_roads=False).scenario
    a_inc, b_inc = s.incidents[0], s.incidents[2]
    edit = replace(
        s,
        incidents=(
            replace(a_inc, affected_people=a_inc.affected_people + 3),
            s.incidents[1],
            replace(b_inc, affected_people=b_inc.affected_people + 4),
            *s.incidents[3:],
        ),
    )
    changes = diff_rows(s, edit)
    assert len(changes) == 2  # two rows of one edit
    with SharedWorkspace(db.operator) as desk, SharedWorkspace(db.operator) as other:
        versions = read_versions(desk)
        before_a = desk.get("incidents", (a_inc.id,))
        audit_before = desk.data_version()
        # another desk saves the second incident first
        seen_b = versions[("incidents", (b_inc.id,))]
        theirs = other.update("incidents", (b_inc.id,), {"status": "处置中"}, seen_b)
        out = send_rows(desk, changes, versions)
        # nothing of the edit is saved: the row without a conflict was rolled back with it
        assert not out.saved and out.rolled_back == changes
        (c,) = out.conflicts
        assert c.mine.key == (b_inc.id,) and c.theirs.version == theirs.version
        assert c.theirs.values["status"] == "处置中"
        assert desk.get("incidents", (a_inc.id,)) == before_a
        assert desk.data_version() == audit_before + 1  # only the other desk's save is audited
        # keep mine: the whole edit again over the version now seen — both rows, one commit
        seen = {**versions, ("incidents", c.mine.key): c.theirs.version}
        again = send_rows(desk, out.rolled_back, seen)
        assert {r.key for r in again.saved} == {(a_inc.id,), (b_inc.id,)}
        assert not again.conflicts and not again.rolled_back
        rows, txids = desk.conn.execute(
            "SELECT count(*), count(DISTINCT txid) FROM audit_log WHERE id > %s",
            (audit_before + 1,),
        ).fetchone()
        assert (rows, txids) == (2, 1)  # both rows audited, written by one transaction
    # a refused row takes the allowed ones of the same edit with it (planner: stockpile ok,
    # incident refused by the database)
    sp = s.stockpiles[0]
    mixed = replace(
        s,
        stockpiles=(replace(sp, name=sp.name + "（改）"), *s.stockpiles[1:]),
        incidents=(replace(s.incidents[0], affected_people=1), *s.incidents[1:]),
    )
    with SharedWorkspace(db.planner) as p:
        vp = read_versions(p)
        res = send_rows(p, diff_rows(s, mixed), vp)
        assert res.refused and not res.saved and len(res.rolled_back) == 2
        assert p.get("stockpiles", (sp.id,)).values["name"] == sp.name


def test_document_rows_plans_and_event_log_are_diffed_sent_and_audited(db: SharedDb) -> None:
    ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
    docs = {k: dict(v) for k, v in ws.documents.items()}
    plan = {"number": "T-DOC-1", "status": "草稿"}
    stored = {**docs, "plans": {"T-DOC-1": json.dumps(plan, ensure_ascii=False)}}
    approved = {
        **stored,
        "plans": {"T-DOC-1": json.dumps({**plan, "status": "已批准"}, ensure_ascii=False)},
        "event_log": {"e-1": json.dumps({"plan": "T-DOC-1", "to": "已批准"}, ensure_ascii=False)},
    }
    assert diff_documents(docs, docs) == []
    assert [(c.op, c.key) for c in diff_documents(docs, stored)] == [
        ("insert", ("plans", "T-DOC-1"))
    ]
    step = diff_documents(stored, approved)
    assert {(c.op, c.key) for c in step} == {
        ("update", ("plans", "T-DOC-1")),
        ("insert", ("event_log", "e-1")),
    }
    # map layers are the planner's documents: an operator's desk never sends them
    from gis.workspace.postgis_ddl import writable_documents

    no_layers = {**docs, "map_layers": {}}
    assert diff_documents(docs, no_layers, writable_documents("rd_operator")) == []
    assert {(c.op, c.key[0]) for c in diff_documents(docs, no_layers)} == {
        ("delete", "map_layers")
    }
    with SharedWorkspace(db.planner) as p:  # plans are the operator's: refused, nothing saved
        res = send_rows(p, diff_documents(docs, stored), read_versions(p))
        assert res.refused and not res.saved
    with SharedWorkspace(db.operator) as op:
        since = op.data_version()
        assert len(send_rows(op, diff_documents(docs, stored), read_versions(op)).saved) == 1
        assert len(send_rows(op, step, read_versions(op)).saved) == 2
        rows = read_audit(op.conn, table="documents", since_id=since)
    assert [(r.op, r.key, r.who) for r in rows] == [
        ("INSERT", "plans/T-DOC-1", "rd_operator"),
        ("UPDATE", "plans/T-DOC-1", "rd_operator"),
        ("INSERT", "event_log/e-1", "rd_operator"),
    ]
    assert json.loads(rows[1].before["json"])["status"] == "草稿"
    assert json.loads(rows[1].after["json"])["status"] == "已批准"


def test_a_desk_sends_only_the_document_kinds_its_role_may_write() -> None:
    """A planner's or viewer's plans and log stay in its copy (no refusal message each time);
    the operator sends plans and the log, the planner the 预案 templates, map layers and drill
    scripts."""
    from gis.workspace.postgis_ddl import writable_documents

    old: dict[str, dict[str, str]] = {}
    new = {
        "plans": {"HJ-1": "{}"},
        "event_log": {"1": "{}"},
        "plan_templates": {"t": "{}"},
        "map_layers": {"rivers": "{}"},
        "drill_scripts": {"d": "{}"},
    }

    def kinds(role: str) -> set[str]:
        return {c.key[0] for c in diff_documents(old, new, writable_documents(role))}

    assert kinds("rd_operator") == {"plans", "event_log"}
    assert kinds("rd_planner") == {"plan_templates", "map_layers", "drill_scripts"}
    assert kinds("rd_viewer") == set()
    assert kinds("rd_admin") == set(new)
